"""The delivery worker: mail from the outbox sent over SMTP, webhook calls made, digests queued.

It sits above the services and calls them; services queue into `outbox` and never import this.
"""
from __future__ import annotations

import os
import smtplib
import ssl
import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app

from . import webhooks
from .extensions import db
from .models import OutboxItem, utcnow
# BACKOFF, MAX_BACKOFF, backoff, claim and enqueue are the outbox's, offered here to callers that
# drive delivery through this module.
from .outbox import BACKOFF, MAIL, MAX_BACKOFF, backoff, claim, due, enqueue  # noqa: F401
from .services import privacy
from .services.notify import queue_digest

KIND = MAIL
SMTP_TIMEOUT = 30
# Headers fold only past SMTP's 998-character line: the default folds a long List-Unsubscribe URL
# into RFC 2047 encoded words, which Gmail and Yahoo do not read as one-click unsubscribe.
HEADERS = policy.SMTP.clone(max_line_length=998)
EXTENSION = "comments.mail"


def send_pending(limit: int = 100, now: datetime | None = None) -> tuple[int, int]:
    """Deliver up to `limit` due emails; returns (sent, failed tries). Safe with several senders."""
    cfg = current_app.config
    if not cfg["MAIL_SERVER"]:
        return 0, 0
    now = now or utcnow()
    sent = failed = 0
    smtp: smtplib.SMTP | None = None
    try:
        for item_id, seen in due(KIND, limit, now):
            if not claim(item_id, seen, now):
                continue
            item = db.session.get_one(OutboxItem, item_id)
            try:
                smtp = smtp or _connect()
            except (OSError, smtplib.SMTPException) as e:
                # The server is unreachable: note it on this email and leave the rest for later.
                _failed(item, e, now)
                failed += 1
                break
            try:
                smtp.send_message(_message(item.payload))
            except (OSError, smtplib.SMTPException, ValueError) as e:
                _failed(item, e, now)
                failed += 1
                _quit(smtp)
                smtp = None
            else:
                item.sent_at, item.last_error = utcnow(), None
                sent += 1
                db.session.commit()
    finally:
        _quit(smtp)
    return sent, failed


def _failed(item: OutboxItem, error: Exception, now: datetime) -> None:
    """Keep the error; after the last try, give the email up."""
    item.last_error = f"{type(error).__name__}: {error}"[:2000]
    if item.attempts >= current_app.config["MAIL_MAX_ATTEMPTS"]:
        item.failed_at = now
    db.session.commit()


def _connect() -> smtplib.SMTP:
    cfg = current_app.config
    context = ssl.create_default_context()
    smtp: smtplib.SMTP
    if cfg["MAIL_USE_SSL"]:
        smtp = smtplib.SMTP_SSL(cfg["MAIL_SERVER"], cfg["MAIL_PORT"], timeout=SMTP_TIMEOUT,
                                context=context)
    else:
        smtp = smtplib.SMTP(cfg["MAIL_SERVER"], cfg["MAIL_PORT"], timeout=SMTP_TIMEOUT)
    try:
        if cfg["MAIL_USE_TLS"]:
            smtp.starttls(context=context)
        if cfg["MAIL_USERNAME"]:
            smtp.login(cfg["MAIL_USERNAME"], cfg["MAIL_PASSWORD"] or "")
    except BaseException:
        _quit(smtp)
        raise
    return smtp


def _quit(smtp: smtplib.SMTP | None) -> None:
    """Close a connection, whatever state it is in."""
    if smtp is None:
        return
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        smtp.close()


def _message(payload: Mapping[str, Any]) -> EmailMessage:
    """The email to send: bodies encoded as usual, headers written under HEADERS."""
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_FROM"]
    message["To"] = payload["to"]
    message["Subject"] = payload["subject"]
    message["Date"] = formatdate(usegmt=True)
    message["Auto-Submitted"] = "auto-generated"
    for name, value in payload.get("headers", {}).items():
        message[name] = value
    message.set_content(payload["text"])
    if payload.get("html"):
        message.add_alternative(payload["html"], subtype="html")
    # Set after the bodies, whose quoted-printable lines must stay short: only folding changes.
    message.policy = HEADERS
    return message


