"""Reading back our own JSON-lines export (see export.py), a line at a time."""
from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..models import CommentStatus
from . import values
from .export import EXTRA_COLUMNS, FORMAT, VERSION
from .records import CommentRecord, ImportFailed, Problem, Record, ThreadRecord
from .source import Input, lines

# A line longer than this is a bad record, and is read past in chunks rather than held.
MAX_LINE = 1 << 20

# The checks an extra column's value must pass, else the record is skipped.
_EXTRA_TYPES: dict[str, tuple[type, ...]] = {
    "reasons": (list,), "verdict": (dict, type(None)), "flagged": (bool,),
    "reader_hash": (str, type(None)), "moderated_at": (str, type(None)),
    "sso_id": (str, type(None)), "author_avatar": (str, type(None)),
    "edit_token_hash": (str, type(None)),
}


def read(path: str | Path) -> JsonLines:
    """An export written by `comments export`."""
    return JsonLines(path)


class JsonLines:
    """The first line names the format; every other line is a thread or a comment."""

    def __init__(self, path: str | Path) -> None:
        self.input = Input(path)
        self.progress = self.input
        self.slug: str | None = None

    def check(self) -> None:
        """Refuse a file whose first line is not our export's header, before anything is written."""
        if self.slug is not None:
            return
        with self.input.open() as stream:
            first = next(lines(stream, MAX_LINE), b"")
        if first is None:
            raise ImportFailed(f"not a comments export: the first line is over {MAX_LINE >> 20} MB",
                               1)
        try:
            header = json.loads(first)
        except (ValueError, UnicodeDecodeError) as e:
            raise ImportFailed(f"not a comments export: the first line is not JSON ({e})",
                               1) from None
        if not isinstance(header, dict) or header.get("format") != FORMAT \
                or header.get("type") != "site":
            raise ImportFailed("not a comments export: the first line is not its site header", 1)
        if header.get("version") != VERSION:
            raise ImportFailed(f"export version {header.get('version')!r} is not {VERSION}", 1)
        self.input.done = 0
        if self.input.packed:
            # A damaged archive must fail here, not after some of its lines are written.
            self.input.total *= 2
            self.input.verify()
        self.slug = str(header.get("slug") or "")

    def __iter__(self) -> Iterator[Record]:
        self.check()
        with self.input.open() as stream:
            rows = lines(stream, MAX_LINE)
            next(rows, None)
            for number, raw in enumerate(rows, 2):
                if raw is None:
                    yield Problem(number, f"longer than {MAX_LINE >> 20} MB; skipped")
                    continue
                if not raw.strip():
                    continue
                try:
                    data = json.loads(raw)
                except (ValueError, UnicodeDecodeError) as e:
                    yield Problem(number, f"not valid JSON ({e}); skipped")
                    continue
                kind = data.get("type") if isinstance(data, dict) else None
                if kind == "thread":
                    yield _thread(data, number)
                elif kind == "comment":
                    yield _comment(data, number, f"json:{self.slug}:")
                else:
                    yield Problem(number, f"neither a thread nor a comment ({kind!r}); skipped")


def _thread(data: dict[str, Any], line: int) -> Record:
    try:
        created = values.when(data.get("created_at"))
        closed_at = values.when(data["closed_at"]) if data.get("closed_at") else None
    except ValueError as e:
        return Problem(line, f"thread {data.get('id')}: {e}; skipped")
    return ThreadRecord(source_id=str(data.get("id")), key=values.line(data.get("article")),
                        url=values.url(data.get("url")), title=values.title(data.get("title")),
                        created=created, closed=closed_at is not None, closed_at=closed_at,
                        line=line)


def _comment(data: dict[str, Any], line: int, prefix: str) -> Record:
    """A comment as exported, or the problem that keeps it out."""
    label = f"comment {data.get('id')}"
    author = data.get("author")
    try:
        if data.get("id") is None or not isinstance(author, dict):
            raise ValueError("no id or no author")
        if not isinstance(data.get("text"), str) or not isinstance(data.get("html"), str):
            raise ValueError("no text or html")
        status = CommentStatus(data.get("status"))
        created = values.when(data.get("created_at"))
        edited = values.when(data["edited_at"]) if data.get("edited_at") else None
        extra = {column: data.get(column) for column in EXTRA_COLUMNS if column in data}
        for column, value in extra.items():
            if not isinstance(value, _EXTRA_TYPES[column]):
                raise ValueError(f"{column} is not a {_EXTRA_TYPES[column][0].__name__}")
        if extra.get("moderated_at"):
            extra["moderated_at"] = values.when(extra["moderated_at"])
    except ValueError as e:
        return Problem(line, f"{label}: {e}; skipped")
    parent = data.get("parent_id")
    return CommentRecord(
        source_id=f"{prefix}{data['id']}", thread_source_id=str(data.get("thread_id")),
        parent_source_id=f"{prefix}{parent}" if parent is not None else None,
        author_name=values.name(author.get("name")), author_email=values.email(author.get("email")),
        author_website=values.website(author.get("website")), created=created, edited=edited,
        status=status, text=values.text(data["text"]), html=data["html"],
        client_ip=values.ip(data.get("client_ip")), score=_int(data.get("score")),
        featured=data.get("featured") is True, notify_replies=data.get("notify_replies") is True,
        line=line, import_key=values.line(data.get("import_key")), extra=extra,
    )


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
