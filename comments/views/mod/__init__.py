"""The moderator pages under /mod: a parent blueprint that loads the session's account for all of them."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, g, redirect, render_template, request, session, url_for

from ... import __version__
from ...errors import ApiError
from ...extensions import db
from ...models import Moderator, Site
from ...sanitize import excerpt
from ...services import queue
from . import admin, auth, moderate, readers, threads

bp = Blueprint("mod", __name__, url_prefix="/mod")
for child in (auth.bp, moderate.bp, admin.bp, threads.bp, readers.bp):
    bp.register_blueprint(child)

# Reachable without a session; every other /mod page needs one.
PUBLIC_ENDPOINTS = {"mod.auth.login"}


@bp.before_request
def load_moderator() -> Response | None:
    """Put the session's account in g.moderator, or send the visitor to the login page."""
    g.moderator = None
    moderator_id = session.get("moderator_id")
    if moderator_id is not None:
        moderator = db.session.get(Moderator, moderator_id)
        # A session from before the account's last logout or change carries an older generation.
        if (moderator is not None and moderator.active
                and session.get("generation") == moderator.session_generation):
            g.moderator = moderator
        else:
            session.clear()
    if g.moderator is None and request.endpoint not in PUBLIC_ENDPOINTS:
        if request.method != "GET":
            abort(403)
        return redirect(url_for("mod.auth.login", next=request.full_path.rstrip("?")))
    return None


@bp.app_context_processor
def moderator_context() -> dict[str, Any]:
    """The account and its queue length, shown on every moderator page (and the release, in the
    footer, to a moderator only)."""
    moderator = g.get("moderator")
    if moderator is None:
        return {"moderator": None, "queue_count": 0, "filter_sites": []}
    # The queue page has counted the whole queue already when it shows all of it.
    count = g.get("queue_count")
    return {"moderator": moderator, "version": __version__,
            "queue_count": queue.pending_count(moderator) if count is None else count,
            "filter_sites": moderator.sites if not moderator.is_admin
            else db.session.scalars(db.select(Site).order_by(Site.slug)).all()}


@bp.app_template_filter("excerpt")
def excerpt_filter(html: str) -> str:
    """A short plain-text excerpt of sanitized HTML (autoescaped where it is shown)."""
    return excerpt(html)


@bp.after_request
def no_store(response: Response) -> Response:
    """Moderator pages hold personal data: never cache them anywhere."""
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.errorhandler(ApiError)
def refused(e: ApiError) -> tuple[str, int]:
    """A refused action or change, as a page in the moderator's layout."""
    db.session.rollback()
    return render_template("mod/refused.html", error=e), e.status
