"""Readers' votes: one per reader key and one per address on a comment, undoable, kept as a score."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.exc import IntegrityError

from ..errors import Invalid, NotFound
from ..extensions import db
from ..models import Comment, CommentStatus, Vote
from .authors import actor_hash, address_hash
from .moderation import bump_threads


def vote(comment_id: int, payload: Mapping[str, Any], reader_key: str | None,
         client_ip: str) -> tuple[int, int]:
    """Set this reader's vote (1, -1, or 0 to take it back); returns (new score, vote).

    An address (an IPv6 one by its /64) holds one vote however many reader keys it shows: another
    key from it changes that vote instead of adding one.
    """
    value = payload.get("value")
    if isinstance(value, bool) or value not in (1, -1, 0):
        raise Invalid("'value' is 1, -1, or 0 to take a vote back.", "value")
    comment = db.session.get(Comment, comment_id)
    if comment is None or comment.status is not CommentStatus.APPROVED:
        raise NotFound("There is no published comment with that id.", "comment")
    if value == -1 and not comment.thread.site.setting("downvotes"):
        raise Invalid("This site does not take down-votes.", "value")
    voter, address = actor_hash(reader_key, client_ip), address_hash(client_ip)
    for attempt in (1, 2):
        try:
            return _apply(comment, voter, address, value)
        except IntegrityError:
            # Two votes from one reader or address at once: the unique keys settle it; apply again.
            db.session.rollback()
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _apply(comment: Comment, voter: str, address: str, value: int) -> tuple[int, int]:
    # This reader's vote, else the one cast from this address.
    existing = db.session.scalar(
        db.select(Vote).where(Vote.comment_id == comment.id,
                              db.or_(Vote.voter_hash == voter, Vote.address_hash == address))
        .order_by((Vote.voter_hash == voter).desc()).limit(1))
    old = existing.value if existing else 0
    if existing is not None and value == 0:
        db.session.delete(existing)
    elif existing is not None:
        existing.value = value
    elif value != 0:
        db.session.add(Vote(comment_id=comment.id, voter_hash=voter, address_hash=address,
                            value=value))
    if value != old:
        db.session.execute(db.update(Comment).where(Comment.id == comment.id)
                           .values(score=Comment.score + (value - old)))
        bump_threads({comment.thread_id}, {comment.thread_id: 0})
    db.session.commit()
    score = db.session.scalar(db.select(Comment.score).where(Comment.id == comment.id)) or 0
    return score, value
