"""The JSON values every API shares, and the request body reader its views use."""
from __future__ import annotations

from datetime import UTC, datetime

# The reader lives below the views, where the rate-limit keys read it too.
from ..bodies import json_body  # noqa: F401


def iso(moment: datetime | None) -> str | None:
    """A stored UTC time as ISO 8601 with a Z."""
    if moment is None:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(timespec="milliseconds") + "Z"
