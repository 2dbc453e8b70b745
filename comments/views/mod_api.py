"""The moderation actions as JSON under /api/v1/mod, for integrations holding an API token."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, g, jsonify, request

from ..errors import Invalid, Unauthorized
from ..models import AuditEntry, Ban, Comment, CommentRevision, CommentStatus
from ..sanitize import excerpt
from ..services import accounts, moderation, queue
from ..services.sites import get_site
from . import params
from .payload import iso, json_body

bp = Blueprint("mod_api", __name__, url_prefix="/api/v1/mod")


@bp.before_request
def authenticate() -> None:
    """Every call needs `Authorization: Bearer TOKEN` of an active account."""
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    moderator = accounts.moderator_for_token(secret.strip()) \
        if scheme.lower() == "bearer" and secret.strip() else None
    if moderator is None:
        raise Unauthorized("Send a valid API token as 'Authorization: Bearer TOKEN'.")
    g.moderator = moderator


def _page_json(page: queue.Page, items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"total": page.total, "page": page.page, "pages": page.pages, "items": items}


def _comments_json(page: queue.Page[Comment]) -> Response:
    parents, histories = queue.parents(page.items), queue.histories(page.items)
    previous = queue.previous_versions(page.items)
    return jsonify(_page_json(page, [
        _comment_json(c, parents.get(c.parent_id or 0), histories.get(queue.author_key(c)),
                      previous.get(c.id))
        for c in page.items]))


def _revision_json(r: CommentRevision) -> dict[str, Any]:
    """An earlier version of a comment: the text an edit replaced, when, and by whom."""
    return {"text": r.text, "html": r.html, "replaced_at": iso(r.created_at),
            "editor": r.editor.value, "moderator": r.moderator.email if r.moderator else None}


def _comment_json(c: Comment, parent: Comment | None = None,
                  history: queue.History | None = None,
                  previous: CommentRevision | None = None) -> dict[str, Any]:
    """A comment as moderators see it: with the author's email, address, record, and the text
    before its latest edit."""
    return {
        "id": c.id, "status": c.status.value, "featured": c.featured, "reasons": c.reasons,
        "site": c.thread.site.slug,
        "thread": {"id": c.thread_id, "article": c.thread.article_key, "url": c.thread.url,
                   "title": c.thread.title},
        "parent": {"id": parent.id, "author": parent.author_name, "excerpt": excerpt(parent.html)}
        if parent else None,
        "author": {"name": c.author_name, "email": c.author_email, "website": c.author_website,
                   "ip": c.client_ip},
        "history": history.__dict__ | {"first_seen": iso(history.first_seen)} if history else None,
        "text": c.text, "html": c.html,
        "previous": _revision_json(previous) if previous else None,
        "created_at": iso(c.created_at), "edited_at": iso(c.edited_at),
        "moderated_at": iso(c.moderated_at),
    }


def _entry_json(e: AuditEntry) -> dict[str, Any]:
    return {"id": e.id, "at": iso(e.created_at), "moderator": e.moderator.email if e.moderator else None,
            "site": e.site.slug if e.site else None, "comment_id": e.comment_id, "action": e.action,
            "status_before": e.status_before, "status_after": e.status_after, "reason": e.reason,
            "detail": e.detail}


def _ban_json(b: Ban) -> dict[str, Any]:
    return {"id": b.id, "site": b.site.slug, "email": b.email, "ip": b.ip, "reason": b.reason,
            "created_at": iso(b.created_at), "expires_at": iso(b.expires_at),
            "lifted_at": iso(b.lifted_at)}


@bp.get("/queue")
def pending() -> Response:
    """Pending comments, oldest first."""
    return _comments_json(queue.pending(g.moderator, request.args.get("site") or None,
                                        request.args.get("article") or None, params.number("page", 1)))


@bp.get("/comments")
def comments() -> Response:
    """Every comment of the token's sites, newest first, filtered like /mod/comments."""
    status = request.args.get("status") or None
    if status is not None and status not in {s.value for s in CommentStatus}:
        raise Invalid("Unknown status.", "status")
    filters = queue.Filters(status=CommentStatus(status) if status else None,
                            site=request.args.get("site") or None,
                            article=request.args.get("article") or None,
                            author=request.args.get("author") or None, q=request.args.get("q") or None)
    return _comments_json(queue.search(g.moderator, filters, params.number("page", 1)))


