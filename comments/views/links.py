"""The pages behind links sent by mail: a reader's unsubscribe, and a moderator's approve or remove.

Nothing here needs a login: the signed link is the credential. So these routes live outside the
`mod` blueprint, whose guard would send a moderator reading mail on another device to the login.
"""
from __future__ import annotations

from flask import Blueprint, Response, render_template, request

from ..errors import ApiError
from ..extensions import csrf, db
from ..services import links

bp = Blueprint("links", __name__)


@bp.get("/unsubscribe/<token>")
def unsubscribe(token: str) -> str:
    """Ask before stopping reply emails: a GET changes nothing, since mail scanners follow links."""
    return render_template("links/unsubscribe.html", subscriber=links.read_unsubscribe(token),
                           token=token, done=False)


@bp.post("/unsubscribe/<token>")
@csrf.exempt
def unsubscribe_confirm(token: str) -> str:
    """Stop reply emails. Mail clients POST here for a one-click unsubscribe (RFC 8058) without
    a CSRF token, so the signed token is the only credential asked for."""
    return render_template("links/unsubscribe.html", subscriber=links.unsubscribe(token),
                           token=token, done=True)


@bp.get("/mod/mail/<token>")
def moderation_link(token: str) -> str:
    """Show the comment and ask to confirm the link's action: a GET approves or removes nothing."""
    return render_template("links/moderate.html", link=links.read_moderation_link(token),
                           token=token)


@bp.post("/mod/mail/<token>")
def moderation_confirm(token: str) -> str:
    """Approve or remove as the link's moderator (logged as theirs); the link is then spent."""
    link = links.use_moderation_link(token, request.form.get("reason"))
    return render_template("links/moderated.html", link=link)


@bp.errorhandler(ApiError)
def refused(e: ApiError) -> tuple[str, int]:
    """An invalid, expired or used link, or a refused action, as a page."""
    db.session.rollback()
    return render_template("links/refused.html", error=e), e.status


@bp.after_request
def no_store(response: Response) -> Response:
    """The token is in the address and the page may show personal data: never cache it."""
    response.headers["Cache-Control"] = "no-store"
    return response
