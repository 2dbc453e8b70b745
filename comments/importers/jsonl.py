"""Reading back our own JSON-lines export (see export.py), a line at a time."""
from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ..errors import Invalid
from ..models import CommentStatus
from ..services import fields
from . import values
from .export import EXTRA_COLUMNS, FORMAT, VERSION
from .records import CommentRecord, ImportFailed, Problem, Record, ThreadRecord
from .source import Input, lines

# A line longer than this is a bad record, and is read past in chunks rather than held.
MAX_LINE = 1 << 20

_HASH = re.compile(r"^[0-9a-f]{64}$")
# The import key a comment of our export gets elsewhere: "json:SITE:ID".
_OWN_KEY = re.compile(r"^json:([^:]+):([0-9]+)$")
# Queue reasons: how many, and how long each, a comment may carry.
REASONS_MAX, REASON_MAX = 50, 500


def _reasons(value: Any) -> bool:
    return isinstance(value, list) and len(value) <= REASONS_MAX and all(
        isinstance(r, str) and len(r) <= REASON_MAX for r in value)


def _verdict(value: Any) -> bool:
    """None, or the shape spam.Verdict.as_json writes (what the moderation pages show)."""
    if value is None:
        return True
    if not isinstance(value, dict) or not isinstance(value.get("action"), str):
        return False
    signals = value.get("signals")
    return (values.score(value.get("score")) is not None and isinstance(signals, list)
            and all(isinstance(s, dict) and isinstance(s.get("rule"), str)
                    and values.score(s.get("score")) is not None for s in signals))


# What each extra column's value must be, else the record is skipped.
_EXTRA_CHECKS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "reasons": (_reasons, "a list of short texts"),
    "verdict": (_verdict, "a spam filter's verdict"),
    "flagged": (lambda v: isinstance(v, bool), "true or false"),
    "reader_hash": (lambda v: v is None or (isinstance(v, str) and bool(_HASH.match(v))),
                    "a SHA-256 digest"),
    "edit_token_hash": (lambda v: v is None or (isinstance(v, str) and bool(_HASH.match(v))),
                        "a SHA-256 digest"),
    "moderated_at": (lambda v: v is None or isinstance(v, str), "a date"),
    "sso_id": (lambda v: v is None or (isinstance(v, str) and 0 < len(v) <= 200
                                       and values.text(v) == v), "an identity"),
    "author_avatar": (lambda v: v is None or isinstance(v, str), "a text"),
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
                    yield from _comment(data, number, f"json:{self.slug}:")
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


def _comment(data: dict[str, Any], line: int, prefix: str) -> Iterator[Record]:
    """A comment as exported (after notes on values left out), or the problem that keeps it out."""
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
            check, what = _EXTRA_CHECKS[column]
            if not check(value):
                raise ValueError(f"{column} is not {what}")
        if extra.get("moderated_at"):
            extra["moderated_at"] = values.when(extra["moderated_at"])
    except ValueError as e:
        yield Problem(line, f"{label}: {e}; skipped")
        return
    if extra.get("author_avatar") is not None:
        try:
            fields.web_url(extra, "author_avatar", "author_avatar")
        except Invalid:
            extra["author_avatar"] = None
            yield Problem(line, f"{label}: author_avatar is not an http or https address; "
                                "left out", skipped=False)
    score = values.score(data.get("score"))
    if score is None:
        yield Problem(line, f"{label}: score {values.shown(data.get('score'))} is out of range; "
                            "imported as 0", skipped=False)
    parent = data.get("parent_id")
    import_key = values.line(data.get("import_key"))
    own = _OWN_KEY.match(import_key or f"{prefix}{data['id']}")
    yield CommentRecord(
        source_id=f"{prefix}{data['id']}", thread_source_id=str(data.get("thread_id")),
        parent_source_id=f"{prefix}{parent}" if parent is not None else None,
        author_name=values.name(author.get("name")), author_email=values.email(author.get("email")),
        author_website=values.website(author.get("website")), created=created, edited=edited,
        status=status, text=values.text(data["text"]), html=data["html"],
        client_ip=values.ip(data.get("client_ip")), score=score or 0,
        featured=data.get("featured") is True, notify_replies=data.get("notify_replies") is True,
        line=line, import_key=import_key, extra=extra,
        origin=(own[1], int(own[2])) if own else None,
    )
