"""A thread's comments as a tree: nested, pruned to what readers may see, folded for a page."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Row

from ...models import CommentStatus


@dataclass
class Node:
    """A comment in the tree; `comment` is None for a placeholder whose row readers may not see."""

    id: int
    comment: Row[Any] | None
    status: CommentStatus
    created_at: datetime | None
    replies: list[Node] = field(default_factory=list)
    # Replies below it left off a folded page, those not counted by a shown reply.
    more: int = 0

    @property
    def visible(self) -> bool:
        """Shown in full to readers."""
        return self.status is CommentStatus.APPROVED


def assemble(tops: Sequence[Row[Any]], replies: Sequence[Row[Any]]) -> list[Node]:
    """Nest replies (oldest first) under their parents and keep only what readers may see."""
    nodes: dict[int, Node] = {c.id: Node(c.id, c, c.status, c.created_at) for c in tops}
    roots = [nodes[c.id] for c in tops]
    for row in replies:
        nodes[row.id] = Node(row.id, row, row.status, row.created_at)
    for row in replies:
        # A parent erased outright leaves its replies under the top-level comment.
        parent = nodes.get(row.parent_id or 0) or nodes.get(row.root_id or 0)
        if parent is not None:
            parent.replies.append(nodes[row.id])
    return _prune(roots)


def _prune(nodes: list[Node]) -> list[Node]:
    """Drop hidden comments with no visible reply below them; keep the rest as placeholders."""
    kept = []
    for node in nodes:
        node.replies = _prune(node.replies)
        if node.visible or node.replies:
            kept.append(node)
    return kept


def fold(node: Node, budget: int) -> int:
    """Keep the first `budget` replies below `node` depth-first (oldest first); how many were kept.

    A kept reply's parent is always kept, and each node counts the hidden replies it leads to.
    """
    kept: list[Node] = []
    used = 0
    for child in node.replies:
        if used >= budget:
            break
        kept.append(child)
        used += 1 + fold(child, budget - used - 1)
    node.more = sum(1 + _size(child) for child in node.replies[len(kept):])
    node.replies = kept
    return used


def _size(node: Node) -> int:
    """Replies below `node`, at any depth."""
    return sum(1 + _size(child) for child in node.replies)
