"""WordPress's WXR export (and Disqus's WXR-based import format): comments inside each <item>."""
from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit
from xml.etree.ElementTree import Element

from ..models import CommentStatus, utcnow
from . import values
from .records import CommentRecord, Pingback, Problem, Record, ThreadRecord
from .source import XmlEvents, XmlSource, local

PREFIX = "wordpress:"
STATUSES = {"1": CommentStatus.APPROVED, "approve": CommentStatus.APPROVED,
            "0": CommentStatus.PENDING, "hold": CommentStatus.PENDING,
            "spam": CommentStatus.SPAM,
            "trash": CommentStatus.REMOVED, "post-trashed": CommentStatus.REMOVED}
PINGS = ("pingback", "trackback")
# A body holding any of these is already laid out in HTML, and is left as it is.
_BLOCK_TAG = re.compile(r"<\s*/?\s*(p|div|blockquote|pre|ul|ol|li|dl|h[1-6]|table|hr|figure)\b",
                        re.IGNORECASE)
_BLANK_LINE = re.compile(r"\n[ \t]*\n\s*")


def read(path: str | Path) -> XmlSource:
    """A WXR file."""
    return XmlSource(path, {"rss": records}, "a WordPress export (WXR)")


def autop(body: str) -> str:
    """Paragraphs as WordPress shows a plain comment: a blank line parts them, a newline breaks."""
    body = body.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not body or _BLOCK_TAG.search(body):
        return body
    paragraphs = (p.strip() for p in _BLANK_LINE.split(body))
    return "\n".join(f"<p>{p.replace(chr(10), '<br>' + chr(10))}</p>" for p in paragraphs if p)


class _Item:
    """The <item> being read: its thread is announced with its first comment, or at its end."""

    def __init__(self, element: Element, line: int, site_link: str | None) -> None:
        self.element = element
        self.line = line
        self.site_link = site_link
        self.announced = False

    def field(self, name: str) -> str:
        """The trimmed text of the item's child `name` ("" when absent)."""
        for child in self.element:
            if local(child.tag) == name:
                return (child.text or "").strip()
        return ""

    @property
    def source_id(self) -> str:
        """What names the item in the file: its post id, else its link."""
        return self.field("post_id") or self.field("link") or f"line {self.line}"

    def thread(self, note: bool = True) -> Iterator[Record]:
        """The item's thread, once, with a note when its comments lack a permalink to go under."""
        if self.announced:
            return
        self.announced = True
        link = values.url(self.field("link"))
        key = values.line(self.field("thread_identifier")) or link
        post = self.field("post_id")
        if key is None:
            # WordPress's own short link, relative when the file does not name the site.
            key = values.url(self.field("guid")) or (
                f"{(self.site_link or '').rstrip('/')}/?p={post}" if post else None)
            if key is not None and note:
                yield Problem(self.line, f"item {post or self.source_id} has no <link>: its "
                                         f"comments are under {key!r} (--rewrite-url moves them)",
                              skipped=False)
        url = link or (key if key and "://" in key else None)
        yield ThreadRecord(source_id=self.source_id, key=key, url=url,
                           title=values.title(self.field("title")), created=self.created(),
                           closed=self.field("comment_status") == "closed", line=self.line)

    def created(self) -> datetime | None:
        """When the post was published, if the file says."""
        for name in ("post_date_gmt", "post_date"):
            try:
                return values.when(self.field(name))
            except ValueError:
                continue
        return None


def records(events: XmlEvents) -> Iterator[Record]:
    """Items and their comments, each comment as soon as it ends; elements are dropped once read.

    The blog is the source: its comments' keys carry the tag of its address (the channel's
    <link>, else its base URL, else the first item's site), fixed at its first comment.
    """
    open_elements: list[Element] = []
    site_link: str | None = None
    base_url: str | None = None
    tag: str | None = None
    item: _Item | None = None
    start = 0
    for event, element, line in events:
        if event == "start":
            open_elements.append(element)
            if len(open_elements) == 3 and local(element.tag) == "item":
                item = _Item(element, line, site_link)
            elif len(open_elements) == 4:
                start = line
            continue
        level = len(open_elements)
        open_elements.pop()
        name = local(element.tag)
        if level == 4 and item is not None and name == "comment":
            if tag is None:
                tag = values.source_tag("wordpress", values.site_address(
                    site_link or base_url or _host(item.field("link") or item.field("guid"))))
            yield from item.thread()
            yield from _comment(element, item, start, tag)
        elif level == 3 and item is not None and name == "item":
            yield from item.thread(note=False)
            item = None
        elif level == 3 and name == "link":
            site_link = values.url(element.text)
        elif level == 3 and name == "base_blog_url":
            base_url = values.url(element.text)
        if level == 3 or (level == 4 and name == "comment"):
            element.clear()
            open_elements[-1].remove(element)


def _host(url: str) -> str:
    """The host part of a URL ("" when it is not one)."""
    try:
        return urlsplit(url).netloc
    except ValueError:
        return ""


def _comment(element: Element, item: _Item, line: int, tag: str) -> Iterator[Record]:
    """A comment of the item (with a note when its date is missing), a pingback, or a problem."""
    def field(name: str) -> str:
        for child in element:
            if local(child.tag) == name:
                return (child.text or "").strip()
        return ""

    comment_id = field("comment_id")
    if not comment_id:
        yield Problem(line, "a comment without <wp:comment_id>; skipped")
        return
    if field("comment_type") in PINGS:
        yield Pingback(line)
        return
    label = f"comment {comment_id}"
    approved = field("comment_approved") or "1"
    status = STATUSES.get(approved)
    if status is None:
        yield Problem(line, f"{label}: unknown <wp:comment_approved> {approved!r}; skipped")
        return
    created = None
    for name in ("comment_date_gmt", "comment_date"):
        raw = field(name)
        if not raw or raw.startswith("0000-00-00"):
            continue
        try:
            created = values.when(raw)
            break
        except ValueError as e:
            yield Problem(line, f"{label}: <wp:{name}>: {e}; skipped")
            return
    if created is None:
        created = item.created()
        yield Problem(line, f"{label} has no date: dated "
                            f"{'like its post' if created else 'now'}", skipped=False)
        created = created or utcnow()
    parent = field("comment_parent")
    body = values.text(field("comment_content"))
    prefix = f"{PREFIX}{item.source_id}:"
    yield CommentRecord(
        source_id=prefix + comment_id, thread_source_id=item.source_id,
        parent_source_id=prefix + parent if parent not in ("", "0") else None,
        author_name=values.name(field("comment_author")),
        author_email=values.email(field("comment_author_email")),
        author_website=values.website(field("comment_author_url")),
        created=created, status=status, text=body, html=autop(body),
        client_ip=values.ip(field("comment_author_IP")), line=line,
        import_key=f"{PREFIX}{tag}:{item.source_id}:{comment_id}", legacy_key=prefix + comment_id,
    )
