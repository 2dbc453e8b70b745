"""The queue, every comment, one comment in context, and the actions on them."""
from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for

from ...models import CommentStatus
from ...security import local_target
from ...services import moderation, queue
from ...services.sites import get_site
from .. import params

bp = Blueprint("moderate", __name__)

STATUS_CHOICES = [s.value for s in CommentStatus]
BAN_DAYS = {"1": 1, "7": 7, "30": 30, "365": 365, "forever": None}


def _context(page: queue.Page) -> dict[str, Any]:
    """Everything a comment card shows besides the comment: parents, authors' histories and the
    text before the latest edit."""
    return {"parents": queue.parents(page.items), "histories": queue.histories(page.items),
            "author_key": queue.author_key,
            "previous_versions": queue.previous_versions(page.items)}


@bp.get("/")
@bp.get("/queue")
def queue_page() -> str:
    """Pending comments, oldest first, with all a moderator needs to decide."""
    site, article = request.args.get("site") or None, request.args.get("article") or None
    page = queue.pending(g.moderator, site, article, params.number("page", 1))
    if site is None and article is None:
        g.queue_count = page.total
    return render_template("mod/queue.html", page=page, site=site, article=article,
                           query={"site": site, "article": article}, **_context(page))


@bp.get("/comments")
def comments() -> str:
    """Every comment of the moderator's sites, newest first, filtered."""
    status = request.args.get("status") or None
    if status is not None and status not in STATUS_CHOICES:
        abort(400, "Unknown status.")
    filters = queue.Filters(status=CommentStatus(status) if status else None,
                            site=request.args.get("site") or None,
                            article=request.args.get("article") or None,
                            author=request.args.get("author") or None,
                            q=request.args.get("q") or None)
    page = queue.search(g.moderator, filters, params.number("page", 1))
    return render_template("mod/comments.html", page=page, filters=filters,
                           query=asdict(filters) | {"status": status},
                           statuses=STATUS_CHOICES, **_context(page))


@bp.get("/comments/<id:comment_id>")
def comment(comment_id: int) -> str:
    """One comment in its context, with its earlier versions and its own history."""
    item = moderation.get_comment(g.moderator, comment_id)
    page = queue.Page([item], 1, 1, 1)
    log = queue.log(g.moderator, comment_id=item.id, per_page=100)
    return render_template("mod/comment.html", item=item, page=page, log=log,
                           revisions=queue.revisions(item), **_context(page))


@bp.post("/actions")
def act() -> Response:
    """Apply an action to one comment (its own button) or to the selected ones (bulk buttons)."""
    one = request.form.get("one", "")
    if one:
        action, _, raw_id = one.partition(":")
        ids = params.ids([raw_id], "one")
        reason = request.form.get(f"reason-{raw_id}") or request.form.get("reason")
    else:
        action = request.form.get("action", "")
        ids = params.ids(request.form.getlist("ids"), "ids")
        reason = request.form.get("reason")
    # Where to go afterwards is read first: a bad form changes nothing.
    target = _back(ids, params.ids(request.form.get("order", "").split(","), "order"))
    moderation.apply(g.moderator, ids, action, reason)
    flash(f"{_done(action)} {len(ids)} comment{'s' if len(ids) != 1 else ''}.")
    return redirect(target)


def _done(action: str) -> str:
    return {"approve": "Approved", "remove": "Removed", "spam": "Marked as spam",
            "feature": "Featured", "unfeature": "Unfeatured"}.get(action, action)


def _back(acted: list[int], order: list[int]) -> str:
    """Back where the moderator was, focused on the next comment they have not acted on yet."""
    target = local_target(request.form.get("next")) or url_for("mod.moderate.queue_page")
    if acted and acted[-1] in order:
        if request.form.get("stay"):
            return f"{target}#c{acted[-1]}"
        rest = [cid for cid in order[order.index(acted[-1]) + 1:] if cid not in acted]
        if rest:
            return f"{target}#c{rest[0]}"
    return target


@bp.post("/threads/<id:thread_id>/<any(close, open):change>")
def close_thread(thread_id: int, change: str) -> Response:
    """Close a thread to new comments, or open it again."""
    target = local_target(request.form.get("next"), "/mod/") or url_for("mod.moderate.queue_page")
    thread = moderation.set_closed(g.moderator, thread_id, change == "close")
    flash(f"{'Closed' if change == 'close' else 'Opened'} comments on {thread.title or thread.article_key}.")
    return redirect(target)


@bp.get("/comments/<id:comment_id>/ban")
def ban_form(comment_id: int) -> str:
    """The ban form, filled in from a comment's author."""
    item = moderation.get_comment(g.moderator, comment_id)
    return render_template("mod/ban.html", item=item, days=BAN_DAYS)


@bp.post("/bans")
def ban() -> Response:
    """Ban an author from a site."""
    site = get_site(request.form.get("site", ""))
    days_key = request.form.get("days", "forever")
    if days_key not in BAN_DAYS:
        abort(400, "Unknown ban length.")
    entry = moderation.ban(
        g.moderator, site,
        email=request.form.get("email") if request.form.get("by_email") else None,
        ip=request.form.get("ip") if request.form.get("by_ip") else None,
        reason=request.form.get("reason"), days=BAN_DAYS[days_key],
        remove_pending=bool(request.form.get("remove_pending")),
        only_this_address=bool(request.form.get("only_this_address")),
    )
    flash(f"Banned {' and '.join(v for v in (entry.email, entry.ip) if v)} on {site.name}.")
    return redirect(url_for("mod.moderate.bans"))


@bp.get("/bans")
def bans() -> str:
    """Bans in force and past, on the moderator's sites."""
    return render_template("mod/bans.html", bans=moderation.list_bans(g.moderator))


@bp.post("/bans/<id:ban_id>/lift")
def lift(ban_id: int) -> Response:
    """End a ban now."""
    moderation.lift_ban(g.moderator, ban_id)
    flash("Ban lifted.")
    return redirect(url_for("mod.moderate.bans"))

