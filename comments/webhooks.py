"""Webhook delivery: signed JSON POSTs from the outbox, retried with backoff like mail."""
from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import socket
import ssl
import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from urllib.parse import urlsplit

from flask import current_app

from .extensions import db
from .models import OutboxItem, Webhook, utcnow
from .outbox import claim, due
from .services.webhooks import KIND, RefusedAddress, checked_addresses

TIMEOUT = 10


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """`sha256=` HMAC of "TIMESTAMP." + body: a receiver rejects old timestamps against replay."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


class _PinnedHTTP(http.client.HTTPConnection):
    """HTTP to checked addresses, tried in turn; the Host header stays the URL's name."""

    def __init__(self, host: str, port: int | None, addresses: Sequence[str]) -> None:
        super().__init__(host, port, timeout=TIMEOUT)
        self.addresses = addresses

    def connect(self) -> None:
        """Connect to the first checked address that answers: never to a new lookup of the name."""
        self.sock = _connect(self.addresses, self.port, self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    """HTTPS to checked addresses; SNI and the certificate check are for the URL's name."""

    def __init__(self, host: str, port: int | None, addresses: Sequence[str]) -> None:
        self.tls = ssl.create_default_context()
        super().__init__(host, port, timeout=TIMEOUT, context=self.tls)
        self.addresses = addresses

    def connect(self) -> None:
        """Connect as _PinnedHTTP does, then speak TLS to the URL's host name."""
        self.sock = self.tls.wrap_socket(_connect(self.addresses, self.port, self.timeout),
                                         server_hostname=self.host)


def _connect(addresses: Sequence[str], port: int, timeout: float | None) -> socket.socket:
    """A connection to the first of `addresses` that accepts one."""
    error: OSError = OSError("no address to connect to")
    for address in addresses:
        try:
            return socket.create_connection((address, port), timeout)
        except OSError as e:
            error = e
    raise error


def post(url: str, addresses: Sequence[str], body: bytes,
         headers: Mapping[str, str]) -> tuple[int, str]:
    """POST to `url` at one of `addresses` (checked_addresses' answer); the status and the start of
    the answer. A redirect is an answer like any other: it could lead anywhere, so it is not
    followed. Raises OSError when no connection or TLS session is made."""
    parts = urlsplit(url)
    pinned = _PinnedHTTPS if parts.scheme == "https" else _PinnedHTTP
    connection = pinned(parts.hostname or "", parts.port, addresses)
    try:
        path = parts.path or "/"
        connection.request("POST", f"{path}?{parts.query}" if parts.query else path, body,
                           dict(headers))
        answer = connection.getresponse()
        return answer.status, answer.read(2000).decode("utf-8", "replace")
    finally:
        connection.close()


def send_pending(limit: int = 100, now: datetime | None = None) -> tuple[int, int]:
    """Deliver up to `limit` due webhook calls; returns (delivered, failed tries)."""
    now = now or utcnow()
    sent = failed = 0
    for item_id, seen in due(KIND, limit, now):
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
    try:
        addresses = checked_addresses(hook.url)
    except RefusedAddress as e:
        item.last_error, item.last_status = f"refused: {e.message}", None
        return False
    body = json.dumps(item.payload["body"], separators=(",", ":")).encode()
    stamp = int(time.time())
    headers = {
        "Content-Type": "application/json", "User-Agent": "comments-webhook/1",
        "X-Comments-Event": item.payload["event"], "X-Comments-Delivery": str(item.id),
        "X-Comments-Timestamp": str(stamp), "X-Comments-Signature": signature(hook.secret, stamp, body),
    }
    try:
        item.last_status, item.last_response = post(hook.url, addresses, body, headers)
    except (OSError, ValueError, http.client.HTTPException) as e:
        item.last_error, item.last_status = f"{type(e).__name__}: {e}"[:2000], None
        return False
    if not 200 <= item.last_status < 300:
        item.last_error = f"HTTP {item.last_status}"
        return False
    item.sent_at, item.last_error = utcnow(), None
    return True
