"""What moderators look at: the queue, every comment, authors' histories and the log."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from sqlalchemy import Select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import AuditEntry, Comment, CommentRevision, CommentStatus, Moderator, Thread
from ..models.thread import waiting
from .fields import storable
from .moderation import site_ids, visible_site

T = TypeVar("T")
# In the queue: held comments, and published ones enough readers reported. Spelt as the partial
# index `ix_comments_waiting` spells it, so that every query of the queue reads that index.
WAITING = waiting(Comment.status, Comment.flagged)
PER_PAGE = 50


@dataclass
class Page(Generic[T]):
    """One page of results and the total behind it."""

    items: list[T]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        """How many pages there are (at least one)."""
        return max(1, -(-self.total // self.per_page))


@dataclass
class History:
    """An author's record on a site."""

    approved: int = 0
    removed: int = 0
    spam: int = 0
    pending: int = 0
    first_seen: datetime | None = None


@dataclass
class Filters:
    """What the all-comments page can narrow by."""

    status: CommentStatus | None = None
    site: str | None = None
    article: str | None = None
    author: str | None = None
    q: str | None = None


def _scoped(moderator: Moderator, stmt: Select, site_slug: str | None) -> Select:
    site = visible_site(moderator, site_slug)
    if site is not None:
        return stmt.where(Comment.site_id == site.id)
    allowed = site_ids(moderator)
    return stmt if allowed is None else stmt.where(Comment.site_id.in_(allowed))


def _page(stmt: Select, page: int, per_page: int) -> Page[Comment]:
    total = db.session.scalar(stmt.with_only_columns(db.func.count(Comment.id)).order_by(None)) or 0
    page = max(1, page)
    items = db.session.scalars(stmt.options(selectinload(Comment.thread))
                               .limit(per_page).offset((page - 1) * per_page)).all()
    return Page(list(items), total, page, per_page)


def _article(stmt: Select, article: str | None) -> Select:
    if not article:
        return stmt
    if storable(article) is None:
        return stmt.where(db.false())
    return stmt.join(Thread, Thread.id == Comment.thread_id).where(Thread.article_key == article)


def pending(moderator: Moderator, site: str | None = None, article: str | None = None,
            page: int = 1, per_page: int = PER_PAGE) -> Page[Comment]:
    """The queue: pending and reader-flagged comments of the moderator's sites, oldest first."""
    stmt = db.select(Comment).where(WAITING)
    stmt = _article(_scoped(moderator, stmt, site), article)
    return _page(stmt.order_by(Comment.created_at, Comment.id), page, per_page)


def pending_count(moderator: Moderator) -> int:
    """How many comments wait, on every site the moderator acts on."""
    stmt = _scoped(moderator, db.select(db.func.count(Comment.id)), None)
    return db.session.scalar(stmt.where(WAITING)) or 0


def search(moderator: Moderator, filters: Filters, page: int = 1,
           per_page: int = PER_PAGE) -> Page[Comment]:
    """Every comment of the moderator's sites, newest first, narrowed by the filters."""
    stmt = _article(_scoped(moderator, db.select(Comment), filters.site), filters.article)
    if filters.status is not None:
        stmt = stmt.where(Comment.status == filters.status)
    author, text = storable(filters.author), storable(filters.q)
    if (filters.author and author is None) or (filters.q and text is None):
        # Text no database can hold matches nothing.
        stmt = stmt.where(db.false())
    if author:
        needle = author.strip()
        stmt = stmt.where(db.or_(Comment.author_name.ilike(f"%{_escape(needle)}%", escape="\\"),
                                 db.func.lower(Comment.author_email) == needle.lower(),
                                 Comment.client_ip == needle))
    if text:
        stmt = stmt.where(Comment.text.ilike(f"%{_escape(text.strip())}%", escape="\\"))
    return _page(stmt.order_by(Comment.created_at.desc(), Comment.id.desc()), page, per_page)


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def author_key(comment: Comment) -> tuple[int, str, str]:
    """Who wrote a comment, as far as we can tell: the email when given, else the address."""
    if comment.author_email:
        return (comment.site_id, "email", comment.author_email.lower())
    return (comment.site_id, "ip", comment.client_ip or "")


def histories(comments: Sequence[Comment]) -> dict[tuple[int, str, str], History]:
    """Each listed author's record on the comment's site: two grouped queries for a whole page."""
    result: dict[tuple[int, str, str], History] = {author_key(c): History() for c in comments}
    site_set = {c.site_id for c in comments}
    for kind, column in (("email", db.func.lower(Comment.author_email)), ("ip", Comment.client_ip)):
        values = {key[2] for key in result if key[1] == kind and key[2]}
        if not values:
            continue
        rows = db.session.execute(
            db.select(Comment.site_id, column, Comment.status, db.func.count(Comment.id),
                      db.func.min(Comment.created_at))
            .where(Comment.site_id.in_(site_set), column.in_(values))
            .group_by(Comment.site_id, column, Comment.status)
        )
        for site_id, value, status, count, first in rows:
            history = result.get((site_id, kind, value))
            if history is None:
                continue
            if status.value in ("approved", "removed", "spam", "pending"):
                setattr(history, status.value, count)
            if history.first_seen is None or first < history.first_seen:
                history.first_seen = first
    return result


def parents(comments: Sequence[Comment]) -> dict[int, Comment]:
    """The comments these reply to, in one query."""
    ids = {c.parent_id for c in comments if c.parent_id}
    if not ids:
        return {}
    return {c.id: c for c in db.session.scalars(db.select(Comment).where(Comment.id.in_(ids)))}


def previous_versions(comments: Sequence[Comment]) -> dict[int, CommentRevision]:
    """The text each listed comment had before its latest edit, in one query."""
    ids = {c.id for c in comments if c.edited_at is not None}
    if not ids:
        return {}
    latest = (db.select(db.func.max(CommentRevision.id)).where(CommentRevision.comment_id.in_(ids))
              .group_by(CommentRevision.comment_id))
    return {r.comment_id: r for r in db.session.scalars(
        db.select(CommentRevision).where(CommentRevision.id.in_(latest)))}


def revisions(comment: Comment) -> list[CommentRevision]:
    """Every earlier version of a comment, the most recently replaced first."""
    return list(db.session.scalars(db.select(CommentRevision).where(
        CommentRevision.comment_id == comment.id).order_by(CommentRevision.id.desc())))


def log(moderator: Moderator, site: str | None = None, moderator_id: int | None = None,
        comment_id: int | None = None, page: int = 1, per_page: int = PER_PAGE) -> Page[AuditEntry]:
    """The audit log of the moderator's sites, newest first."""
    stmt = db.select(AuditEntry)
    chosen = visible_site(moderator, site)
    allowed = site_ids(moderator)
    if chosen is not None:
        stmt = stmt.where(AuditEntry.site_id == chosen.id)
    elif allowed is not None:
        stmt = stmt.where(AuditEntry.site_id.in_(allowed))
    if moderator_id is not None:
        stmt = stmt.where(AuditEntry.moderator_id == moderator_id)
    if comment_id is not None:
        stmt = stmt.where(AuditEntry.comment_id == comment_id)
    total = db.session.scalar(stmt.with_only_columns(db.func.count(AuditEntry.id))) or 0
    items = db.session.scalars(stmt.order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
                               .limit(per_page).offset((max(1, page) - 1) * per_page)).all()
    return Page(list(items), total, max(1, page), per_page)
