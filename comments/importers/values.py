"""Cleaning the values of other systems' records into what our columns hold."""
from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from urllib.parse import urlsplit

from ..services.fields import plain_address, visible

ANONYMOUS = "Anonymous"
# Column sizes of Comment and Thread: longer values are cut (names, titles) or dropped (addresses).
NAME_MAX, WEBSITE_MAX, IP_MAX = 64, 512, 45
KEY_MAX, URL_MAX, TITLE_MAX = 512, 2048, 300
IMPORT_KEY_MAX = 128
# No real comment scores beyond this, and the column needs room for the votes still to come.
SCORE_MAX = 1_000_000
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACE_DATE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}(:\d{2}(\.\d+)?)?$")


def text(value: object) -> str:
    """A string no database refuses: no NUL or other control characters but line breaks and tabs."""
    if value is None:
        return ""
    return _CONTROL.sub("", value if isinstance(value, str) else str(value))


def line(value: object) -> str | None:
    """A one-line value, trimmed; None when empty."""
    cleaned = " ".join(text(value).split())
    return cleaned or None


def name(*candidates: object) -> str:
    """The first candidate that shows something, cut to the column, else "Anonymous"."""
    for candidate in candidates:
        cleaned = line(candidate)
        if cleaned and visible(cleaned):
            return cleaned[:NAME_MAX]
    return ANONYMOUS


def email(value: object) -> str | None:
    """One plain address, checked as a post's is (reply mail goes to it), else None."""
    cleaned = line(value)
    return cleaned if cleaned and plain_address(cleaned) else None


def website(value: object) -> str | None:
    """An absolute http(s) URL with a host (a bare domain gets http://), else None."""
    cleaned = line(value)
    if not cleaned or " " in cleaned:
        return None
    if "://" not in cleaned and re.match(r"^[\w-]+(\.[\w-]+)+(/|$)", cleaned):
        cleaned = "http://" + cleaned
    try:
        parts = urlsplit(cleaned)
        parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return cleaned if len(cleaned) <= WEBSITE_MAX else None


def ip(value: object) -> str | None:
    """An address that fits the column, else None."""
    cleaned = line(value)
    return cleaned if cleaned and len(cleaned) <= IP_MAX else None


def title(value: object) -> str | None:
    """A title cut to the column."""
    cleaned = line(value)
    return cleaned[:TITLE_MAX] if cleaned else None


def url(value: object) -> str | None:
    """A URL that fits the column, else None."""
    cleaned = line(value)
    return cleaned if cleaned and len(cleaned) <= URL_MAX else None


def when(value: object) -> datetime:
    """Naive UTC from ISO 8601 (with Z or an offset) or "YYYY-MM-DD HH:MM[:SS]" taken as UTC.

    Raises ValueError for anything else, including WordPress's empty date 0000-00-00.
    """
    raw = value.strip() if isinstance(value, str) else ""
    if not raw:
        raise ValueError("no date")
    if not (_SPACE_DATE.match(raw) or "T" in raw):
        raise ValueError(f"{raw!r} is not a date")
    try:
        parsed = datetime.fromisoformat(raw.replace("z", "Z"))
    except ValueError:
        raise ValueError(f"{raw!r} is not a date") from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


def from_timestamp(value: float) -> datetime:
    """Naive UTC from seconds since the epoch."""
    return datetime.fromtimestamp(value, UTC).replace(tzinfo=None)


def source_tag(*identity: object) -> str:
    """A short name for an export's source, made from what identifies it (never its file's path).

    Import keys carry it, so comments of two sources with the same ids never meet.
    """
    return hashlib.sha256("\x1f".join(map(str, identity)).encode()).hexdigest()[:12]


def site_address(url: str | None) -> str:
    """A site's URL as it names the site: no scheme, no "www.", no trailing slash, any case."""
    rest = (url or "").strip().lower().partition("://")[2] or (url or "").strip().lower()
    return rest.removeprefix("www.").rstrip("/")


def import_key(value: str) -> str:
    """`value` when it fits the column, else its format prefix and a digest (one per value)."""
    if len(value) <= IMPORT_KEY_MAX:
        return value
    prefix = value.split(":", 1)[0][:20]
    return f"{prefix}:sha256:{hashlib.sha256(value.encode()).hexdigest()}"


def score(value: object, low: int = -SCORE_MAX) -> int | None:
    """An integer from `low` to SCORE_MAX (0 for none), else None."""
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= SCORE_MAX:
        return None
    return value


def shown(value: object) -> str:
    """A value quoted for a problem report, cut short."""
    return repr(value)[:40]


def flag(value: str | None) -> bool:
    """True for "true" (any case) or "1"."""
    return (value or "").strip().lower() in ("true", "1")