def work_round(now: datetime | None = None) -> tuple[int, int, int]:
    """One round of the outbox worker: purge old addresses once a day, queue moderators' digests,
    send due mail and webhook calls; returns (digests, delivered, failed tries)."""
    now = now or utcnow()
    days = current_app.config["IP_RETENTION_DAYS"]
    erased = privacy.purge_if_due(days, now)
    if erased is not None:
        current_app.logger.info("Daily purge: erased the address of %d comments older than %d days.",
                                erased, days)
    digests = queue_digest() if current_app.config["MAIL_SERVER"] else 0
    sent, failed = send_pending(now=now)
    hooks_sent, hooks_failed = webhooks.send_pending(now=now)
    return digests, sent + hooks_sent, failed + hooks_failed


def serve(app: Flask, interval: float, stop: threading.Event,
          report: Callable[[tuple[int, int, int]], object] | None = None) -> None:
    """Run a round every `interval` seconds until `stop` is set; a failed round is only logged."""
    while True:
        with app.app_context():
            try:
                counts = work_round()
            except Exception:
                app.logger.exception("Sending mail failed; trying again in %s seconds.", interval)
                db.session.rollback()
            else:
                if report is not None:
                    report(counts)
        if stop.wait(interval):
            return


class Sender:
    """This process's background sender: a daemon thread started by the first request."""

    def __init__(self, app: Flask) -> None:
        """Prepare, but start nothing."""
        self.app = app
        self.stop = threading.Event()
        self.thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._pid: int | None = None

    def ensure_started(self) -> None:
        """Start the thread once per process (a forked worker starts its own)."""
        if self._pid == os.getpid():
            return
        with self._lock:
            if self._pid == os.getpid():
                return
            self._pid = os.getpid()
            self.thread = threading.Thread(
                target=serve, args=(self.app, self.app.config["MAIL_POLL_SECONDS"], self.stop),
                name="comments-mail", daemon=True)
            self.thread.start()


def _validate(app: Flask) -> None:
    """Check the mail settings once, at start-up."""
    cfg = app.config
    if cfg["MAIL_USE_TLS"] and cfg["MAIL_USE_SSL"]:
        raise RuntimeError("Set at most one of MAIL_USE_TLS (STARTTLS) and MAIL_USE_SSL.")
    if cfg["MAIL_MAX_ATTEMPTS"] < 1 or cfg["MAIL_POLL_SECONDS"] < 1:
        raise RuntimeError("MAIL_MAX_ATTEMPTS and MAIL_POLL_SECONDS must be at least 1.")
    # Environment values are parsed as JSON, so a numeric password would arrive as a number.
    for key in ("MAIL_SERVER", "MAIL_USERNAME", "MAIL_PASSWORD"):
        if cfg[key] is not None:
            cfg[key] = str(cfg[key])
    if url := cfg["PUBLIC_URL"]:
        parts = urlsplit(url)
        if (parts.scheme not in ("http", "https") or not parts.netloc or parts.query
                or parts.fragment):
            raise RuntimeError(f"PUBLIC_URL must be an http(s) address, got {url!r}.")
        cfg["PUBLIC_URL"] = url.rstrip("/")
    elif cfg["MAIL_SERVER"]:
        raise RuntimeError("Set PUBLIC_URL with MAIL_SERVER: links in mail need the address.")


def init_app(app: Flask) -> None:
    """Check the settings; start the background sender lazily, with the first request."""
    _validate(app)
    cfg = app.config
    # The thread delivers webhooks too, so it runs even without a mail server.
    if cfg["MAIL_BACKGROUND"] and not app.testing:
        sender = app.extensions[EXTENSION] = Sender(app)
        app.before_request(sender.ensure_started)
