"""The outbox: services queue mail and webhook calls here; delivery workers claim them."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from email.utils import make_msgid, parseaddr

from flask import current_app

from .extensions import db
from .models import OutboxItem

MAIL = "mail"
# The first retry waits a minute, each next one twice as long, none longer than six hours.
BACKOFF = timedelta(minutes=1)
MAX_BACKOFF = timedelta(hours=6)


def enqueue(to: str, subject: str, text: str, html: str | None = None,
            headers: Mapping[str, str] | None = None, site_id: int | None = None) -> OutboxItem:
    """Add an email to the outbox without committing: it goes out only if the caller commits.

    `site_id` names the site a mail is about, so forgetting an author on one site drops only it.
    """
    domain = parseaddr(current_app.config["MAIL_FROM"])[1].rpartition("@")[2] or "localhost"
    # One Message-ID for every try: a resend after a lost reply is recognisably the same mail.
    item = OutboxItem(kind=MAIL, site_id=site_id, payload={
        "to": to, "subject": " ".join(subject.split()), "text": text, "html": html,
        "headers": {"Message-ID": make_msgid(domain=domain), **(headers or {})},
    })
    db.session.add(item)
    return item


def backoff(attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failed try."""
    return min(BACKOFF * 2 ** max(attempts - 1, 0), MAX_BACKOFF)


def due(kind: str, limit: int, now: datetime) -> list[tuple[int, int]]:
    """Up to `limit` items of `kind` due at `now`, oldest first: (id, attempts seen)."""
    rows = db.session.execute(
        db.select(OutboxItem.id, OutboxItem.attempts)
        .where(OutboxItem.kind == kind, OutboxItem.sent_at.is_(None),
               OutboxItem.failed_at.is_(None), OutboxItem.next_attempt_at <= now)
        .order_by(OutboxItem.next_attempt_at, OutboxItem.id).limit(limit)).all()
    db.session.commit()
    return [(item_id, attempts) for item_id, attempts in rows]


def claim(item_id: int, seen: int, now: datetime, retry_at: datetime | None = None) -> bool:
    """Take an item for this worker; True when it is ours to deliver.

    The update matches for one worker only, since it changes the `attempts` it checks. The next
    try is booked before delivering (at `retry_at`, else after the backoff), so a worker that dies
    mid-delivery only delays the item.
    """
    attempts = seen + 1
    result = db.session.execute(
        db.update(OutboxItem)
        .where(OutboxItem.id == item_id, OutboxItem.attempts == seen,
               OutboxItem.sent_at.is_(None), OutboxItem.failed_at.is_(None))
        .values(attempts=attempts, next_attempt_at=retry_at or now + backoff(attempts))
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount == 1
