"""Field validation shared by every write: each check returns the clean value or raises Invalid."""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from ..errors import Invalid

# A pragmatic address check: one @, a dotted domain, no spaces; the mail server has the last word.
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s.]{2,}$")
MAX_ID = 2**31 - 1


def _printable(value: str, field: str, multiline: bool) -> str:
    """Refuse what no database or page should hold: lone surrogates and control characters."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise Invalid(f"{_label(field)} contains characters that are not valid Unicode.", field) from None
    allowed = "\n\r\t" if multiline else ""
    for ch in value:
        if unicodedata.category(ch) == "Cc" and ch not in allowed:
            raise Invalid(f"{_label(field)} contains control characters.", field)
    return value


def _label(field: str) -> str:
    return {"author.name": "The name", "author.email": "The email address",
            "author.website": "The website", "text": "The comment"}.get(field, f"'{field}'")


def string(data: Mapping[str, Any], key: str, field: str, *, max_len: int, required: bool = False,
           multiline: bool = False) -> str | None:
    """A trimmed string of at most `max_len` characters; None when absent and not required."""
    value = data.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise Invalid(f"{_label(field)} is required.", field)
        return None
    if not isinstance(value, str):
        raise Invalid(f"{_label(field)} must be a string.", field)
    value = _printable(value.strip(), field, multiline)
    if len(value) > max_len:
        raise Invalid(f"{_label(field)} is too long ({len(value)} characters, at most {max_len}).", field)
    return value


def email(data: Mapping[str, Any], key: str, field: str) -> str | None:
    """An optional email address, lower-cased domain, or Invalid."""
    value = string(data, key, field, max_len=254)
    if value is None:
        return None
    if not EMAIL_RE.match(value):
        raise Invalid("The email address does not look valid.", field)
    local, _, domain = value.rpartition("@")
    return f"{local}@{domain.lower()}"


def web_url(data: Mapping[str, Any], key: str, field: str, *, max_len: int = 512) -> str | None:
    """An optional absolute http(s) URL with a host, or Invalid."""
    value = string(data, key, field, max_len=max_len)
    if value is None:
        return None
    parts = urlsplit(value)
    try:
        parts.port
    except ValueError:
        raise Invalid(f"{_label(field)} must be an http or https address.", field) from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or " " in value:
        raise Invalid(f"{_label(field)} must be an http or https address.", field)
    return value


def object_id(data: Mapping[str, Any], key: str, field: str) -> int | None:
    """An optional positive integer id that fits the database's integer column."""
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_ID:
        raise Invalid(f"'{field}' must be the id of a comment.", field)
    return value


def mapping(data: Mapping[str, Any], key: str, field: str) -> Mapping[str, Any]:
    """A nested JSON object (an empty one when absent)."""
    value = data.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise Invalid(f"'{field}' must be an object.", field)
    return value


def storable(value: str | None) -> str | None:
    """`value` when a database can hold it; None for text with NUL or lone surrogates, which
    PostgreSQL refuses (used for search filters, where a refusal would only say "no match")."""
    if value is None or "\x00" in value:
        return None
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return None
    return value
