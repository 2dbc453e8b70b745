"""Field validation shared by every write: each check returns the clean value or raises Invalid."""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from ..errors import Invalid

# A pragmatic check of one plain address: one @ and a dotted domain, and none of the characters
# that turn a mail header's value into a list, a display name, a comment or a group; the mail
# server has the last word on the rest.
_SPECIALS = r"@\s,;<>\"()\[\]\\:"
EMAIL_RE = re.compile(rf"^[^{_SPECIALS}]{{1,64}}@[^{_SPECIALS}]+\.[^{_SPECIALS}.]{{2,}}$")
MAX_ID = 2**31 - 1
# Characters that draw nothing besides white space and format characters (category Cf: zero-width
# spaces and joiners, the word joiner, BOM, soft hyphen, bidi controls, tags): the others that
# Unicode ignores by default, and blanks that pass for letters.
_INVISIBLE = frozenset("\u034f\u115f\u1160\u17b4\u17b5\u3164\uffa0\u2800").union(
    map(chr, range(0x180B, 0x1810)), map(chr, range(0xFE00, 0xFE10)),
    map(chr, range(0xE0100, 0xE01F0)))


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


def visible(value: str) -> bool:
    """Whether a text shows anything: a character that is neither white space nor invisible."""
    return any(not (ch.isspace() or ch in _INVISIBLE or unicodedata.category(ch) == "Cf")
               for ch in value)


def plain_address(value: str) -> bool:
    """Whether `value` is exactly one plain email address (no list, name, comment or hidden
    character), so that mail sent to it reaches one mailbox."""
    return (len(value) <= 254 and EMAIL_RE.match(value) is not None
            and not any(unicodedata.category(ch) in ("Cc", "Cf") for ch in value))


def _label(field: str) -> str:
    return {"author.name": "The name", "author.email": "The email address",
            "author.website": "The website", "text": "The comment"}.get(field, f"'{field}'")


def string(data: Mapping[str, Any], key: str, field: str, *, max_len: int, required: bool = False,
           multiline: bool = False) -> str | None:
    """A trimmed string of at most `max_len` characters; None when absent and not required.
    A string of white space and invisible characters only counts as absent."""
    value = data.get(key)
    if value is None or (isinstance(value, str) and not visible(value)):
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
    """An optional email address, exactly one and plain, with its domain lower-cased; or Invalid."""
    value = string(data, key, field, max_len=254)
    if value is None:
        return None
    if not plain_address(value):
        raise Invalid("The email address does not look valid: give one plain address, "
                      "like name@example.org.", field)
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
