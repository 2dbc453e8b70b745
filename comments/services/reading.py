"""Reading threads and counts in a constant number of queries, whatever their size."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from ..extensions import db
from ..models import Comment, CommentStatus, Site, Thread

SORTS = ("oldest", "newest")


@dataclass
class Node:
    """A comment in the tree; `comment` is None for a placeholder whose row readers may not see."""

    id: int
    comment: Comment | None
    status: CommentStatus
    created_at: datetime | None
    replies: list[Node] = field(default_factory=list)

    @property
    def visible(self) -> bool:
        """Shown in full to readers."""
        return self.status is CommentStatus.APPROVED


@dataclass
class ThreadView:
    """A thread as readers see it: None for an article nobody has commented on yet."""

    thread: Thread | None
    roots: list[Node]

    @property
    def count(self) -> int:
        """Approved comments in the thread."""
        return self.thread.comment_count if self.thread else 0


def find_thread(site: Site, article: str) -> Thread | None:
    """The thread of `article` on `site`, if it has one."""
    return db.session.scalar(db.select(Thread).filter_by(site_id=site.id, article_key=article))


def thread_tree(site: Site, article: str, sort: str = "oldest") -> ThreadView:
    """The visible tree of a thread: two queries, then assembly in memory."""
    thread = find_thread(site, article)
    if thread is None:
        return ThreadView(None, [])
    rows = db.session.scalars(
        db.select(Comment)
        .where(Comment.thread_id == thread.id, Comment.status != CommentStatus.SPAM)
        .order_by(Comment.created_at, Comment.id)
    ).all()
    roots = _assemble(rows)
    if sort == "newest":
        roots.reverse()
    # Featured comments are pinned above the rest, in the same order among themselves.
    roots.sort(key=lambda node: not (node.visible and node.comment is not None
                                     and node.comment.featured))
    return ThreadView(thread, roots)


def _assemble(rows: Sequence[Comment]) -> list[Node]:
    """Nest rows (oldest first) under their parents and keep only what readers may see."""
    nodes: dict[int, Node] = {}
    roots: list[Node] = []
    for row in rows:
        nodes[row.id] = Node(row.id, row, row.status, row.created_at)
    for row in rows:
        node = nodes[row.id]
        if row.parent_id is None:
            roots.append(node)
        elif row.parent_id in nodes:
            nodes[row.parent_id].replies.append(node)
        else:
            # The parent is hidden from this query (spam): stand in a placeholder for it.
            holder = Node(row.parent_id, None, CommentStatus.REMOVED, None, [node])
            nodes[row.parent_id] = holder
            roots.append(holder)
    return _prune(roots)


def _prune(nodes: list[Node]) -> list[Node]:
    """Drop hidden comments with no visible reply below them; keep the rest as placeholders."""
    kept = []
    for node in nodes:
        node.replies = _prune(node.replies)
        if node.visible or node.replies:
            kept.append(node)
    return kept


def counts(site: Site, articles: Sequence[str]) -> dict[str, int]:
    """Approved comments per article, zero for articles without a thread: one query."""
    rows = db.session.execute(
        db.select(Thread.article_key, Thread.comment_count).where(
            Thread.site_id == site.id, Thread.article_key.in_(articles)
        )
    )
    found = {key: count for key, count in rows}
    return {article: found.get(article, 0) for article in articles}
