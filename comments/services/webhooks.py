"""Webhooks: registering a site's URLs, and queueing its comment events for the outbox worker."""
from __future__ import annotations

import ipaddress
import secrets
import socket
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from flask import current_app

from ..errors import Invalid, NotFound
from ..extensions import db
from ..models import EVENTS, Comment, Moderator, OutboxItem, Site, Webhook
# Moderation announces its changes through this module, so it is imported whole (a cycle).
from . import fields, moderation

KIND = "webhook"
# The thread events each comment status change announces.
STATUS_EVENTS = {"approved": "comment.approved", "removed": "comment.removed",
                 "spam": "comment.spam", "pending": "comment.queued"}


def refused_address(url: str) -> str | None:
    """Why a URL must not be called (it resolves to loopback, private or link-local), or None."""
    if current_app.config["WEBHOOK_ALLOW_PRIVATE"]:
        return None
    host = urlsplit(url).hostname or ""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        return f"{host} does not resolve"
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if not address.is_global or address.is_multicast:
            return f"{host} resolves to {address}, a loopback, private or link-local address"
    return None


def register(site: Site, actor: Moderator, url: str, events: Iterable[str]) -> tuple[Webhook, str]:
    """Add a webhook; its secret is returned once, for the receiver to check signatures with."""
    moderation.require_site(actor, site.id)
    url = fields.web_url({"url": url}, "url", "url", max_len=2048) or ""
    if not url:
        raise Invalid("A webhook needs an http(s) URL.", "url")
    chosen = [e for e in EVENTS if e in set(events)]
    if not chosen or set(events) - set(EVENTS):
        raise Invalid(f"Choose events among: {', '.join(EVENTS)}.", "events")
    if why := refused_address(url):
        raise Invalid(f"This webhook URL is refused: {why}.", "url")
    secret = secrets.token_urlsafe(32)
    hook = Webhook(site_id=site.id, url=url, secret=secret, events=chosen)
    db.session.add(hook)
    moderation.log_site_change(actor, site, {"webhook_added": url, "events": chosen})
    db.session.commit()
    return hook, secret


def remove(actor: Moderator, webhook_id: int) -> None:
    """Delete a webhook (its queued deliveries are dropped with it)."""
    hook = db.session.get(Webhook, webhook_id)
    if hook is None:
        raise NotFound("No such webhook.")
    moderation.require_site(actor, hook.site_id)
    db.session.execute(db.delete(OutboxItem).where(OutboxItem.webhook_id == hook.id,
                                                   OutboxItem.sent_at.is_(None)))
    moderation.log_site_change(actor, hook.site, {"webhook_removed": hook.url})
    db.session.delete(hook)
    db.session.commit()


def recent_deliveries(site: Site, limit: int = 20) -> list[OutboxItem]:
    """The site's newest deliveries with the receivers' answers, for the admin page."""
    return list(db.session.scalars(db.select(OutboxItem).where(
        OutboxItem.site_id == site.id, OutboxItem.kind == KIND)
        .order_by(OutboxItem.id.desc()).limit(limit)))


def emit(comment: Comment, *events: str) -> None:
    """Queue each event for every webhook of the comment's site that wants it (no commit: the
    delivery exists only if the caller's transaction does)."""
    hooks = db.session.scalars(db.select(Webhook).where(Webhook.site_id == comment.site_id,
                                                        Webhook.active.is_(True))).all()
    for event in events:
        wanted = [h for h in hooks if event in h.events]
        if not wanted:
            continue
        db.session.flush()
        body = _event_body(comment, event)
        for hook in wanted:
            db.session.add(OutboxItem(
                kind=KIND, site_id=hook.site_id, webhook_id=hook.id,
                payload={"webhook_id": hook.id, "site_id": hook.site_id, "event": event,
                         "body": body}))


def emit_status(comment: Comment) -> None:
    """Announce a comment's new status (approved, removed, spam, or back in the queue)."""
    event = STATUS_EVENTS.get(comment.status.value)
    if event:
        emit(comment, event)


def _event_body(comment: Comment, event: str) -> dict[str, Any]:
    """What a receiver learns: the comment as moderators see it, minus the address."""
    thread = comment.thread
    return {
        "event": event,
        "site": thread.site.slug,
        "comment": {
            "id": comment.id, "status": comment.status.value, "parent_id": comment.parent_id,
            "thread": {"article": thread.article_key, "url": thread.url, "title": thread.title},
            "author": {"name": comment.author_name, "email": comment.author_email,
                       "website": comment.author_website, "sso_id": comment.sso_id},
            "text": comment.text, "html": comment.html, "reasons": comment.reasons,
            "created_at": comment.created_at.isoformat() + "Z",
        },
    }
