"""Moving comments in and out: `comments import FORMAT FILE` and `comments export`."""
from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import TYPE_CHECKING, Any

import click
from flask.cli import AppGroup, with_appcontext

from ..errors import ApiError
from ..services import sites

if TYPE_CHECKING:
    from .. import importers

@click.group("import", cls=AppGroup)
def import_group() -> None:
    """Import threads and comments from another comment system's export, or from ours."""


def _import_options(command: Callable[..., None]) -> Callable[..., None]:
    """The arguments every import command takes."""
    options = [
        click.argument("file", type=click.Path(exists=True, dir_okay=False)),
        click.option("--site", "slug", required=True, help="The site to import into."),
        click.option("--rewrite-url", "rewrites", multiple=True, metavar="OLD=NEW",
                     help="Move article URLs and keys starting with OLD to start with NEW "
                          "(repeatable; OLD holds no '=')."),
        click.option("--dry-run", is_flag=True, help="Read and check everything; write nothing."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@import_group.command("disqus")
@_import_options
def import_disqus(file: str, slug: str, rewrites: tuple[str, ...], dry_run: bool) -> None:
    """Import a Disqus XML export (or a file in Disqus's WXR import format)."""
    _import("disqus", file, slug, rewrites, dry_run)


@import_group.command("wordpress")
@_import_options
def import_wordpress(file: str, slug: str, rewrites: tuple[str, ...], dry_run: bool) -> None:
    """Import a WordPress export (WXR), plain, gzipped or zipped; pingbacks are left out."""
    _import("wordpress", file, slug, rewrites, dry_run)


@import_group.command("isso")
@_import_options
def import_isso(file: str, slug: str, rewrites: tuple[str, ...], dry_run: bool) -> None:
    """Import Isso's SQLite database file (or Isso's generic JSON import file)."""
    _import("isso", file, slug, rewrites, dry_run)


@import_group.command("commento")
@_import_options
def import_commento(file: str, slug: str, rewrites: tuple[str, ...], dry_run: bool) -> None:
    """Import a Commento (version 1) or Comentario (version 3) JSON export."""
    _import("commento", file, slug, rewrites, dry_run)


@import_group.command("json")
@_import_options
@click.option("--trust-identities", is_flag=True,
              help="Keep the single sign-on identities (the \"verified\" badge), reader keys and "
                   "edit tokens the file names: only for a file you exported yourself.")
def import_json(file: str, slug: str, rewrites: tuple[str, ...], dry_run: bool,
                trust_identities: bool) -> None:
    """Import a file written by `comments export`.

    Each comment in the file names where it came from. Imported into the site it came from, the
    comments already there are recognised and left as they are (nothing doubles); into another
    site, they are copied, and a second run adds nothing.
    """
    _import("json", file, slug, rewrites, dry_run, trust_identities)


def _import(kind: str, file: str, slug: str, rewrites: tuple[str, ...], dry_run: bool,
            trust_identities: bool = False) -> None:
    """Run one import with a progress bar, then print its summary and each problem."""
    from .. import importers  # the readers and XML parsers: never loaded by a web worker

    rules = []
    for rule in rewrites:
        old, sep, new = rule.partition("=")
        if not sep or not old:
            raise click.BadParameter(f"{rule!r} is not OLD=NEW.", param_hint="--rewrite-url")
        rules.append((old, new))
    try:
        site = sites.get_site(slug)
        source = importers.READERS[kind](file)
        with _progress_bar(source.progress):
            summary = importers.run(source, site, rules, dry_run=dry_run,
                                    trust_identities=trust_identities)
    except ApiError as e:
        raise click.ClickException(e.message) from None
    except importers.ImportFailed as e:
        raise click.ClickException(f"{file}: {e}. Nothing was imported.") from None
    if dry_run:
        click.echo("Dry run: nothing was written.")
    click.echo(str(summary))
    for problem in sorted(summary.problems, key=lambda p: p.line or 0):
        click.echo(str(problem))
    if summary.problem_count > len(summary.problems):
        click.echo(f"... and {summary.problem_count - len(summary.problems)} more problems.")


@contextmanager
def _progress_bar(progress: importers.Progress) -> Iterator[None]:
    """A progress bar on standard error, shown from the first byte (or row) read."""
    with ExitStack() as stack:
        bars: list[Any] = []

        def hook(done: int) -> None:
            if not bars:
                bars.append(stack.enter_context(click.progressbar(
                    length=max(progress.total, 1), label="Importing", file=sys.stderr)))
            bar = bars[0]
            # Redrawing at every step would cost more than the reading: every 0.1% is plenty.
            if done - bar.pos >= max(progress.total // 1000, 1) or done >= progress.total:
                bar.update(max(done - bar.pos, 0))

        progress.hook = hook
        try:
            yield
        finally:
            progress.hook = None


@click.command("export")
@with_appcontext
@click.option("--site", "slug", required=True, help="The site to export.")
@click.option("--output", default="-", type=click.Path(dir_okay=False, writable=True),
              help="Write to this file rather than to standard output.")
def export_site(slug: str, output: str) -> None:
    """Write every thread and comment of --site as JSON lines (emails and addresses included)."""
    from .. import importers

    try:
        site = sites.get_site(slug)
    except ApiError as e:
        raise click.ClickException(e.message) from None
    lines = 0
    with click.open_file(output, "w", encoding="utf-8") as out:
        for item in importers.export(site):
            out.write(json.dumps(item, ensure_ascii=False) + "\n")
            lines += 1
    if output != "-":
        click.echo(f"Wrote {lines - 1} threads and comments of {site.slug!r} to {output}.")
