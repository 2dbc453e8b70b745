"""HTTP views, one blueprint per audience, and the URL converter they share."""
from __future__ import annotations

from werkzeug.routing import BaseConverter

from ..services.fields import MAX_ID


class IdConverter(BaseConverter):
    """`<id:name>`: a database id. Any run of digits matches, so every method of the route answers;
    a number no row can have becomes 0, which the views' look-ups find nothing for (a 404)."""

    regex = r"\d{1,30}"

    def to_python(self, value: str) -> int:
        """The id, or 0 when it is outside the database's range."""
        number = int(value)
        return number if 1 <= number <= MAX_ID else 0

    def to_url(self, value: int) -> str:
        """The id as digits."""
        return str(int(value))
