"""Commento's JSON export (version 1) and Comentario's (version 3), plain or gzipped."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..models import CommentStatus
from . import values
from .records import CommentRecord, ImportFailed, Problem, Record, ThreadRecord
from .source import Input, load_json

COMMENTO, COMENTARIO = 1, 3
STATES = {"approved": CommentStatus.APPROVED, "unapproved": CommentStatus.PENDING,
          "flagged": CommentStatus.SPAM}


def read(path: str | Path) -> CommentoJson:
    """A Commento or Comentario export."""
    return CommentoJson(path)


class CommentoJson:
    """One JSON document, so it is loaded (and checked) whole before anything is written."""

    def __init__(self, path: str | Path) -> None:
        self.input = Input(path)
        self.progress = self.input
        self.document: dict[str, Any] | None = None

    def check(self) -> None:
        """Refuse what is not JSON, not an object, or of an unknown version."""
        if self.document is not None:
            return
        document = load_json(self.input)
        if not isinstance(document, dict) or "version" not in document:
            raise ImportFailed("not a Commento or Comentario export: no \"version\"")
        if document["version"] not in (COMMENTO, COMENTARIO):
            raise ImportFailed(f"unknown export version {document['version']!r}: Commento's "
                               f"is {COMMENTO}, Comentario's {COMENTARIO}")
        for part in ("comments", "commenters", "pages"):
            if not isinstance(document.get(part) or [], list):
                raise ImportFailed(f"not a Commento or Comentario export: {part!r} is not a list")
        self.document = document

    def __iter__(self) -> Iterator[Record]:
        self.check()
        document = self.document or {}
        if document["version"] == COMMENTO:
            yield from _commento(document)
        else:
            yield from _comentario(document)


def _items(document: dict[str, Any], part: str) -> list[dict[str, Any]]:
    return [item for item in document.get(part) or [] if isinstance(item, dict)]


def _page(host: str | None, path: str) -> str:
    """The article key of a page: its URL when the host is known, else its path."""
    if "://" in path or not host:
        return path
    return f"https://{host}{path if path.startswith('/') else '/' + path}"


def _commento(document: dict[str, Any]) -> Iterator[Record]:
    """Commento: comments name their page by domain and path, and their author by commenter."""
    people = {c.get("commenterHex"): c for c in _items(document, "commenters")}
    seen: set[str] = set()
    for number, comment in enumerate(_items(document, "comments"), 1):
        host = values.line(comment.get("domain") or comment.get("host"))
        path = values.line(comment.get("url") or comment.get("path")) or "/"
        page = _page(host, path)
        if page not in seen:
            seen.add(page)
            yield ThreadRecord(source_id=page, key=page, url=page if "://" in page else None)
        hexid = comment.get("commentHex")
        if not hexid:
            yield Problem(None, f"comment {number} has no commentHex; skipped")
            continue
        try:
            created = values.when(comment.get("creationDate"))
        except ValueError as e:
            yield Problem(None, f"comment {hexid}: {e}; skipped")
            continue
        state = comment.get("state") or "approved"
        status = CommentStatus.REMOVED if comment.get("deleted") else STATES.get(state)
        if status is None:
            yield Problem(None, f"comment {hexid}: unknown state {state!r}; skipped")
            continue
        author = people.get(comment.get("commenterHex")) or {}
        parent = comment.get("parentHex")
        yield from _score_note(comment, f"comment {hexid}")
        yield CommentRecord(
            source_id=f"commento:{hexid}", thread_source_id=page,
            parent_source_id=f"commento:{parent}" if parent and parent != "root" else None,
            author_name=values.name(author.get("name")),
            author_email=values.email(author.get("email")),
            author_website=values.website(author.get("link")), created=created, status=status,
            text=values.text(comment.get("markdown")), html=None,
            score=values.score(comment.get("score")) or 0,
        )


def _comentario(document: dict[str, Any]) -> Iterator[Record]:
    """Comentario: pages (with their paths) first, then comments naming page, parent and user."""
    hosts = {d.get("id"): values.line(d.get("host")) for d in _items(document, "domains")}
    for page in _items(document, "pages"):
        key = _page(hosts.get(page.get("domainId")), values.line(page.get("path")) or "/")
        try:
            created = values.when(page.get("createdTime"))
        except ValueError:
            created = None
        yield ThreadRecord(source_id=str(page.get("id")), key=key,
                           url=key if "://" in key else None, title=values.title(page.get("title")),
                           created=created, closed=bool(page.get("isReadonly")))
    people = {c.get("id"): c for c in _items(document, "commenters")}
    for number, comment in enumerate(_items(document, "comments"), 1):
        if not comment.get("id"):
            yield Problem(None, f"comment {number} has no id; skipped")
            continue
        try:
            created = values.when(comment.get("createdTime"))
        except ValueError as e:
            yield Problem(None, f"comment {comment['id']}: {e}; skipped")
            continue
        if comment.get("isDeleted"):
            status = CommentStatus.REMOVED
        elif comment.get("isPending") or comment.get("isApproved") is False:
            status = CommentStatus.PENDING
        else:
            status = CommentStatus.APPROVED
        author = people.get(comment.get("userCreated")) or {}
        parent = comment.get("parentId")
        yield from _score_note(comment, f"comment {comment['id']}")
        yield CommentRecord(
            source_id=f"comentario:{comment['id']}", thread_source_id=str(comment.get("pageId")),
            parent_source_id=f"comentario:{parent}" if parent else None,
            author_name=values.name(author.get("name"), comment.get("authorName")),
            author_email=values.email(author.get("email")),
            author_website=values.website(author.get("websiteUrl")), created=created,
            status=status, text=values.text(comment.get("markdown")), html=None,
            score=values.score(comment.get("score")) or 0, featured=bool(comment.get("isSticky")),
        )


def _score_note(comment: dict[str, Any], label: str) -> Iterator[Problem]:
    """A note when the comment's score is not one, so it is imported as 0."""
    if values.score(comment.get("score")) is None:
        yield Problem(None, f"{label}: score {values.shown(comment.get('score'))} is out of "
                            "range; imported as 0", skipped=False)
