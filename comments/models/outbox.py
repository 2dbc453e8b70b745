"""Work that must not slow a request: mail and webhooks, delivered by a worker."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .thread import utcnow


class OutboxItem(db.Model):
    """One delivery to make, retried with backoff until it succeeds or runs out of attempts."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_sent_at_next_attempt_at", "sent_at", "next_attempt_at"),
        # A site's newest deliveries, for its admin page.
        Index("ix_outbox_site_id_id", "site_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # "mail" or "webhook".
    kind: Mapped[str] = mapped_column(String(16))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    # The site a delivery is about: a webhook's (also in its payload, which the worker reads), or
    # a reply mail's.
    site_id: Mapped[int | None]
    webhook_id: Mapped[int | None] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    # Given up on after the last attempt.
    failed_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    # For webhooks: the receiver's last HTTP status and the start of its answer.
    last_status: Mapped[int | None]
    last_response: Mapped[str | None] = mapped_column(Text)


class UsedLink(db.Model):
    """A one-time emailed link that has been used; signed links are refused a second time."""

    __tablename__ = "used_links"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    used_at: Mapped[datetime] = mapped_column(default=utcnow)
