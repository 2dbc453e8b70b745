"""Sites: one per embedding publication, with the origins allowed to embed it."""
from __future__ import annotations

import enum
from dataclasses import dataclass
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


# Every per-site setting: its type, its default, and what it does. Stored sparsely in Site.settings.
SETTINGS: dict[str, tuple[type, Any, str]] = {
    "hold_score": (int, 4, "spam score at which a comment waits for a moderator"),
    "spam_score": (int, 8, "spam score at which a comment is kept as spam"),
    "max_links": (int, 2, "links a comment may carry before it scores"),
    "blocked_words": (list, [], "words that score a comment (comma-separated)"),
    "blocked_domains": (list, [], "link domains that score a comment (comma-separated)"),
    "hold_first_time": (bool, False, "hold an author's first comment on the site"),
    "min_seconds": (int, 3, "seconds a person needs at least to write a comment"),
    "trusted_after": (int, 3, "approved comments (and none removed or spam) that make an author trusted; 0: never"),
    "trusted_skip_premoderation": (bool, True, "trusted authors publish at once on pre-moderated sites"),
    "report_threshold": (int, 3, "readers' reports that send a published comment back to the queue"),
    "reported_stay_visible": (bool, True, "a reported comment stays visible while it waits"),
    "edit_window_minutes": (int, 15, "minutes an author may edit or delete their comment"),
    "auto_close_days": (int, 0, "threads close this many days after their first comment; 0: never"),
    "downvotes": (bool, False, "readers may down-vote as well as up-vote"),
    "show_own_pending": (bool, True, "a reader sees their own comment awaiting moderation after a reload"),
}


class SiteRules:
    """A site's settings and origins, read the same from the model and from a snapshot."""

    settings: dict[str, Any]
    origins: list[str]

    def setting(self, name: str) -> Any:
        """A setting's value on this site, or its default."""
        return self.settings.get(name, SETTINGS[name][1])

    def allows_origin(self, origin: str | None) -> bool:
        """True when `origin` (an Origin header value) may embed this site."""
        return origin is not None and origin in self.origins


@dataclass(frozen=True, slots=True)
class SiteSnapshot(SiteRules):
    """What the read path needs of a site, loaded without the ORM (services/reading.py)."""

    id: int
    slug: str
    origins: list[str]
    settings: dict[str, Any]


class Site(SiteRules, db.Model):
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
    # The HS256 secret the site signs its readers' single sign-on tokens with; None: no SSO.
    sso_secret: Mapped[str | None] = mapped_column(String(128))
    # The longest a sign-on token may live (exp - iat, or exp - now without iat), in minutes.
    sso_max_lifetime_minutes: Mapped[int] = mapped_column(default=24 * 60, server_default="1440")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
