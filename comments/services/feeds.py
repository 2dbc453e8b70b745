"""The newest approved comments of a site or of one thread, for the Atom feeds."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement
from sqlalchemy.orm import contains_eager

from ..extensions import db
from ..models import Comment, CommentStatus, Site, Thread
from .reading import find_thread

FEED_SIZE = 50


@dataclass
class Feed:
    """A feed's comments, newest first; `thread` is set for a thread's feed once it exists."""

    site: Site
    thread: Thread | None
    comments: list[Comment]

    @property
    def updated(self) -> datetime:
        """The newest entry's time, else the thread's or site's creation: stable, so ETags hold."""
        if self.comments:
            return max(updated(comment) for comment in self.comments)
        return self.thread.created_at if self.thread else self.site.created_at


def updated(comment: Comment) -> datetime:
    """When a comment last changed for its readers."""
    return comment.edited_at or comment.created_at


def site_feed(site: Site) -> Feed:
    """The newest approved comments on any article of `site`."""
    return Feed(site, None, _newest(Comment.site_id == site.id))


def thread_feed(site: Site, article: str) -> Feed:
    """The newest approved comments under `article`; empty before its first comment."""
    thread = find_thread(site, article)
    return Feed(site, thread, _newest(Comment.thread_id == thread.id) if thread else [])


def _newest(scope: ColumnElement[bool]) -> list[Comment]:
    """One query along the (site or thread, status, created_at) index, threads loaded alongside."""
    stmt = (
        db.select(Comment)
        .join(Comment.thread)
        .options(contains_eager(Comment.thread))
        .where(scope, Comment.status == CommentStatus.APPROVED)
        .order_by(Comment.created_at.desc(), Comment.id.desc())
        .limit(FEED_SIZE)
    )
    return list(db.session.scalars(stmt))
