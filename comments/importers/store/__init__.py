"""Writing imported records through the models: threads by key, each comment once, parents last."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from ...extensions import db
from ...models import Site
from ..records import Record, Summary
from ..source import Progress
from .writer import Rewrite, Writer, rewrite_url

__all__ = ["Rewrite", "Source", "rewrite_url", "run"]


class Source(Protocol):
    """What run reads: a check that fails before any write, then the records, and the progress."""

    progress: Progress

    def check(self) -> None: ...

    def __iter__(self) -> Iterator[Record]: ...


def run(source: Source, site: Site, rewrite: Rewrite = (), dry_run: bool = False,
        trust_identities: bool = False) -> Summary:
    """Import every record of `source` into `site`, committing in batches (never in a dry run).

    The source is checked whole first, so a file that is not importable raises ImportFailed
    before anything is written. Records already imported (by their source ids) are counted, not
    written again; replies are attached to their parents once the whole file has been read.
    Identities and credentials a file claims (writer.CLAIMS) are kept only with
    `trust_identities`: anyone can write them into a file.
    """
    source.check()
    writer = Writer(site, rewrite, dry_run, trust_identities)
    try:
        for record in source:
            writer.take(record)
        writer.finish()
    except BaseException:
        db.session.rollback()
        raise
    if dry_run:
        db.session.rollback()
    return writer.summary
