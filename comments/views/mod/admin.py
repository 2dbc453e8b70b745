"""Sites, accounts, API tokens and the audit log."""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for

from ...extensions import db
from ...models import Moderation, Moderator, Role, Site
from ...services import accounts, queue, sites

bp = Blueprint("admin", __name__)
F = TypeVar("F", bound=Callable[..., Any])


def admin_required(view: F) -> F:
    """Refuse anyone but an admin with 403."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not g.moderator.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


@bp.get("/log")
def log() -> str:
    """Every action on the moderator's sites, newest first, by moderator and site."""
    moderator_id = request.args.get("moderator", "")
    page_arg = request.args.get("page", "1")
    if (moderator_id and not moderator_id.isdigit()) or not page_arg.isdigit():
        abort(400, "Filters must be whole numbers.")
    page = queue.log(g.moderator, site=request.args.get("site") or None,
                     moderator_id=int(moderator_id) if moderator_id else None, page=int(page_arg))
    people = db.session.scalars(db.select(Moderator).order_by(Moderator.email)).all()
    return render_template("mod/log.html", page=page, people=people,
                           site=request.args.get("site", ""), moderator_id=moderator_id)


@bp.get("/sites")
@admin_required
def site_list() -> str:
    """Every site, with its origins and moderation mode."""
    return render_template("mod/sites.html", sites=db.session.scalars(
        db.select(Site).order_by(Site.slug)).all(), modes=[m.value for m in Moderation])


@bp.post("/sites")
@admin_required
def site_create() -> Response:
    """Create a site from the admin page."""
    site = sites.create_site(request.form.get("slug", "").strip(), request.form.get("name", ""),
                             request.form.get("origins", "").split(),
                             request.form.get("moderation", "post"), actor=g.moderator)
    flash(f"Created {site.name}.")
    return redirect(url_for("mod.admin.site_list"))


@bp.post("/sites/<slug>")
@admin_required
def site_update(slug: str) -> Response:
    """Change a site's name, origins and moderation mode."""
    site = sites.get_site(slug)
    sites.update_site(site, actor=g.moderator, name=request.form.get("name"),
                      origins=request.form.get("origins", "").split(),
                      moderation=request.form.get("moderation"))
    flash(f"Saved {site.name}.")
    return redirect(url_for("mod.admin.site_list"))


@bp.get("/moderators")
@admin_required
def moderators() -> str:
    """Every account, for admins to create, promote, demote and deactivate."""
    return render_template("mod/moderators.html", people=db.session.scalars(
        db.select(Moderator).order_by(Moderator.email)).all(),
        sites=db.session.scalars(db.select(Site).order_by(Site.slug)).all(),
        roles=[r.value for r in Role])


@bp.post("/moderators")
@admin_required
def moderator_create() -> Response:
    """Create an account."""
    person = accounts.create_moderator(request.form.get("email", ""),
                                       request.form.get("password", ""),
                                       request.form.get("role", "moderator"),
                                       request.form.getlist("sites"))
    flash(f"Created an account for {person.email}.")
    return redirect(url_for("mod.admin.moderators"))


@bp.post("/moderators/<id:moderator_id>")
@admin_required
def moderator_update(moderator_id: int) -> Response:
    """Change an account's role, sites or whether it may log in."""
    person = db.get_or_404(Moderator, moderator_id)
    role = request.form.get("role")
    if role not in (None, *[r.value for r in Role]):
        abort(400, "Unknown role.")
    accounts.update_moderator(g.moderator, person, role=role,
                              site_slugs=request.form.getlist("sites"),
                              active=request.form.get("active") == "on")
    flash(f"Saved {person.email}.")
    return redirect(url_for("mod.admin.moderators"))


@bp.get("/tokens")
def tokens() -> str:
    """The moderator's own API tokens."""
    return render_template("mod/tokens.html", tokens=g.moderator.tokens, secret=None)


@bp.post("/tokens")
def token_create() -> str:
    """Create a token and show its secret, once."""
    token, secret = accounts.create_api_token(g.moderator, request.form.get("name", ""))
    return render_template("mod/tokens.html", tokens=g.moderator.tokens, secret=secret,
                           created=token)


@bp.post("/tokens/<id:token_id>/revoke")
def token_revoke(token_id: int) -> Response:
    """Revoke one of the moderator's tokens."""
    accounts.revoke_api_token(g.moderator, token_id)
    flash("Token revoked.")
    return redirect(url_for("mod.admin.tokens"))

