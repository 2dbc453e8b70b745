"""Reading threads and counts in a constant number of queries, whatever their size."""
from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Row, Select
from sqlalchemy.orm import aliased

from ... import invalidation, thread_cache
from ...errors import Invalid, NotFound
from ...extensions import autocommit_engine, db
from ...models import (Comment, CommentStatus, Site, SiteSnapshot, Thread, ThreadSnapshot,
                      utcnow)
from ..fields import MAX_ID
from ..sites import is_slug
from . import tree
from .tree import Node

SORTS = ("oldest", "newest", "top")
# What a reader is shown of a comment, and what the tree needs: a read loads these columns as
# plain rows, never the source text, the email, the address or the filter's verdict.
SHOWN = (Comment.id, Comment.parent_id, Comment.root_id, Comment.author_name,
         Comment.author_website, Comment.sso_id, Comment.author_avatar, Comment.html,
         Comment.status, Comment.featured, Comment.score, Comment.created_at, Comment.edited_at)


@dataclass
class ThreadView:
    """A page of a thread as readers see it; `thread` is None before the first comment."""

    thread: Thread | ThreadSnapshot | None
    roots: list[Node]
    next_cursor: str | None = None

    @property
    def count(self) -> int:
        """Approved comments in the thread."""
        return self.thread.comment_count if self.thread else 0


def find_thread(site: Site | SiteSnapshot, article: str) -> Thread | None:
    """The thread of `article` on `site`, if it has one."""
    return db.session.scalar(db.select(Thread).filter_by(site_id=site.id, article_key=article))


# Built once: a read only binds its values. Core, not the ORM: the hot read (a cached page) opens
# no session and builds no model instance.
_SITES, _THREADS = Site.__table__, Thread.__table__
_SITE_COLUMNS = (_SITES.c.id, _SITES.c.slug, _SITES.c.origins, _SITES.c.settings)
_THREAD_COLUMNS = tuple(_THREADS.c[f.name] for f in fields(ThreadSnapshot) if f.name != "site")
_LOCATE = (db.select(*_SITE_COLUMNS, *(c.label(f"thread_{c.name}") for c in _THREAD_COLUMNS))
           .select_from(_SITES.outerjoin(_THREADS, db.and_(
               _THREADS.c.site_id == _SITES.c.id, _THREADS.c.article_key == db.bindparam("article"))))
           .where(_SITES.c.slug == db.bindparam("slug")))
_COUNTS = (db.select(*_SITE_COLUMNS, _THREADS.c.id.label("thread_id"), _THREADS.c.article_key,
                     _THREADS.c.comment_count)
           .select_from(_SITES.outerjoin(_THREADS, db.and_(
               _THREADS.c.site_id == _SITES.c.id,
               _THREADS.c.article_key.in_(db.bindparam("articles", expanding=True)))))
           .where(_SITES.c.slug == db.bindparam("slug")))


def _site_rows(stmt: Select, slug: object, **params: Any) -> list[Any]:
    """Rows of a site-led read; NotFound when no site has this slug."""
    rows = []
    if is_slug(slug):
        with autocommit_engine().connect() as conn:
            rows = conn.execute(stmt, {"slug": slug, **params}).all()
    if not rows:
        raise NotFound("No site with that name is served here.", "site")
    return rows


def _snapshot(row: Any) -> SiteSnapshot:
    return SiteSnapshot(row.id, row.slug, row.origins, row.settings)


def locate(slug: object, article: str) -> tuple[SiteSnapshot, ThreadSnapshot | None]:
    """A site and its thread of `article`, read-only: no query while the channel vouches for
    what this worker kept, else one; NotFound for an unknown site."""
    if not invalidation.trusted():
        return _locate(slug, article)
    return thread_cache.lookups().fetch(
        ("thread", slug, article), lambda: _locate(slug, article),
        lambda found: (found[0].id, (found[1].id,) if found[1] else ()))


def _locate(slug: object, article: str) -> tuple[SiteSnapshot, ThreadSnapshot | None]:
    row = _site_rows(_LOCATE, slug, article=article)[0]
    site = _snapshot(row)
    if row.thread_id is None:
        return site, None
    return site, ThreadSnapshot(*(row._mapping[f"thread_{c.name}"] for c in _THREAD_COLUMNS),
                                site=site)


def counts(slug: object, articles: Sequence[str]) -> tuple[SiteSnapshot, dict[str, int]]:
    """A site and its approved comments per article (zero without a thread): no query while the
    channel vouches for what this worker kept, else one."""
    if not invalidation.trusted():
        return _counts(slug, articles)[:2]
    site, found, _ = thread_cache.lookups().fetch(
        ("counts", slug, tuple(articles)), lambda: _counts(slug, articles),
        lambda kept: (kept[0].id, kept[2]))
    return site, found


def _counts(slug: object, articles: Sequence[str]
            ) -> tuple[SiteSnapshot, dict[str, int], list[int]]:
    rows = _site_rows(_COUNTS, slug, articles=list(articles))
    found = {row.article_key: row.comment_count for row in rows if row.article_key is not None}
    return (_snapshot(rows[0]), {article: found.get(article, 0) for article in articles},
            [row.thread_id for row in rows if row.thread_id is not None])


