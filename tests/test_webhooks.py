"""Webhooks: registration with the address check, signed deliveries from the outbox, retries."""
from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from comments import webhooks as delivery
from comments.extensions import db
from comments.models import OutboxItem, Site, Webhook
from comments.services import webhooks

from .conftest import make_app
from .modhelpers import login, post_comment, setup_sites


class Receiver:
    """A real HTTP server on loopback that records what it is sent and answers as told."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (the http.server API)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.calls.append({"headers": dict(self.headers), "body": body})
                self.send_response(receiver.status)
                self.end_headers()
                self.wfile.write(b"thanks" if receiver.status < 300 else b"broken")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def app(tmp_path: Path, _postgres_schema: None) -> Iterator[Flask]:
    app = make_app(tmp_path, WEBHOOK_ALLOW_PRIVATE=True)
    setup_sites(app)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def add_hook(app: Flask, url: str, events: list[str] | None = None) -> str:
    client, token = login(app, "admin@example.org")
    page = client.post("/mod/sites/news/webhooks", data={
        "csrf_token": token, "url": url,
        "events": events or ["comment.created", "comment.queued", "comment.approved",
                             "comment.removed", "comment.spam"]})
    match = re.search(r'<code id="webhook-secret">([^<]+)</code>', page.get_data(as_text=True))
    assert match, page.get_data(as_text=True)[:500]
    return match.group(1)


def deliver(app: Flask) -> tuple[int, int]:
    with app.app_context():
        return delivery.send_pending()


def test_events_are_delivered_signed_from_the_worker_not_the_request(app: Flask, receiver: Receiver) -> None:
    secret = add_hook(app, receiver.url)
    cid = post_comment(app, text="Hello hooks")
    assert receiver.calls == []
    assert deliver(app) == (2, 0)
    events = [json.loads(c["body"])["event"] for c in receiver.calls]
    assert events == ["comment.created", "comment.queued"]
    call = receiver.calls[0]
    stamp = call["headers"]["X-Comments-Timestamp"]
    expected = hmac.new(secret.encode(), f"{stamp}.".encode() + call["body"], hashlib.sha256).hexdigest()
    assert call["headers"]["X-Comments-Signature"] == f"sha256={expected}"
    body = json.loads(call["body"])
    assert body["comment"]["id"] == cid and body["comment"]["text"] == "Hello hooks"
    assert "ip" not in json.dumps(body["comment"]["author"])
    client, token = login(app, "admin@example.org")
    client.post("/mod/actions", data={"csrf_token": token, "one": f"approve:{cid}"})
    client.post("/mod/actions", data={"csrf_token": token, "one": f"spam:{cid}"})
    deliver(app)
    assert [json.loads(c["body"])["event"] for c in receiver.calls][2:] == ["comment.approved", "comment.spam"]
    page = client.get("/mod/sites/news").get_data(as_text=True)
    assert "HTTP 200" in page and "delivered" in page


def test_only_the_chosen_events_are_sent(app: Flask, receiver: Receiver) -> None:
    add_hook(app, receiver.url, ["comment.approved"])
    post_comment(app)
    assert deliver(app) == (0, 0)


def test_failures_are_retried_with_backoff_and_shown(app: Flask, receiver: Receiver) -> None:
    add_hook(app, receiver.url, ["comment.created"])
    receiver.status = 500
    post_comment(app)
    assert deliver(app) == (0, 1)
    assert deliver(app) == (0, 0)
    with app.app_context():
        item = db.session.scalar(db.select(OutboxItem).filter_by(kind="webhook"))
        assert item.last_status == 500 and item.last_response == "broken" and item.sent_at is None
        item.next_attempt_at = item.created_at
        db.session.commit()
    receiver.status = 200
    assert deliver(app) == (1, 0)
    client, _ = login(app, "admin@example.org")
    assert "HTTP 200" in client.get("/mod/sites/news").get_data(as_text=True)


def test_private_addresses_are_refused_unless_allowed(tmp_path: Path, _postgres_schema: None) -> None:
    app = make_app(tmp_path)
    setup_sites(app)
    client, token = login(app, "admin@example.org")
    for url in ("http://127.0.0.1:9/x", "http://10.1.2.3/x", "http://169.254.169.254/latest",
                "http://[::1]/x", "http://localhost/x"):
        res = client.post("/mod/sites/news/webhooks", data={"csrf_token": token, "url": url,
                                                             "events": ["comment.created"]})
        assert res.status_code == 422, url
        assert "refused" in res.get_data(as_text=True)
    for bad in ({"url": "ftp://x.example/", "events": ["comment.created"]},
                {"url": "https://x.example/", "events": ["comment.exploded"]}):
        assert client.post("/mod/sites/news/webhooks", data={"csrf_token": token, **bad}).status_code == 422
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Webhook.id))) == 0
        db.session.remove()
        db.engine.dispose()


def test_a_moderator_cannot_manage_webhooks(app: Flask, receiver: Receiver) -> None:
    client, token = login(app, "newsmod@example.org")
    res = client.post("/mod/sites/news/webhooks", data={"csrf_token": token, "url": receiver.url,
                                                        "events": ["comment.created"]})
    assert res.status_code == 403


def test_removing_a_webhook_drops_its_queue(app: Flask, receiver: Receiver) -> None:
    add_hook(app, receiver.url, ["comment.created"])
    post_comment(app)
    with app.app_context():
        hook_id = db.session.scalar(db.select(Webhook.id))
    client, token = login(app, "admin@example.org")
    client.post(f"/mod/sites/news/webhooks/{hook_id}/delete", data={"csrf_token": token})
    assert deliver(app) == (0, 0)
    assert receiver.calls == []


def test_a_sites_deliveries_are_found_behind_any_number_of_others(app: Flask,
                                                                 receiver: Receiver) -> None:
    """The admin page and the removal of a webhook find a site's items however many other
    sites' items came after them."""
    add_hook(app, receiver.url, ["comment.created"])
    post_comment(app)
    with app.app_context():
        hook = db.session.scalar(db.select(Webhook))
        blog = db.session.scalar(db.select(Site).filter_by(slug="blog"))
        db.session.add_all(OutboxItem(kind="webhook", site_id=blog.id, webhook_id=999,
                                      payload={"webhook_id": 999, "site_id": blog.id})
                           for _ in range(600))
        db.session.commit()
        shown = webhooks.recent_deliveries(hook.site)
        assert [item.payload["event"] for item in shown] == ["comment.created"]
        hook_id, blog_id = hook.id, blog.id
    client, token = login(app, "admin@example.org")
    client.post(f"/mod/sites/news/webhooks/{hook_id}/delete", data={"csrf_token": token})
    with app.app_context():
        left = db.session.scalars(db.select(OutboxItem.site_id)).all()
    assert len(left) == 600 and set(left) == {blog_id}
