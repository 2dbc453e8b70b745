"""Readers' reports: one per reader and comment; enough of them send a comment back to the queue."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.exc import IntegrityError

from ..errors import NotFound
from ..extensions import db
from ..models import Comment, CommentStatus, Report, Site
from . import fields, webhooks
from .authors import actor_hash
from .moderation import bump_threads

FLAGGED = "flagged by readers"


def site_of(comment_id: int) -> Site:
    """The site a comment belongs to; NotFound when there is no such comment."""
    comment = db.session.get(Comment, comment_id)
    if comment is None:
        raise NotFound("There is no published comment with that id here.", "comment")
    return comment.thread.site


def report(site: Site, comment_id: int, payload: Mapping[str, Any], reader_key: str | None,
           client_ip: str) -> bool:
    """File a report; False when this reader had reported the comment already."""
    reason = fields.string(payload, "reason", "reason", max_len=500, required=True) or ""
    comment = db.session.get(Comment, comment_id)
    if comment is None or comment.site_id != site.id or comment.status is not CommentStatus.APPROVED:
        raise NotFound("There is no published comment with that id here.", "comment")
    db.session.add(Report(comment_id=comment.id, reporter_hash=actor_hash(reader_key, client_ip),
                          reason=reason))
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        return False
    reasons = db.session.scalars(db.select(Report.reason).where(Report.comment_id == comment.id)
                                 .order_by(Report.id)).all()
    if not comment.flagged and len(reasons) >= site.setting("report_threshold"):
        _flag(site, comment, reasons)
    db.session.commit()
    return True


def _flag(site: Site, comment: Comment, reasons: list[str]) -> None:
    """Put a reported comment before a moderator, hidden meanwhile unless the site keeps it."""
    comment.flagged = True
    comment.reasons = [*comment.reasons, f"{FLAGGED}: " + "; ".join(reasons[:10])]
    if not site.setting("reported_stay_visible"):
        comment.status = CommentStatus.PENDING
        bump_threads({comment.thread_id}, {comment.thread_id: -1})
    webhooks.emit(comment, "comment.queued")
