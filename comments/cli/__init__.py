"""Operator commands under `flask --app wsgi comments ...`."""
from __future__ import annotations

import json
import threading
from collections.abc import Callable

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from .. import mail
from ..errors import ApiError
from ..extensions import db
from ..models import SETTINGS, LabelledExample, Moderation, Role, Site
from ..services import accounts, privacy, sites, sso
from . import transfer

group = AppGroup("comments", help="Manage the comment service.")
group.add_command(transfer.import_group)
group.add_command(transfer.export_site)


@group.command("create-site")
@click.argument("slug")
@click.option("--name", required=True, help="Shown to moderators.")
@click.option("--origin", "origins", multiple=True, required=True,
              help="An origin allowed to embed the widget and call the API (repeatable).")
@click.option("--moderation", type=click.Choice([m.value for m in Moderation]), default="post",
              show_default=True, help="pre: hold every comment; post: publish at once.")
@click.option("--if-absent", is_flag=True, help="Succeed quietly when the site exists already.")
def create_site(slug: str, name: str, origins: tuple[str, ...], moderation: str,
                if_absent: bool) -> None:
    """Create a site SLUG that pages on the given origins may embed."""
    if if_absent and db.session.scalar(db.select(Site).filter_by(slug=slug)) is not None:
        click.echo(f"Site {slug!r} exists already.")
        return
    try:
        site = sites.create_site(slug, name, origins, moderation)
    except ApiError as e:
        raise click.ClickException(e.message) from None
    click.echo(f"Created site {site.slug!r} for {', '.join(site.origins)}.")


@group.command("set-site")
@click.argument("slug")
@click.option("--moderation", type=click.Choice([m.value for m in Moderation]),
              help="pre: hold every comment; post: publish at once.")
@click.option("--name", help="Shown to moderators.")
@click.option("--origin", "origins", multiple=True,
              help="Set exactly these allowed origins (repeatable).")
@click.option("--add-origin", "added", multiple=True,
              help="Allow one more origin, keeping the others (repeatable).")
@click.option("--remove-origin", "removed", multiple=True,
              help="Stop allowing an origin; refused when it is not allowed (repeatable).")
@click.option("--set", "settings", multiple=True, metavar="NAME=VALUE",
              help="A per-site setting (repeatable); `comments settings` lists them.")
@click.option("--sso-secret", type=click.Choice(["rotate", "off"]),
              help="rotate: make a new single sign-on signing secret (printed once); off: stop SSO.")
@click.option("--sso-max-lifetime", "sso_max_lifetime", metavar="MINUTES",
              help="The longest a sign-on token may live, exp - iat (default 1440: 24 hours).")
def set_site(slug: str, moderation: str | None, name: str | None, origins: tuple[str, ...],
             added: tuple[str, ...], removed: tuple[str, ...], settings: tuple[str, ...],
             sso_secret: str | None, sso_max_lifetime: str | None) -> None:
    """Change the settings of site SLUG (logged like a moderator's change)."""
    if origins and (added or removed):
        raise click.UsageError("--origin sets the whole list: use it, or --add-origin and "
                               "--remove-origin, not both.")
    try:
        site = sites.get_site(slug)
        allowed = list(origins) or None
        if added or removed:
            allowed = sites.edit_origins(site, added, removed)
        values = {}
        for item in settings:
            key, sep, raw = item.partition("=")
            if not sep:
                raise click.BadParameter(f"{item!r} is not NAME=VALUE.", param_hint="--set")
            values[key.strip()] = sites.parse_setting(key.strip(), raw)
        lifetime = None if sso_max_lifetime is None else sso.parse_max_lifetime(sso_max_lifetime)
        sites.update_site(site, actor=None, name=name, origins=allowed,
                          moderation=moderation, values=values)
        if lifetime is not None:
            sso.set_max_lifetime(site, lifetime)
    except ApiError as e:
        raise click.ClickException(e.message) from None
    click.echo(f"Site {site.slug!r}: moderation {site.moderation.value}, "
               f"origins {', '.join(site.origins) or '(none: no page may embed it)'}.")
    if lifetime is not None:
        click.echo(f"Single sign-on tokens live at most {site.sso_max_lifetime_minutes} minutes.")
    if sso_secret == "rotate":
        click.echo(f"Single sign-on secret (sign readers' tokens with it; shown once): "
                   f"{sso.rotate_secret(site)}")
    elif sso_secret == "off":
        sso.disable(site)
        click.echo("Single sign-on is off.")
    for key in values:
        click.echo(f"  {key} = {site.setting(key)}")


