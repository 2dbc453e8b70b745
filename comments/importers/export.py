"""A site's threads and comments as JSON objects: all that `import json` needs to rebuild them."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from ..extensions import db
from ..models import Comment, Site, Thread, utcnow

FORMAT = "comments-export"
VERSION = 1
# Comment columns written as they are, beside the ones every comment has (see comment_json).
EXTRA_COLUMNS = ("reasons", "verdict", "flagged", "reader_hash", "moderated_at", "sso_id",
                 "author_avatar", "edit_token_hash")
# Columns an export leaves out: our own ids (replaced by the file's), the tree's derived shape
# (rebuilt from the parents), the hash of the text and the address's key (both recomputed).
DERIVED_COLUMNS = ("id", "thread_id", "site_id", "root_id", "depth", "text_hash", "client_net")


def iso(value: datetime | None) -> str | None:
    """A naive UTC time as ISO 8601 with Z."""
    return value.isoformat() + "Z" if value is not None else None


def export(site: Site) -> Iterator[dict[str, Any]]:
    """The site, then each thread, then each comment (oldest first), one object per line."""
    yield {"type": "site", "format": FORMAT, "version": VERSION, "slug": site.slug,
           "name": site.name, "origins": site.origins, "moderation": site.moderation.value,
           "exported_at": iso(utcnow())}
    threads = db.select(Thread).where(Thread.site_id == site.id).order_by(Thread.id)
    for thread in db.session.scalars(threads.execution_options(yield_per=500)):
        yield thread_json(thread)
    comments = db.select(Comment).where(Comment.site_id == site.id).order_by(Comment.id)
    for comment in db.session.scalars(comments.execution_options(yield_per=500)):
        yield comment_json(comment)


def thread_json(thread: Thread) -> dict[str, Any]:
    """One thread; its count is not written, since the comments make it."""
    return {"type": "thread", "id": thread.id, "article": thread.article_key, "url": thread.url,
            "title": thread.title, "created_at": iso(thread.created_at),
            "closed_at": iso(thread.closed_at)}


def comment_json(comment: Comment) -> dict[str, Any]:
    """One comment with everything a moderator and its author had: an operator's export."""
    data = {
        "type": "comment", "id": comment.id, "thread_id": comment.thread_id,
        "parent_id": comment.parent_id,
        "author": {"name": comment.author_name, "email": comment.author_email,
                   "website": comment.author_website},
        "text": comment.text, "html": comment.html, "status": comment.status.value,
        "created_at": iso(comment.created_at), "edited_at": iso(comment.edited_at),
        "client_ip": comment.client_ip, "score": comment.score, "featured": comment.featured,
        "notify_replies": comment.notify_replies, "import_key": comment.import_key,
    }
    for column in EXTRA_COLUMNS:
        value = getattr(comment, column)
        data[column] = iso(value) if isinstance(value, datetime) else value
    return data
