"""Isso's SQLite database (threads and comments tables), or Isso's generic JSON import format."""
from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

from ..models import CommentStatus
from . import values
from .records import CommentRecord, ImportFailed, Problem, Record, ThreadRecord
from .source import Input, Progress, load_json

PREFIX = "isso:"
# Isso's comment modes.
MODES = {1: CommentStatus.APPROVED, 2: CommentStatus.PENDING, 4: CommentStatus.REMOVED}
_SQLITE = b"SQLite format 3\x00"
_REQUIRED = {"threads": {"id", "uri"},
             "comments": {"tid", "id", "parent", "created", "mode", "text"}}
_OPTIONAL = ("modified", "remote_addr", "author", "email", "website", "likes", "dislikes",
             "notification")


def read(path: str | Path) -> IssoDatabase | IssoJson:
    """Isso's database file, or a generic JSON import file (a list of threads with comments)."""
    try:
        with open(path, "rb") as f:
            head = f.read(len(_SQLITE))
    except OSError as e:
        raise ImportFailed(f"cannot read the file: {e.strerror or e}") from None
    if head.lstrip()[:1] == b"[":
        return IssoJson(path)
    return IssoDatabase(path)


class IssoDatabase:
    """Isso's SQLite file, opened read-only and read a row at a time."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.progress = Progress()
        self.columns: dict[str, set[str]] = {}
        self.tag = ""

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True)

    def check(self) -> None:
        """Refuse anything but an SQLite file with Isso's tables, before anything is written."""
        if self.columns:
            return
        with open(self.path, "rb") as f:
            if f.read(len(_SQLITE)) != _SQLITE:
                raise ImportFailed("not an SQLite database (Isso keeps its comments in one)")
        try:
            with closing(self._connect()) as conn:
                for table, needed in _REQUIRED.items():
                    have = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
                    if not needed <= have:
                        raise ImportFailed(f"not an Isso database: table {table!r} lacks "
                                           f"{', '.join(sorted(needed - have))}")
                    self.columns[table] = have
                self.progress.total = conn.execute(
                    "SELECT (SELECT count(*) FROM threads) + (SELECT count(*) FROM comments)"
                ).fetchone()[0]
                self.tag = _identity(conn)
        except sqlite3.DatabaseError as e:
            raise ImportFailed(f"the database cannot be read: {e}") from None

    def __iter__(self) -> Iterator[Record]:
        self.check()
        optional = [c if c in self.columns["comments"] else f"NULL AS {c}" for c in _OPTIONAL]
        title = "title" if "title" in self.columns["threads"] else "NULL AS title"
        with closing(self._connect()) as conn:
            conn.row_factory = sqlite3.Row
            for row in conn.execute(f"SELECT id, uri, {title} FROM threads ORDER BY id"):
                self.progress.advance()
                yield ThreadRecord(source_id=str(row["id"]), key=values.line(row["uri"]),
                                   title=values.title(row["title"]))
            query = (f"SELECT tid, id, parent, created, mode, text, {', '.join(optional)} "
                     "FROM comments ORDER BY id")
            for row in conn.execute(query):
                self.progress.advance()
                yield from _comment(dict(row), self.tag)


def _identity(conn: sqlite3.Connection) -> str:
    """The database's tag: from the session key Isso makes once per database, else (before Isso
    had one) from its first thread and comment, whose ids, address and time never change."""
    if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'preferences'").fetchone():
        key = conn.execute("SELECT value FROM preferences WHERE key = 'session-key'").fetchone()
        if key and key[0]:
            return values.source_tag("isso session key", key[0])
    thread = conn.execute("SELECT id, uri FROM threads ORDER BY id LIMIT 1").fetchone() or ()
    comment = conn.execute("SELECT id, created FROM comments ORDER BY id LIMIT 1").fetchone() or ()
    return values.source_tag("isso rows", *thread, *comment)


