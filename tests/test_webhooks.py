"""Webhooks: registration with the address check, signed deliveries from the outbox, retries."""
from __future__ import annotations

import hashlib
import hmac
import json
import re
import ssl
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from comments import create_app
from comments import webhooks as delivery
from comments.extensions import db
from comments.models import OutboxItem, Site, Webhook
from comments.services import webhooks

from .conftest import make_app
from .modhelpers import login, post_comment, setup_sites


class Receiver:
    """A real HTTP(S) server on loopback that records what it is sent and answers as told."""

    def __init__(self, host: str = "127.0.0.1", tls: ssl.SSLContext | None = None) -> None:
        self.calls: list[dict[str, Any]] = []
        self.status = 200
        self.location: str | None = None
        self.server_names: list[str | None] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (the http.server API)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.calls.append({"headers": dict(self.headers), "body": body})
                self.send_response(receiver.status)
                if receiver.location:
                    self.send_header("Location", receiver.location)
                self.end_headers()
                self.wfile.write(b"thanks" if receiver.status < 300 else b"broken")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer((host, 0), Handler)
        if tls:
            tls.sni_callback = lambda sock, name, context: receiver.server_names.append(name)
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.url = f"{'https' if tls else 'http'}://{host}:{self.port}/hook"
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


REFUSED = ["64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe", "64:ff9b::5db8:d70e", "64:ff9b:1::5db8:d70e",
           "2002:7f00:1::", "2002:a01:203::1", "2002:5db8:d70e::1",
           "::7f00:1", "::a01:203", "::5db8:d70e",
           "2001:0:4136:e378:8000:63bf:80ff:fffe", "2001:0:4136:e378:8000:63bf:a245:28f1",
           "::ffff:127.0.0.1", "::ffff:a9fe:a9fe", "::1", "::", "fe80::1", "fc00::1", "ff02::1",
           "127.0.0.2", "10.1.2.3", "100.64.0.1", "0.0.0.0", "224.0.0.1", "255.255.255.255"]
PUBLIC = ["93.184.215.14", "2606:4700::1111", "::ffff:93.184.215.14"]


def literal(address: str) -> str:
    """A webhook URL naming `address` itself."""
    return f"http://[{address}]:8080/hook" if ":" in address else f"http://{address}:8080/hook"


@pytest.fixture
def strict() -> Iterator[Flask]:
    """An app that refuses private addresses (its database is never opened)."""
    app = create_app({"TESTING": True, "SECRET_KEY": "test",
                      "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    with app.app_context():
        yield app


@pytest.mark.parametrize("address", REFUSED)
def test_every_spelling_of_a_private_or_tunnelled_address_is_refused(strict: Flask,
                                                                     address: str) -> None:
    with pytest.raises(webhooks.RefusedAddress):
        webhooks.checked_addresses(literal(address))


@pytest.mark.parametrize("address", PUBLIC)
def test_a_public_address_is_accepted(strict: Flask, address: str) -> None:
    assert webhooks.checked_addresses(literal(address)) == [address]


@pytest.mark.parametrize(("address", "embedded"), [
    ("64:ff9b::7f00:1", "127.0.0.1"), ("2002:a01:203::1", "10.1.2.3"), ("::a01:203", "10.1.2.3"),
    ("2001:0:4136:e378:8000:63bf:80ff:fffe", "127.0.0.1"), ("::ffff:a9fe:a9fe", "169.254.169.254")])
def test_the_refusal_names_the_embedded_ipv4_address(strict: Flask, address: str,
                                                     embedded: str) -> None:
    with pytest.raises(webhooks.RefusedAddress, match=re.escape(embedded)):
        webhooks.checked_addresses(literal(address))


HEADERS = {"Content-Type": "application/json"}


def test_the_call_goes_to_the_checked_address_not_to_a_new_lookup(receiver: Receiver) -> None:
    """`localhost` resolves to 127.0.0.1 (or ::1); the checked address is 127.0.0.2, where alone
    the receiver listens: only a connection to the checked address reaches it."""
    pinned = Receiver("127.0.0.2")
    try:
        url = f"http://localhost:{pinned.port}/hook"
        assert delivery.post(url, ["127.0.0.2"], b"{}", HEADERS) == (200, "thanks")
        [call] = pinned.calls
        assert call["headers"]["Host"] == f"localhost:{pinned.port}"
    finally:
        pinned.close()


def self_signed(directory: Path, name: str) -> Path:
    """A certificate for `name` (and its key, in the same file), its own authority."""
    pem = directory / f"{name}.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj", f"/CN={name}",
                    "-addext", f"subjectAltName=DNS:{name}", "-keyout", str(pem), "-out",
                    str(directory / "cert.pem")], check=True, capture_output=True)
    pem.write_text(pem.read_text() + (directory / "cert.pem").read_text())
    return pem


def test_https_is_pinned_and_checked_against_the_urls_host_name(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`hooks.test` resolves nowhere: the call reaches the checked address, and the certificate
    and SNI are those of the name in the URL; a certificate for another name is refused."""
    pem = self_signed(tmp_path, "hooks.test")
    monkeypatch.setenv("SSL_CERT_FILE", str(pem))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pem)
    pinned = Receiver("127.0.0.2", tls=context)
    try:
        url = f"https://hooks.test:{pinned.port}/hook"
        assert delivery.post(url, ["127.0.0.2"], b"{}", HEADERS) == (200, "thanks")
        assert pinned.server_names == ["hooks.test"]
        assert pinned.calls[0]["headers"]["Host"] == f"hooks.test:{pinned.port}"
        with pytest.raises(ssl.SSLCertVerificationError):
            delivery.post(f"https://other.test:{pinned.port}/hook", ["127.0.0.2"], b"{}", HEADERS)
        assert len(pinned.calls) == 1
    finally:
        pinned.close()


def test_a_delivery_resolves_the_name_and_keeps_it_as_the_host(app: Flask,
                                                               receiver: Receiver) -> None:
    add_hook(app, f"http://localhost:{receiver.port}/hook", ["comment.created"])
    post_comment(app)
    assert deliver(app) == (1, 0)
    assert receiver.calls[0]["headers"]["Host"] == f"localhost:{receiver.port}"


def test_a_redirect_is_the_answer_not_followed(app: Flask, receiver: Receiver) -> None:
    elsewhere = Receiver()
    try:
        add_hook(app, receiver.url, ["comment.created"])
        receiver.status, receiver.location = 302, elsewhere.url
        post_comment(app)
        assert deliver(app) == (0, 1)
        assert len(receiver.calls) == 1 and elsewhere.calls == []
        with app.app_context():
            item = db.session.scalar(db.select(OutboxItem).filter_by(kind="webhook"))
            assert (item.last_status, item.last_error, item.sent_at) == (302, "HTTP 302", None)
    finally:
        elsewhere.close()