@bp.get("/comments/<id:comment_id>")
def comment(comment_id: int) -> Response:
    """One comment with its context, its earlier versions and its own log."""
    item = moderation.get_comment(g.moderator, comment_id)
    parent = queue.parents([item]).get(item.parent_id or 0)
    history = queue.histories([item]).get(queue.author_key(item))
    log = queue.log(g.moderator, comment_id=item.id, per_page=100)
    revisions = queue.revisions(item)
    latest = revisions[0] if revisions else None
    return jsonify(comment=_comment_json(item, parent, history, latest),
                   revisions=[_revision_json(r) for r in revisions],
                   log=[_entry_json(e) for e in log.items])


@bp.post("/actions")
def act() -> Response:
    """`{"action", "ids": [...], "reason"?}`: one action on several comments, all or none."""
    body = json_body()
    ids = body.get("ids")
    if not isinstance(ids, list) or not all(isinstance(i, int) and not isinstance(i, bool)
                                            for i in ids):
        raise Invalid("'ids' is a list of comment ids.", "ids")
    action, reason = body.get("action"), body.get("reason")
    if not isinstance(action, str) or (reason is not None and not isinstance(reason, str)):
        raise Invalid("'action' and 'reason' are strings.", "action")
    done = moderation.apply(g.moderator, ids, action, reason)
    return jsonify(comments=[{"id": c.id, "status": c.status.value, "featured": c.featured}
                             for c in done])


@bp.post("/threads/<id:thread_id>")
def thread(thread_id: int) -> Response:
    """`{"closed": true|false}`: close a thread to new comments, or open it again."""
    closed = json_body().get("closed")
    if not isinstance(closed, bool):
        raise Invalid("'closed' is true or false.", "closed")
    found = moderation.set_closed(g.moderator, thread_id, closed)
    return jsonify(thread={"id": found.id, "article": found.article_key,
                           "closed": found.closed_at is not None})


@bp.get("/bans")
def bans() -> Response:
    """The newest bans on the token's sites."""
    return jsonify(bans=[_ban_json(b) for b in moderation.list_bans(g.moderator)])


@bp.post("/bans")
def ban() -> tuple[Response, int]:
    """`{"site", "email"?, "ip"?, "only_this_address"?, "reason"?, "days"?, "remove_pending"?}`:
    ban an author (an IPv6 address bans its /64 unless `only_this_address`)."""
    body = json_body()
    days = body.get("days")
    if days is not None and (isinstance(days, bool) or not isinstance(days, int)):
        raise Invalid("'days' is a whole number, or null for good.", "days")
    for key in ("email", "ip", "reason"):
        if body.get(key) is not None and not isinstance(body[key], str):
            raise Invalid(f"'{key}' is a string.", key)
    if body.get("only_this_address") not in (None, True, False):
        raise Invalid("'only_this_address' is true or false.", "only_this_address")
    site = get_site(body.get("site"))
    entry = moderation.ban(g.moderator, site, email=body.get("email"), ip=body.get("ip"),
                           reason=body.get("reason"), days=days,
                           remove_pending=body.get("remove_pending") is True,
                           only_this_address=body.get("only_this_address") is True)
    return jsonify(ban=_ban_json(entry)), 201


@bp.post("/bans/<id:ban_id>/lift")
def lift(ban_id: int) -> Response:
    """End a ban now."""
    return jsonify(ban=_ban_json(moderation.lift_ban(g.moderator, ban_id)))


@bp.get("/log")
def log() -> Response:
    """The audit log of the token's sites, newest first."""
    page = queue.log(g.moderator, site=request.args.get("site") or None,
                     moderator_id=params.number("moderator"), page=params.number("page", 1))
    return jsonify(_page_json(page, [_entry_json(e) for e in page.items]))
