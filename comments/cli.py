"""Operator commands under `flask --app wsgi comments ...`."""
from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from .errors import ApiError
from .extensions import db
from .models import Moderation, Site
from .services import sites

group = AppGroup("comments", help="Manage the comment service.")


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


def init_app(app: Flask) -> None:
    """Register the `comments` command group."""
    app.cli.add_command(group)
