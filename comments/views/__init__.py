"""HTTP views, one blueprint per audience, and the URL converter they share."""
from __future__ import annotations

from werkzeug.routing import IntegerConverter

from ..services.fields import MAX_ID


class IdConverter(IntegerConverter):
    """`<id:name>`: a database id; larger numbers are a 404 before any query runs."""

    def __init__(self, map, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(map, min=1, max=MAX_ID)
