"""Personal data: addresses kept only so long, and an author's data given back or forgotten."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from ..extensions import db
from ..models import AuditEntry, Comment, CommentStatus, OutboxItem, Thread, utcnow
from .moderation import bump_threads


def purge_addresses(days: int) -> int:
    """Erase the client address of every comment older than `days`; returns how many."""
    cutoff = utcnow() - timedelta(days=days)
    result = db.session.execute(db.update(Comment).where(
        Comment.created_at < cutoff, Comment.client_ip.is_not(None)).values(client_ip=None))
    db.session.commit()
    return result.rowcount or 0


def _authored(who: str) -> Any:
    """Comments by an email address (any case) or a single sign-on identity."""
    who = who.strip()
    if "@" in who:
        return db.func.lower(Comment.author_email) == who.lower()
    return Comment.sso_id == who


def export_author(who: str) -> Iterator[dict[str, Any]]:
    """Everything stored about an author's comments, for handing back to them."""
    rows = db.session.execute(db.select(Comment, Thread).join(Thread, Thread.id == Comment.thread_id)
                              .where(_authored(who)).order_by(Comment.created_at, Comment.id))
    for comment, thread in rows:
        yield {
            "id": comment.id, "site": thread.site.slug, "article": thread.article_key,
            "url": thread.url, "title": thread.title, "parent_id": comment.parent_id,
            "status": comment.status.value, "created_at": comment.created_at.isoformat() + "Z",
            "edited_at": comment.edited_at.isoformat() + "Z" if comment.edited_at else None,
            "author": {"name": comment.author_name, "email": comment.author_email,
                       "website": comment.author_website, "sso_id": comment.sso_id,
                       "avatar": comment.author_avatar},
            "ip": comment.client_ip, "text": comment.text, "html": comment.html,
            "notify_replies": comment.notify_replies,
        }


def forget(who: str, delete_rows: bool = False) -> int:
    """Erase an author's personal data; their comments become deleted placeholders, or go entirely.

    With `delete_rows`, comments nobody replied to are deleted; those with replies stay as erased
    placeholders so the replies keep their place. One transaction: all of it, or nothing.
    """
    comments = list(db.session.scalars(db.select(Comment).where(_authored(who))))
    replied = set(db.session.scalars(db.select(Comment.parent_id).where(
        Comment.parent_id.in_([c.id for c in comments])))) if comments else set()
    deltas: dict[int, int] = {}
    for comment in comments:
        deltas[comment.thread_id] = deltas.get(comment.thread_id, 0) - (
            comment.status is CommentStatus.APPROVED)
        gone = delete_rows and comment.id not in replied
        db.session.add(AuditEntry(moderator_id=None, site_id=comment.site_id, comment_id=None,
                                  action="forget", status_before=comment.status.value,
                                  status_after=None if gone else CommentStatus.DELETED.value,
                                  reason="author's erasure request", detail={"comment": comment.id}))
        if gone:
            db.session.delete(comment)
            continue
        comment.status = CommentStatus.DELETED
        comment.text = comment.html = comment.author_name = ""
        comment.author_email = comment.author_website = comment.author_avatar = None
        comment.client_ip = comment.reader_hash = comment.sso_id = comment.text_hash = None
        comment.edit_token_hash, comment.notify_replies = None, False
        comment.featured, comment.verdict, comment.reasons = False, None, []
    bump_threads(set(deltas), deltas)
    if "@" in who:
        pending = db.session.scalars(db.select(OutboxItem).where(
            OutboxItem.kind == "mail", OutboxItem.sent_at.is_(None)))
        for item in pending:
            if str(item.payload.get("to", "")).lower() == who.strip().lower():
                db.session.delete(item)
    db.session.commit()
    return len(comments)