def is_closed(thread: Thread | ThreadSnapshot | None) -> bool:
    """Closed by a moderator, or older than the site's auto-close age."""
    if thread is None:
        return False
    if thread.closed_at is not None:
        return True
    days = thread.site.setting("auto_close_days")
    return days > 0 and thread.created_at + timedelta(days=days) <= utcnow()


def _shown_root() -> ColumnElement[bool]:
    """A top-level comment readers see: approved, or standing in for an approved reply."""
    reply = aliased(Comment)
    visible_reply = db.select(reply.id).where(reply.root_id == Comment.id,
                                              reply.status == CommentStatus.APPROVED).exists()
    return db.or_(Comment.status == CommentStatus.APPROVED, visible_reply)


SHOWN_ROOT = _shown_root()
FEATURED = db.and_(Comment.featured.is_(True), Comment.status == CommentStatus.APPROVED)


def _order(stmt: Select, sort: str) -> Select:
    if sort == "newest":
        return stmt.order_by(Comment.created_at.desc(), Comment.id.desc())
    if sort == "top":
        return stmt.order_by(Comment.score.desc(), Comment.created_at, Comment.id)
    return stmt.order_by(Comment.created_at, Comment.id)


def _cursor_key(comment: Row[Any], sort: str) -> list[Any]:
    key: list[Any] = [sort, comment.created_at.isoformat(), comment.id]
    return key + [comment.score] if sort == "top" else key


def _encode(key: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


def _after(cursor: str, sort: str) -> ColumnElement[bool]:
    """Rows after the cursor in this sort order; Invalid for a cursor that is not ours."""
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        kind, created, last_id = key[0], datetime.fromisoformat(key[1]), int(key[2])
        score = int(key[3]) if sort == "top" else 0
    except (ValueError, TypeError, IndexError, KeyError, binascii.Error, UnicodeDecodeError,
            RecursionError):
        raise Invalid("'cursor' is not one this API gave out.", "cursor") from None
    if kind != sort:
        raise Invalid("'cursor' belongs to another sort order.", "cursor")
    if not (0 < last_id <= MAX_ID and -MAX_ID <= score <= MAX_ID):
        raise Invalid("'cursor' is not one this API gave out.", "cursor")
    later = db.or_(Comment.created_at > created,
                   db.and_(Comment.created_at == created, Comment.id > last_id))
    if sort == "newest":
        return db.or_(Comment.created_at < created,
                      db.and_(Comment.created_at == created, Comment.id < last_id))
    if sort == "top":
        return db.or_(Comment.score < score, db.and_(Comment.score == score, later))
    return later


def thread_tree(site: Site | SiteSnapshot, article: str, sort: str = "oldest", limit: int | None = None,
                cursor: str | None = None, root: int | None = None,
                thread: Thread | ThreadSnapshot | None = None, fold: int = 0) -> ThreadView:
    """A page of top-level comments (featured first on the first page) with their replies.

    With `fold`, a page (not a `root` branch) keeps each top-level comment's first `fold` replies.
    """
    # A cursor is checked even where there is nothing to page through.
    after = _after(cursor, sort) if cursor is not None else None
    thread = thread or find_thread(site, article)
    if thread is None:
        return ThreadView(None, [])
    base = db.select(*SHOWN).where(Comment.thread_id == thread.id, Comment.parent_id.is_(None),
                                   SHOWN_ROOT)
    featured: list[Row[Any]] = []
    # Plain rows on a connection of their own, outside the ORM session: a read changes nothing.
    with autocommit_engine().connect() as conn:
        if root is not None:
            page = list(conn.execute(base.where(Comment.id == root)))
            if not page:
                raise NotFound("No such top-level comment in this thread.", "root")
            more = False
        else:
            if cursor is None:
                featured = list(conn.execute(_order(base.where(FEATURED), sort)))
            stmt = base.where(db.not_(FEATURED))
            if after is not None:
                stmt = stmt.where(after)
            stmt = _order(stmt, sort)
            rows = list(conn.execute(stmt.limit(limit + 1) if limit else stmt))
            more = bool(limit) and len(rows) > (limit or 0)
            page = rows[:limit] if limit else rows
        tops = featured + page
        replies = list(conn.execute(
            db.select(*SHOWN).where(Comment.root_id.in_([c.id for c in tops]))
            .order_by(Comment.created_at, Comment.id)
        )) if tops else []
    roots = tree.assemble(tops, replies)
    if fold and root is None:
        for node in roots:
            tree.fold(node, fold)
    next_cursor = _encode(_cursor_key(page[-1], sort)) if more and page else None
    return ThreadView(thread, roots, next_cursor)


def place(comment: Comment) -> tuple[list[int], int]:
    """A comment's ancestors (top-level first) and its top-level comment: one query."""
    if comment.parent_id is None:
        return [], comment.id
    rows = db.session.execute(db.select(Comment.id, Comment.parent_id).where(
        db.or_(Comment.root_id == comment.root_id, Comment.id == comment.root_id)))
    parents = {cid: parent for cid, parent in rows}
    chain, current = [], comment.parent_id
    while current is not None and current not in chain:
        chain.append(current)
        current = parents.get(current)
    return list(reversed(chain)), comment.root_id or comment.id
