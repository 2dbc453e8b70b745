"""What readers do to comments besides writing them: votes and reports.

Each counts once per reader key and once per address (an IPv6 address by its /64): fresh keys
from one address add nothing.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .thread import utcnow


class Report(db.Model):
    """A reader's report of a comment; one per reader (key, else address) and comment."""

    __tablename__ = "reports"
    __table_args__ = (UniqueConstraint("comment_id", "reporter_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    # SHA-256 of the reader key, or of the address for readers without one.
    reporter_hash: Mapped[str] = mapped_column(String(64))
    # SHA-256 of the address it came from (its key: an IPv6 address by its /64); always set since
    # 0.2.0, nullable for that release only, while 0.1.0 may still write (see migration 0012).
    address_hash: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # When a moderator kept the comment: the report stays on record but no longer counts.
    dismissed_at: Mapped[datetime | None]


class Vote(db.Model):
    """A reader's vote on a comment: +1 or -1, one per reader (key, else address) and comment,
    and one per address: another key from a counted address changes that vote."""

    __tablename__ = "votes"
    __table_args__ = (UniqueConstraint("comment_id", "voter_hash"),
                      UniqueConstraint("comment_id", "address_hash",
                                       name="uq_votes_comment_id_address_hash"))

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    voter_hash: Mapped[str] = mapped_column(String(64))
    # SHA-256 of the address it came from (its key: an IPv6 address by its /64); always set since
    # 0.2.0, nullable for that release only, while 0.1.0 may still write (see migration 0012).
    address_hash: Mapped[str | None] = mapped_column(String(64))
    value: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
