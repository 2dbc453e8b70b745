"""An article's title and address: cleaned, kept as the site's own pages last named them, fixed by admins."""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote_plus, urlsplit

from ..errors import Forbidden, Invalid, NotFound
from ..extensions import db
from ..models import Moderator, Site, Thread, utcnow
from . import fields
from .moderation import log_thread_change, require_site
from .sites import url_origin

MAX_TITLE = 300
MAX_URL = 2048
# A query parameter a page might redirect to: "//host", "\\host" (browsers read "\" as "/"), or
# anything with a scheme ("https:", "javascript:").
_ELSEWHERE = re.compile(r"^(?:[/\\]{2}|[a-z][a-z0-9+.\-]*:)", re.IGNORECASE)
# Characters that show nothing or turn text around (bidi controls, zero widths) and private-use ones.
_HIDDEN = ("Cf", "Co")
_LEADING = "".join(map(chr, range(33)))


def clean_title(value: str | None) -> str | None:
    """A title without invisible or direction-changing characters, its spaces collapsed."""
    if value is None:
        return None
    visible = "".join(ch for ch in value if unicodedata.category(ch) not in _HIDDEN)
    return " ".join(visible.split()) or None


def clean_url(value: str | None, site: Site) -> str | None:
    """An address on one of `site`'s origins, as the origin, the path and the query without
    parameters that point elsewhere; no user, password or fragment. Invalid when off the site."""
    if value is None:
        return None
    origin = url_origin(value)
    if origin is None or origin not in site.origins:
        raise Invalid("The article URL is not on one of this site's origins.", "url")
    # Rebuilt from the origin Python read, so a browser that reads the host differently
    # ("https://evil.example\@news.example") still lands on the site's own host.
    parts = urlsplit(value)
    query = "&".join(p for p in parts.query.split("&") if p and not _points_elsewhere(p))
    return f"{origin}{parts.path or '/'}" + (f"?{query}" if query else "")


def _points_elsewhere(parameter: str) -> bool:
    """True for a query parameter whose name or value is another address."""
    for text in parameter.split("=", 1):
        for _ in range(3):  # "%252F%252F" is "//" to a page that decodes twice
            decoded = unquote_plus(text)
            if decoded == text:
                break
            text = decoded
        # Browsers drop tabs and newlines anywhere, and controls and spaces in front.
        if _ELSEWHERE.match(re.sub(r"[\t\n\r]", "", text).lstrip(_LEADING)):
            return True
    return False


def from_post(payload: Mapping[str, Any], site: Site) -> tuple[str | None, str | None]:
    """The (url, title) a post names its article with, cleaned; Invalid naming the field."""
    url = fields.web_url(payload, "url", "url", max_len=MAX_URL)
    title = fields.string(payload, "title", "title", max_len=MAX_TITLE)
    return clean_url(url, site), clean_title(title)


def observe(thread: Thread, url: str | None, title: str | None) -> None:
    """Take a post's title and address as the article's current ones, logging what changed
    (the caller commits); a missing value changes nothing, and neither does a locked thread."""
    if thread.meta_locked_at is not None:
        return
    changes = _changes(thread, title=title or thread.title, url=url or thread.url)
    if changes:
        log_thread_change(None, thread, "article_update", changes)


def _changes(thread: Thread, **values: Any) -> dict[str, list[Any]]:
    """Set `values` on the thread; each changed one as [old, new]."""
    changes = {}
    for name, value in values.items():
        if getattr(thread, name) != value:
            changes[name] = [getattr(thread, name), value]
            setattr(thread, name, value)
    return changes


def get_thread(moderator: Moderator, thread_id: int) -> Thread:
    """A thread the moderator may see: 404 when absent, 403 on another site."""
    thread = db.session.get(Thread, thread_id)
    if thread is None:
        raise NotFound("No such thread.")
    require_site(moderator, thread.site_id)
    return thread


def fix(moderator: Moderator, thread_id: int, *, title: str, url: str, locked: bool) -> Thread:
    """An admin's title and address for an article (empty: none), kept from readers' posts while
    `locked`; logged, in one commit."""
    thread = get_thread(moderator, thread_id)
    if not moderator.is_admin:
        raise Forbidden("Only an admin changes an article's title or address.")
    form = {"title": title, "url": url}
    new_title = clean_title(fields.string(form, "title", "title", max_len=MAX_TITLE))
    new_url = clean_url(fields.web_url(form, "url", "url", max_len=MAX_URL), thread.site)
    changes = _changes(thread, title=new_title, url=new_url)
    if (thread.meta_locked_at is not None) != locked:
        changes["locked"] = [not locked, locked]
        thread.meta_locked_at = utcnow() if locked else None
    if changes:
        thread.version = Thread.version + 1
        log_thread_change(moderator, thread, "thread_edit", changes)
    db.session.commit()
    return thread
