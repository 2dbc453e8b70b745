"""Readers' reports: one per reader and comment; enough of them send a comment back to the queue.

Reports count once per reader key and once per address (an IPv6 address by its /64), and only
those since a moderator last kept the comment (moderation.dismiss_reports).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.exc import IntegrityError

from ..errors import NotFound
from ..extensions import db
from ..models import Comment, CommentStatus, Report, Site
from . import fields, webhooks
from .authors import actor_hash, address_hash
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
                          address_hash=address_hash(client_ip), reason=reason))
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        return False
    reasons = _counted(comment.id)
    if not comment.flagged and len(reasons) >= site.setting("report_threshold"):
        _flag(site, comment, reasons)
    db.session.commit()
    return True


def _counted(comment_id: int) -> list[str]:
    """The reasons of the reports that count: the first from each address since the last keep."""
    rows = db.session.execute(db.select(Report.address_hash, Report.reason).where(
        Report.comment_id == comment_id, Report.dismissed_at.is_(None)).order_by(Report.id))
    by_address: dict[str, str] = {}
    for address, reason in rows:
        by_address.setdefault(address, reason)
    return list(by_address.values())


def _flag(site: Site, comment: Comment, reasons: list[str]) -> None:
    """Put a reported comment before a moderator, hidden meanwhile unless the site keeps it."""
    comment.flagged = True
    comment.reasons = [*comment.reasons, f"{FLAGGED}: " + "; ".join(reasons[:10])]
    if not site.setting("reported_stay_visible"):
        comment.status = CommentStatus.PENDING
        bump_threads({comment.thread_id}, {comment.thread_id: -1})
    webhooks.emit(comment, "comment.queued")
