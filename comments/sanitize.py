"""Turn reader-written Markdown and imported HTML into sanitized, allowlisted HTML."""

import re
import threading
from collections.abc import Iterator
from functools import partial
from html.parser import HTMLParser
from typing import Any

from bleach.html5lib_shim import Filter
from bleach.linkifier import LinkifyFilter
from bleach.sanitizer import Cleaner
from markdown_it import MarkdownIt

ALLOWED_TAGS = frozenset(
    {"p", "br", "em", "strong", "code", "pre", "blockquote", "ul", "ol", "li", "a"}
)
ALLOWED_ATTRIBUTES = {"a": ["href"], "ol": ["start"]}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow ugc noopener"

# Their content is code or markup hidden from readers, so keeping it as text would only show junk.
_DROPPED_WITH_CONTENT = frozenset(
    {"script", "style", "template", "iframe", "noembed", "noframes", "noscript"}
)
_BLOCK_TAGS = frozenset({"p", "br", "pre", "blockquote", "ul", "ol", "li"})

# The scheme must be spelled literally at the start, so entities, controls or spaces there
# fail the match. The host may hold no brackets or entities either: bleach's own URL check
# decodes entities and rejects a malformed host, and must agree with us for stable output.
_SAFE_HREF = re.compile(
    r"https?://[^\x00-\x20\x7f/?#\\\[\]&]+(?:[/?#][^\x00-\x20\x7f]*)?"
    r"|mailto:[^\x00-\x20\x7f/&][^\x00-\x20\x7f]*",
    re.IGNORECASE,
)
# bleach's default pattern needs a TLD from a dated list and links bare names like setup.py,
# so only text starting with http(s):// or www. counts as a URL.
_URL_CHAR = r"[^\s<>\"'`()]"
_URL_PARENS = rf"\({_URL_CHAR}*\)"
_BARE_URL = re.compile(
    rf"\b(?:https?://|www\.)\w"
    rf"(?:(?:{_URL_CHAR}|{_URL_PARENS})*(?:[^\s<>\"'`().,;:!?*\]]|{_URL_PARENS}))?",
    re.IGNORECASE,
)


def _safe_href(href: str) -> str | None:
    """Return the href trimmed of ASCII whitespace if it is an absolute http(s) or mailto URL."""
    href = href.strip("\t\n\f\r ")
    return href if _SAFE_HREF.fullmatch(href) else None


def _link_policy(attrs: dict[Any, str], new: bool) -> dict[Any, str] | None:
    """Keep a link only with a safe href, and mark it as reader-supplied."""
    if _safe_href(attrs.get((None, "href"), "")) is None:
        return None
    attrs[(None, "rel")] = LINK_REL
    return attrs


class _Prune(Filter):
    """Drop script-like elements with their content and unwrap links with unsafe targets."""

    def __iter__(self) -> Iterator[dict[str, Any]]:
        """Yield the source tokens minus pruned elements."""
        skipping = 0
        unwrapped: list[bool] = []
        for token in super().__iter__():
            kind, name = token["type"], token.get("name")
            if skipping:
                skipping += {"StartTag": 1, "EndTag": -1}.get(kind, 0)
            elif kind == "StartTag" and name in _DROPPED_WITH_CONTENT:
                skipping = 1
            elif kind == "StartTag" and name == "a":
                href = _safe_href(token["data"].get((None, "href"), ""))
                unwrapped.append(href is None)
                if href is not None:
                    token["data"][(None, "href")] = href
                    yield token
            elif kind == "EndTag" and name == "a":
                if not unwrapped.pop():
                    yield token
            else:
                yield token