@group.command("settings")
@click.argument("slug", required=False)
def show_settings(slug: str | None) -> None:
    """List the per-site settings with their defaults (and SLUG's values)."""
    site = None
    if slug:
        try:
            site = sites.get_site(slug)
        except ApiError as e:
            raise click.ClickException(e.message) from None
    for key, (_kind, default, doc) in SETTINGS.items():
        value = f" = {site.setting(key)}" if site else ""
        click.echo(f"{key}{value}  (default {default}): {doc}")


@group.command("export-examples")
@click.option("--site", "slug", help="Only this site's examples.")
def export_examples(slug: str | None) -> None:
    """Write moderators' labelled spam/ham decisions as JSON lines, for tuning the filter."""
    stmt = db.select(LabelledExample).order_by(LabelledExample.id)
    if slug:
        try:
            stmt = stmt.where(LabelledExample.site_id == sites.get_site(slug).id)
        except ApiError as e:
            raise click.ClickException(e.message) from None
    for example in db.session.scalars(stmt):
        click.echo(json.dumps({"label": example.label, "text": example.text,
                               "verdict": example.verdict, "comment_id": example.comment_id,
                               "at": example.created_at.isoformat() + "Z"}, ensure_ascii=False))


@group.command("create-moderator")
@click.argument("email")
@click.option("--role", type=click.Choice([r.value for r in Role]), default="moderator",
              show_default=True, help="Admins act on every site and manage sites and accounts.")
@click.option("--site", "site_slugs", multiple=True, help="A site a moderator acts on (repeatable).")
@click.password_option(help="Prompted for (twice) when not given.")
def create_moderator(email: str, role: str, site_slugs: tuple[str, ...], password: str) -> None:
    """Create a moderator or admin account for EMAIL."""
    if role == "moderator" and not site_slugs:
        raise click.ClickException("A moderator needs at least one --site (or use --role admin).")
    try:
        account = accounts.create_moderator(email, password, role, site_slugs)
    except ApiError as e:
        raise click.ClickException(e.message) from None
    where = "every site" if account.is_admin else ", ".join(s.slug for s in account.sites)
    click.echo(f"Created {account.role.value} {account.email} for {where}.")


@group.command("set-password")
@click.argument("email")
def set_password(email: str) -> None:
    """Give the account EMAIL a new password (prompted for, twice), ending its sessions and
    revoking its API tokens. Never given on the command line, where shell history keeps it."""
    try:
        account = accounts.get_moderator(email)
        password = click.prompt("New password", hide_input=True, confirmation_prompt=True)
        accounts.set_password(account, password)
    except ApiError as e:
        raise click.ClickException(e.message) from None
    click.echo(f"New password set for {account.email}; its sessions have ended and its API "
               "tokens are revoked.")


@group.command("purge")
@click.option("--days", type=click.IntRange(min=0), help="Override COMMENTS_IP_RETENTION_DAYS.")
def purge(days: int | None) -> None:
    """Erase the IP addresses of comments older than the retention period (default 30 days)."""
    keep = days if days is not None else current_app.config["IP_RETENTION_DAYS"]
    click.echo(f"Erased the address of {privacy.purge_addresses(keep)} comments older than {keep} days.")


