"""Webhooks: registering a site's URLs, and queueing its comment events for the outbox worker."""
from __future__ import annotations

import ipaddress
import secrets
import socket
from collections.abc import Callable, Iterable
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
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _last_32_bits(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)


def _teredo_client(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    return address.teredo[1] if address.teredo else None


# IPv6 ranges through which a relay or translator reaches IPv4 (any IPv4 address, private ones
# included): refused whole, whatever they carry. Each with how to read the IPv4 address in it.
TUNNELS: list[tuple[str, ipaddress.IPv6Network,
                    Callable[[ipaddress.IPv6Address], ipaddress.IPv4Address | None]]] = [
    ("NAT64", ipaddress.IPv6Network("64:ff9b::/96"), _last_32_bits),
    ("NAT64", ipaddress.IPv6Network("64:ff9b:1::/48"), lambda address: None),  # prefix-dependent
    ("6to4", ipaddress.IPv6Network("2002::/16"), lambda address: address.sixtofour),
    ("Teredo", ipaddress.IPv6Network("2001::/32"), _teredo_client),
    ("IPv4-compatible", ipaddress.IPv6Network("::/96"), _last_32_bits),
]


class RefusedAddress(Invalid):
    """A webhook URL whose host must not be called."""


def checked_addresses(url: str) -> list[str]:
    """Resolve the URL's host once: its addresses, every one public unless WEBHOOK_ALLOW_PRIVATE.

    The caller connects to these and never looks the name up again, so a second answer (DNS
    rebinding) cannot send the call somewhere else; raises RefusedAddress.
    """
    host = urlsplit(url).hostname or ""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        raise RefusedAddress(f"{host} does not resolve", "url") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not current_app.config["WEBHOOK_ALLOW_PRIVATE"]:
        for address in addresses:
            if why := not_public(ipaddress.ip_address(address.split("%")[0])):
                raise RefusedAddress(f"{host} resolves to {why}", "url")
    return addresses


def not_public(address: IPAddress) -> str | None:
    """Why an address must not be called (loopback, private, link-local, reserved, multicast, or
    an IPv6 way into IPv4), or None. The IPv4 address inside an IPv6 one is judged as IPv4."""
    if isinstance(address, ipaddress.IPv6Address) and not (address.is_loopback
                                                           or address.is_unspecified):
        if address.ipv4_mapped:
            inner = not_public(address.ipv4_mapped)
            return f"{address}, an IPv4-mapped address for {inner}" if inner else None
        for name, network, embedded in TUNNELS:
            if address in network:
                carried = embedded(address)
                to = f" for {not_public(carried) or carried}" if carried else ""
                return f"{address}, a {name} address{to}"
    if not address.is_global or address.is_multicast:
        return f"{address}, a loopback, private, link-local or reserved address"
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
    try:
        checked_addresses(url)
    except RefusedAddress as e:
        raise Invalid(f"This webhook URL is refused: {e.message}.", "url") from None
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
