"""Webhook delivery: signed JSON POSTs from the outbox, retried with backoff like mail."""
from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from datetime import datetime

from flask import current_app

from .extensions import db
from .mail import claim
from .models import OutboxItem, Webhook, utcnow
from .services.webhooks import KIND, refused_address

TIMEOUT = 10


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """`sha256=` HMAC of "TIMESTAMP." + body: a receiver rejects old timestamps against replay."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect could lead anywhere, private addresses included: treat it as the answer."""

    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def send_pending(limit: int = 100, now: datetime | None = None) -> tuple[int, int]:
    """Deliver up to `limit` due webhook calls; returns (delivered, failed tries)."""
    now = now or utcnow()
    due = db.session.execute(
        db.select(OutboxItem.id, OutboxItem.attempts)
        .where(OutboxItem.kind == KIND, OutboxItem.sent_at.is_(None),
               OutboxItem.failed_at.is_(None), OutboxItem.next_attempt_at <= now)
        .order_by(OutboxItem.next_attempt_at, OutboxItem.id).limit(limit)).all()
    db.session.commit()
    sent = failed = 0
    for item_id, seen in due:
        if not claim(item_id, seen, now):
            continue
        item = db.session.get_one(OutboxItem, item_id)
        if _deliver(item):
            sent += 1
        else:
            failed += 1
            if item.attempts >= current_app.config["WEBHOOK_MAX_ATTEMPTS"]:
                item.failed_at = now
        db.session.commit()
    return sent, failed


def _deliver(item: OutboxItem) -> bool:
    """POST one event; True on a 2xx answer. The answer is kept for admins either way."""
    hook = db.session.get(Webhook, item.payload["webhook_id"])
    if hook is None or not hook.active:
        item.failed_at, item.last_error = utcnow(), "the webhook no longer exists"
        return False
    if why := refused_address(hook.url):
        item.last_error, item.last_status = f"refused: {why}", None
        return False
    body = json.dumps(item.payload["body"], separators=(",", ":")).encode()
    stamp = int(time.time())
    request = urllib.request.Request(hook.url, data=body, method="POST", headers={
        "Content-Type": "application/json", "User-Agent": "comments-webhook/1",
        "X-Comments-Event": item.payload["event"], "X-Comments-Delivery": str(item.id),
        "X-Comments-Timestamp": str(stamp), "X-Comments-Signature": signature(hook.secret, stamp, body),
    })
    try:
        with _opener.open(request, timeout=TIMEOUT) as answer:
            item.last_status, item.last_response = answer.status, answer.read(2000).decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        item.last_status, item.last_response = e.code, e.read(2000).decode("utf-8", "replace")
        item.last_error = f"HTTP {e.code}"
        return False
    except (OSError, ValueError) as e:
        item.last_error, item.last_status = f"{type(e).__name__}: {e}"[:2000], None
        return False
    if not 200 <= item.last_status < 300:
        item.last_error = f"HTTP {item.last_status}"
        return False
    item.sent_at, item.last_error = utcnow(), None
    return True