def _author_options(command: Callable[..., None]) -> Callable[..., None]:
    """The author and the reach every privacy command takes."""
    options = [
        click.argument("who", metavar="EMAIL|IDENTITY"),
        click.option("--site", "slug", help="Only this site (required for a single sign-on "
                                            "identity, which names a reader of one site)."),
        click.option("--all-sites", is_flag=True, help="Every site (an email address only)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _reach(slug: str | None) -> Site | None:
    """The site named by --site, if any."""
    if slug is None:
        return None
    try:
        return sites.get_site(slug)
    except ApiError as e:
        raise click.ClickException(e.message) from None


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _describe(erasure: privacy.Erasure) -> None:
    """Per site, the comments an erasure touches; then the queued mail."""
    for share in erasure.sites:
        kept = (f", {share.replied} of them replied to (kept as erased placeholders)"
                if erasure.delete_rows and share.replied else "")
        click.echo(f"  {share.site}: {_plural(share.comments, 'comment')}{kept}")
    if erasure.mails:
        click.echo(f"  {_plural(erasure.mails, 'queued email')} to them")


@group.command("forget")
@_author_options
@click.option("--delete-rows", is_flag=True,
              help="Delete the comments outright instead of leaving deleted placeholders.")
@click.option("--yes", is_flag=True, help="Act at once, without listing and asking first.")
def forget(who: str, slug: str | None, all_sites: bool, delete_rows: bool, yes: bool) -> None:
    """Erase an author's personal data (by email, or single sign-on identity with --site).

    Without --yes, lists what would be erased on each site and asks first.
    """
    site = _reach(slug)
    try:
        if not yes:
            plan = privacy.preview(who, site, all_sites, delete_rows)
            if not plan.comments and not plan.mails:
                click.echo(f"Nothing is stored about {plan.who}"
                           f"{f' on {site.slug}' if site else ''}.")
                return
            click.echo(f"Stored about {plan.who}:")
            _describe(plan)
            what = "deleting" if delete_rows else "leaving erased placeholders of"
            click.confirm(f"Erase all of this ({what} the comments)?", abort=True)
        done = privacy.forget(who, site, all_sites, delete_rows)
    except ApiError as e:
        raise click.ClickException(e.message) from None
    click.echo(f"Forgot {done.who}: {_plural(done.comments, 'comment')} "
               f"{'deleted' if delete_rows else 'erased to placeholders'}.")
    _describe(done)


@group.command("export-author")
@_author_options
def export_author(who: str, slug: str | None, all_sites: bool) -> None:
    """Write everything stored about an author's comments as JSON (for an access request)."""
    site = _reach(slug)
    try:
        comments = list(privacy.export_author(who, site, all_sites))
    except ApiError as e:
        raise click.ClickException(e.message) from None
    click.echo(json.dumps({"author": who, "comments": comments}, ensure_ascii=False, indent=2))


@group.command("send-mail")
@click.option("--loop", "interval", type=click.IntRange(min=1), metavar="SECONDS",
              help="Keep running, a round every SECONDS (a mail worker of its own).")
def send_mail(interval: int | None) -> None:
    """Queue moderators' digests, then send the mail that is due, with retries."""
    if not current_app.config["MAIL_SERVER"]:
        raise click.ClickException("Mail is off: set COMMENTS_MAIL_SERVER and COMMENTS_PUBLIC_URL.")
    if interval is None:
        _mail_report(mail.work_round())
        return
    click.echo(f"Sending mail every {interval} seconds; stop with Ctrl-C.")
    mail.serve(current_app._get_current_object(), interval, threading.Event(),
               report=lambda counts: _mail_report(counts) if any(counts) else None)


def _mail_report(counts: tuple[int, int, int]) -> None:
    digests, sent, failed = counts
    click.echo(f"Queued {digests} digests; sent {sent} emails, {failed} failed (kept for a retry).")


def init_app(app: Flask) -> None:
    """Register the `comments` command group."""
    app.cli.add_command(group)
