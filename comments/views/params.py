"""Query and form arguments of the moderator pages and API: whole numbers and ids, range-checked."""
from __future__ import annotations

from collections.abc import Iterable
from typing import overload

from flask import request

from ..errors import Invalid
from ..services.fields import MAX_ID

# No id or page number has more digits: longer runs are refused before int() spends time on them.
MAX_DIGITS = len(str(MAX_ID))


def _whole(value: str, name: str) -> int:
    if not (value.isascii() and value.isdigit() and len(value) <= MAX_DIGITS
            and 1 <= int(value) <= MAX_ID):
        raise Invalid(f"'{name}' must be a whole number from 1 to {MAX_ID}.", name)
    return int(value)


@overload
def number(name: str, default: int) -> int: ...
@overload
def number(name: str, default: None = None) -> int | None: ...


def number(name: str, default: int | None = None) -> int | None:
    """The query argument `name` as a whole number from 1 to MAX_ID; `default` when empty."""
    value = request.args.get(name, "")
    return _whole(value, name) if value else default


def ids(values: Iterable[str], name: str) -> list[int]:
    """Every non-empty value as an id, in order; Invalid when one is not an id."""
    return [_whole(value, name) for value in values if value]