def _comment(row: dict[str, Any], tag: str) -> Iterator[Record]:
    """A comment row (after a note on a count left out), or the problem that keeps it out."""
    label = f"comment {row['id']}"
    status = MODES.get(row["mode"])
    if status is None:
        yield Problem(None, f"{label}: unknown mode {row['mode']!r}; skipped")
        return
    try:
        created = values.from_timestamp(float(row["created"]))
        edited = values.from_timestamp(float(row["modified"])) if row["modified"] else None
    except (TypeError, ValueError, OverflowError, OSError):
        yield Problem(None, f"{label}: {row['created']!r} is not a time; skipped")
        return
    counts = {}
    for column in ("likes", "dislikes"):
        counts[column] = values.score(row[column], low=0)
        if counts[column] is None:
            yield Problem(None, f"{label}: {column} {values.shown(row[column])} is out of range; "
                                "imported as 0", skipped=False)
    yield CommentRecord(
        source_id=f"{PREFIX}{row['id']}", thread_source_id=str(row["tid"]),
        parent_source_id=f"{PREFIX}{row['parent']}" if row["parent"] else None,
        author_name=values.name(row["author"]), author_email=values.email(row["email"]),
        author_website=values.website(row["website"]), created=created, edited=edited,
        status=status, text=values.text(row["text"]), html=None,
        client_ip=values.ip(row["remote_addr"]),
        score=(counts["likes"] or 0) - (counts["dislikes"] or 0),
        notify_replies=bool(row["notification"]),
        import_key=f"{PREFIX}{tag}:{row['id']}", legacy_key=f"{PREFIX}{row['id']}",
    )


class IssoJson:
    """Isso's generic import format: [{"id": uri, "title", "comments": [{"id", "author", ...}]}]."""

    def __init__(self, path: str | Path) -> None:
        self.input = Input(path)
        self.progress = self.input
        self.document: list[Any] | None = None
        self.tag = ""

    def check(self) -> None:
        """Load and check the whole document (JSON does not stream) before anything is written."""
        if self.document is not None:
            return
        document = load_json(self.input)
        if not isinstance(document, list) or not all(isinstance(t, dict) for t in document):
            raise ImportFailed("not Isso's JSON import format: expected a list of threads")
        self.document = document
        # The file names no source: its first thread and that thread's first comment do.
        first = document[0] if document else {}
        comments = first.get("comments")
        comment = comments[0] if isinstance(comments, list) and comments else {}
        comment = comment if isinstance(comment, dict) else {}
        self.tag = values.source_tag("isso json", first.get("id"), comment.get("id"),
                                     comment.get("created"))

    def __iter__(self) -> Iterator[Record]:
        self.check()
        for number, thread in enumerate(self.document or [], 1):
            uri = values.line(thread.get("id"))
            source = uri or f"#{number}"
            yield ThreadRecord(source_id=source, key=uri, title=values.title(thread.get("title")))
            for comment in thread.get("comments") or []:
                yield _json_comment(comment, source, self.tag)


def _json_comment(comment: Any, thread: str, tag: str) -> Record:
    """A comment of the generic format (its ids count within its thread only)."""
    if not isinstance(comment, dict) or comment.get("id") is None:
        return Problem(None, f"thread {thread}: a comment without an id; skipped")
    label = f"thread {thread}, comment {comment['id']}"
    try:
        created = values.when(str(comment.get("created") or ""))
    except ValueError as e:
        return Problem(None, f"{label}: {e}; skipped")
    prefix = f"isso-json:{thread}:"
    parent = comment.get("parent")
    return CommentRecord(
        source_id=f"{prefix}{comment['id']}", thread_source_id=thread,
        parent_source_id=f"{prefix}{parent}" if parent not in (None, "", 0) else None,
        author_name=values.name(comment.get("author")),
        author_email=values.email(comment.get("email")),
        author_website=values.website(comment.get("website")), created=created,
        status=CommentStatus.APPROVED, text=values.text(str(comment.get("text") or "")), html=None,
        client_ip=values.ip(comment.get("remote_addr")),
        import_key=f"isso-json:{tag}:{thread}:{comment['id']}",
        legacy_key=f"{prefix}{comment['id']}",
    )
