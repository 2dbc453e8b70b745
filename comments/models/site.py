"""Sites: one per embedding publication, with the origins allowed to embed it."""
from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Enum, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .thread import utcnow


class Moderation(enum.StrEnum):
    """`pre`: every new comment waits for a moderator; `post`: published at once."""

    PRE = "pre"
    POST = "post"


class Site(db.Model):
    """A publication that embeds the widget."""

    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # Normalised "scheme://host[:port]" strings allowed to embed the widget and call the API.
    origins: Mapped[list[str]] = mapped_column(JSON, default=list)
    moderation: Mapped[Moderation] = mapped_column(
        Enum(Moderation, name="moderation", native_enum=False, create_constraint=True, length=8,
             values_callable=lambda e: [m.value for m in e]),
        default=Moderation.POST,
    )
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def allows_origin(self, origin: str | None) -> bool:
        """True when `origin` (an Origin header value) may embed this site."""
        return origin is not None and origin in self.origins
