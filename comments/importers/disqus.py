"""Disqus's XML export: <thread> and <post> elements under <disqus>, read as a stream."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from xml.etree.ElementTree import Element

from ..models import CommentStatus
from . import values, wordpress
from .records import CommentRecord, Problem, Record, ThreadRecord
from .source import XmlEvents, XmlSource, local

PREFIX = "disqus:"


def read(path: str | Path) -> XmlSource:
    """A Disqus export; Disqus's own import format (WXR with dsq: fields) is read as WXR."""
    return XmlSource(path, {"disqus": records, "rss": wordpress.records}, "a Disqus export")


def records(events: XmlEvents) -> Iterator[Record]:
    """Threads and posts, each as soon as its element ends; elements are dropped once read.

    The forum is the source: its posts' keys carry the tag of the first <forum> named by a
    category or thread (they come before the posts), fixed at the first post.
    """
    depth = 0
    root: Element | None = None
    start = 0
    forum = ""
    tag: str | None = None
    for event, element, line in events:
        if event == "start":
            depth += 1
            if depth == 1:
                root = element
            elif depth == 2:
                start = line
            continue
        depth -= 1
        if depth != 1 or root is None:
            continue
        kind = local(element.tag)
        if kind in ("category", "thread") and not forum:
            forum = _text(element, "forum").lower()
        if kind == "thread":
            yield _thread(element, start)
        elif kind == "post":
            tag = tag or values.source_tag("disqus", forum)
            yield _post(element, start, tag)
        element.clear()
        root.remove(element)


def _child(element: Element, name: str) -> Element | None:
    for child in element:
        if local(child.tag) == name:
            return child
    return None


def _text(element: Element | None, name: str) -> str:
    child = _child(element, name) if element is not None else None
    return (child.text or "").strip() if child is not None else ""


def _dsq_id(element: Element | None) -> str | None:
    """The dsq:id attribute (Disqus's own id) of an element."""
    if element is None:
        return None
    for key, value in element.attrib.items():
        if local(key) == "id" and value.strip():
            return value.strip()
    return None


def _thread(element: Element, line: int) -> ThreadRecord:
    """A thread, keyed by its identifier (the page's disqus_identifier) or else its link."""
    link = values.url(_text(element, "link"))
    try:
        created = values.when(_text(element, "createdAt"))
    except ValueError:
        created = None
    return ThreadRecord(
        source_id=_dsq_id(element) or f"line {line}",
        key=values.line(_text(element, "id")) or link,
        url=link, title=values.title(_text(element, "title")), created=created,
        closed=values.flag(_text(element, "isClosed")), line=line,
    )


def _post(element: Element, line: int, tag: str) -> Record:
    """A post, or the problem that keeps it out."""
    post_id = _dsq_id(element)
    if post_id is None:
        return Problem(line, "a <post> without a dsq:id; skipped")
    thread_id = _dsq_id(_child(element, "thread"))
    if thread_id is None:
        return Problem(line, f"post {post_id} names no thread; skipped")
    try:
        created = values.when(_text(element, "createdAt"))
    except ValueError as e:
        return Problem(line, f"post {post_id}: <createdAt>: {e}; skipped")
    if values.flag(_text(element, "isDeleted")):
        status = CommentStatus.REMOVED
    elif values.flag(_text(element, "isSpam")):
        status = CommentStatus.SPAM
    else:
        status = CommentStatus.APPROVED
    author = _child(element, "author")
    parent = _dsq_id(_child(element, "parent"))
    message = values.text(_text(element, "message"))
    return CommentRecord(
        source_id=PREFIX + post_id, thread_source_id=thread_id,
        parent_source_id=PREFIX + parent if parent else None,
        author_name=values.name(_text(author, "name"), _text(author, "username")),
        author_email=values.email(_text(author, "email")), author_website=None,
        created=created, status=status, text=message, html=message,
        client_ip=values.ip(_text(element, "ipAddress")), line=line,
        import_key=f"{PREFIX}{tag}:{post_id}", legacy_key=PREFIX + post_id,
    )
