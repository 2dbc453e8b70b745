"""Threads (one per article) and their comments."""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (JSON, Boolean, ColumnElement, Enum, ForeignKey, Index, String, Text,
                        UniqueConstraint, and_, column, func, literal, or_)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db


def utcnow() -> datetime:
    """Naive UTC now: every timestamp is stored as UTC without a zone, the same on every backend."""
    return datetime.now(UTC).replace(tzinfo=None)


class CommentStatus(enum.StrEnum):
    """Where a comment stands; only `approved` is shown to readers."""

    PENDING = "pending"
    APPROVED = "approved"
    REMOVED = "removed"
    SPAM = "spam"
    DELETED = "deleted"


def waiting(status: ColumnElement[Any], flagged: ColumnElement[bool]) -> ColumnElement[bool]:
    """In the moderation queue: held comments, and published ones enough readers flagged.

    The one spelling of the queue, shared by the partial index `ix_comments_waiting` and every
    query of the queue: a planner uses a partial index only when the query repeats its WHERE.
    The statuses are rendered inline, not bound, because PostgreSQL cannot match a bound value
    to the index's WHERE in the generic plan of a prepared statement.
    """
    pending, approved = (literal(s.value, literal_execute=True)
                         for s in (CommentStatus.PENDING, CommentStatus.APPROVED))
    return or_(status == pending, and_(flagged, status == approved))


class Thread(db.Model):
    """The comments under one article, created with its first comment."""

    __tablename__ = "threads"
    __table_args__ = (UniqueConstraint("site_id", "article_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    # The host's article id, or the article's canonical URL when the embed gives none.
    article_key: Mapped[str] = mapped_column(String(512))
    # The article's address and title as the site's own pages last named them (services/articles.py).
    url: Mapped[str | None] = mapped_column(String(2048))
    title: Mapped[str | None] = mapped_column(String(300))
    # When an admin fixed the title and address: from then on readers' posts no longer change them.
    meta_locked_at: Mapped[datetime | None]
    # Approved comments, kept with every status change so a count look-up reads one row.
    comment_count: Mapped[int] = mapped_column(default=0)
    # Bumped by every write that changes what readers see: the basis of the thread's ETag.
    version: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Closed by a moderator (or by the site's auto-close age): no new comments.
    closed_at: Mapped[datetime | None]

    site = relationship("Site", lazy="joined")


@dataclass(frozen=True, slots=True)
class ThreadSnapshot:
    """What the read path needs of a thread, loaded without the ORM (services/reading.py)."""

    id: int
    url: str | None
    title: str | None
    comment_count: int
    version: int
    created_at: datetime
    closed_at: datetime | None
    site: Any


class Comment(db.Model):
    """One comment: the source text, its sanitized HTML (made on write), and its status."""

    __tablename__ = "comments"
    __table_args__ = (
        # A thread read is one range scan of this index, whatever the table's size.
        Index("ix_comments_thread_id_status_created_at", "thread_id", "status", "created_at"),
        # The all-comments page of a site, by status, in time order.
        Index("ix_comments_site_id_status_created_at", "site_id", "status", "created_at"),
        # The moderation queue: only the few waiting rows, per site, oldest first (the id is the
        # tie-break of the queue's order, and lets PostgreSQL count from the index alone).
        Index("ix_comments_waiting", "site_id", "created_at", "id",
              postgresql_where=waiting(column("status"), column("flagged", Boolean)),
              sqlite_where=waiting(column("status"), column("flagged", Boolean))),
        # The same rows in the order of a queue across sites (an admin's, or a moderator's of
        # several sites), which the index above cannot give without sorting them all.
        Index("ix_comments_waiting_created_at", "created_at", "id",
              postgresql_where=waiting(column("status"), column("flagged", Boolean)),
              sqlite_where=waiting(column("status"), column("flagged", Boolean))),
        # An author's history and bans on a site: emails match whatever their case.
        Index("ix_comments_site_id_lower_author_email", "site_id", func.lower(column("author_email"))),
        Index("ix_comments_site_id_client_ip", "site_id", "client_ip"),
        Index("ix_comments_site_id_client_net", "site_id", "client_net"),
        Index("ix_comments_site_id_reader_hash", "site_id", "reader_hash"),
        Index("ix_comments_site_id_sso_id", "site_id", "sso_id"),
        # Duplicate detection: the same text on a site.
        Index("ix_comments_site_id_text_hash", "site_id", "text_hash"),
        # An imported comment is imported once per site, however often its file is read.
        UniqueConstraint("site_id", "import_key", name="uq_comments_site_id_import_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"))
    # The thread's site, kept on the row so moderation queries need no join.
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("comments.id", ondelete="SET NULL"), index=True
    )
    # The top-level comment this one is under (None for top-level ones): a page of top-level
    # comments fetches all its replies with one indexed query.
    root_id: Mapped[int | None] = mapped_column(index=True)
    depth: Mapped[int] = mapped_column(default=0)
    author_name: Mapped[str] = mapped_column(String(64))
    # Never shown publicly: for moderators and reply emails only.
    author_email: Mapped[str | None] = mapped_column(String(254))
    author_website: Mapped[str | None] = mapped_column(String(512))
    # The site's own id for a reader who signed in through single sign-on (the token's `sub`).
    sso_id: Mapped[str | None] = mapped_column(String(200))
    author_avatar: Mapped[str | None] = mapped_column(String(512))
    text: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text)
    status: Mapped[CommentStatus] = mapped_column(
        Enum(CommentStatus, name="comment_status", native_enum=False, create_constraint=True,
             length=16, values_callable=lambda e: [m.value for m in e]),
        default=CommentStatus.PENDING,
    )
    # Pinned at the top of the thread by a moderator.
    featured: Mapped[bool] = mapped_column(default=False)
    # Up-votes minus down-votes, kept with every vote.
    score: Mapped[int] = mapped_column(default=0)
    # The author asked for an email when a reply to this comment is published.
    notify_replies: Mapped[bool] = mapped_column(default=False)
    # Why the comment is in the queue, in words, for moderators.
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The spam filter's decision with every rule's score, as spam.Verdict.as_json() made it.
    verdict: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Reported by enough readers to need a moderator's look (it may still be published).
    flagged: Mapped[bool] = mapped_column(default=False)
    # SHA-256 of the reader key the widget sent: the author's history, which typing cannot claim.
    reader_hash: Mapped[str | None] = mapped_column(String(64))
    # SHA-256 of the normalised text, to find the same text posted again.
    text_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    edited_at: Mapped[datetime | None]
    # When a moderator last decided on it (approve, remove, spam).
    moderated_at: Mapped[datetime | None]
    # Kept for moderation; erased after the retention period by `comments purge`.
    client_ip: Mapped[str | None] = mapped_column(String(45))
    # What the address counts as (security.address_key: an IPv6 address by its /64), for the
    # spam filter's facts and bans; erased with the address.
    client_net: Mapped[str | None] = mapped_column(String(45))
    # SHA-256 of the edit token handed to the poster; the token itself is never stored.
    edit_token_hash: Mapped[str | None] = mapped_column(String(64))
    # Where an imported comment came from, e.g. "disqus:123"; None for comments posted here.
    import_key: Mapped[str | None] = mapped_column(String(128))

    thread = relationship(Thread)