class _KeepPreNewline(Filter):
    """Double a newline that opens a <pre>, so the next parse leaves the text as it is."""

    def __iter__(self) -> Iterator[dict[str, Any]]:
        """Yield the tokens, with a newline added where a parser would drop one."""
        # An HTML parser drops one newline directly after a <pre> start tag, and the serializer
        # does not write it back, so every clean would eat one. This runs last, on the tokens
        # the serializer writes: earlier steps (pruning, stripping tags and comments) are what
        # can bring text up against the tag. <listing> and <textarea> never pass the allowlist.
        after_pre = False
        for token in super().__iter__():
            kind, data = token["type"], token.get("data")
            if after_pre and kind in ("Characters", "SpaceCharacters"):
                if not data:
                    yield token
                    continue
                if data.startswith("\n"):
                    token = {**token, "data": "\n" + data}
            after_pre = kind == "StartTag" and token["name"] == "pre"
            yield token


class _Cleaner(Cleaner):
    """A bleach Cleaner that prunes the parsed tree before its sanitizer runs."""

    def __init__(self, **kwargs: Any) -> None:
        """Build the cleaner, letting its parser see the elements that _Prune drops."""
        super().__init__(**kwargs)
        # bleach's parser turns tags outside the allowlist into plain text while tokenizing,
        # so a script's body would survive as text and its filters only run after sanitizing.
        # The parser builds these elements, _Prune removes them, and the sanitizer (still on
        # the allowlist alone) strips anything _Prune misses.
        self.parser.tags = frozenset(self.tags | _DROPPED_WITH_CONTENT)
        walk = self.walker
        self.walker = lambda dom: _Prune(walk(dom))


# bleach's Cleaner (and its html5lib parser) keeps state while it works, so each thread of a
# threaded server gets its own; they are built once per thread.
_local = threading.local()


def _tools() -> tuple[MarkdownIt, Cleaner]:
    """This thread's Markdown renderer and cleaner."""
    tools = getattr(_local, "tools", None)
    if tools is None:
        markdown = MarkdownIt("commonmark", {"breaks": True, "html": False}).disable(
            [
                "heading",
                "lheading",
                "hr",
                "image",
                "table",
                "strikethrough",
                "html_block",
                "html_inline",
            ]
        )
        cleaner = _Cleaner(
            tags=ALLOWED_TAGS,
            attributes=ALLOWED_ATTRIBUTES,
            protocols=ALLOWED_PROTOCOLS,
            strip=True,
            filters=[
                partial(
                    LinkifyFilter,
                    callbacks=[_link_policy],
                    skip_tags={"pre", "code"},
                    url_re=_BARE_URL,
                ),
                _KeepPreNewline,
            ],
        )
        tools = _local.tools = (markdown, cleaner)
    return tools


def render(text: str) -> str:
    """Render reader-written text in our Markdown subset to sanitized HTML."""
    markdown, cleaner = _tools()
    return cleaner.clean(markdown.render(text.replace("\x00", "")))


def clean_html(html: str) -> str:
    """Clean already-HTML input against the same allowlist, linkifying bare URLs."""
    return _tools()[1].clean(html.replace("\x00", ""))


class _TextCollector(HTMLParser):
    """Collect the text of HTML, with a space at each block boundary."""

    def __init__(self) -> None:
        """Start with no text."""
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Separate blocks so their words do not run together."""
        if tag in _BLOCK_TAGS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        """Separate blocks so their words do not run together."""
        if tag in _BLOCK_TAGS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        """Keep the text."""
        self.parts.append(data)


def excerpt(html: str, length: int = 140) -> str:
    """Return at most `length` characters of plain text from sanitized HTML, cut at a word."""
    collector = _TextCollector()
    # A queue page shows fifty of these: read only as far as the excerpt needs, not a whole essay.
    step = max(length * 4, 512)
    for start in range(0, len(html), step):
        collector.feed(html[start:start + step])
        if len(" ".join("".join(collector.parts).split())) > length:
            break
    collector.close()
    text = " ".join("".join(collector.parts).split())
    if len(text) <= length:
        return text
    head = text[: length - 1]
    if text[length - 1] != " " and " " in head:
        head = head.rsplit(" ", 1)[0]
    return head.rstrip() + "…"
