"""Recognising the comments a site holds already: by import key, as its own, or by an old key."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ...extensions import db
from ...models import Comment
from .. import values
from ..records import CommentRecord

# Where a stored comment sits: (id, thread_id, parent_id, root_id, depth), by the record's source id.
Found = dict[str, tuple[CommentRecord, tuple[Any, ...]]]
_PLACE = (Comment.id, Comment.thread_id, Comment.parent_id, Comment.root_id, Comment.depth)


def key(record: CommentRecord) -> str:
    """The import key a record is stored under."""
    return values.import_key(record.import_key or record.source_id)


def stored(site_id: int, slug: str, records: Sequence[CommentRecord]) -> Found:
    """The records the site holds already, by source id, each with where it sits.

    A comment is here when an earlier run stored its key, or when it was posted on this very site
    (our own export imported back: same id, same creation time), or when a run from before keys
    named their source stored it under its old key (same creation time too). Such a row is given
    the new key, so another source's comment of the same id is never taken for it.
    """
    by_key = {key(r): r for r in records}
    rows = db.session.execute(db.select(Comment.import_key, *_PLACE).where(
        Comment.site_id == site_id, Comment.import_key.in_(list(by_key)))).all()
    found: Found = {by_key[k].source_id: (by_key[k], tuple(place)) for k, *place in rows}
    native = {r.origin[1]: r for r in records
              if r.origin and r.origin[0] == slug and r.source_id not in found}
    if native:
        rows = db.session.execute(db.select(Comment.created_at, *_PLACE).where(
            Comment.site_id == site_id, Comment.id.in_(list(native)))).all()
        for created, *place in rows:
            record = native[place[0]]
            if created == record.created:
                found[record.source_id] = (record, tuple(place))
    legacy = {values.import_key(r.legacy_key): r for r in records
              if r.legacy_key and r.source_id not in found}
    if legacy:
        rows = db.session.execute(db.select(Comment.import_key, Comment.created_at, *_PLACE).where(
            Comment.site_id == site_id, Comment.import_key.in_(list(legacy)))).all()
        renamed = []
        for old, created, *place in rows:
            record = legacy[old]
            if created == record.created:
                found[record.source_id] = (record, tuple(place))
                renamed.append({"id": place[0], "import_key": key(record)})
        if renamed:
            db.session.execute(db.update(Comment), renamed)
    return found

