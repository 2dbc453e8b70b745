"""A real SMTP server for the mail tests (aiosmtpd on a free local port), and an app that mails to it."""
from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from flask.testing import FlaskClient

from comments.extensions import db

from .conftest import make_app

PUBLIC_URL = "http://comments.test"


def free_port() -> int:
    """A local TCP port nobody listens on (now)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Inbox:
    """Collects every message the server accepts."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        # Each message as the server received it, before any parsing decodes a header.
        self.raw: list[bytes] = []
        self.arrived = threading.Condition()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        message = message_from_bytes(raw, policy=policy.default)
        with self.arrived:
            self.raw.append(raw)
            self.messages.append(message)  # type: ignore[arg-type]
            self.arrived.notify_all()
        return "250 Message accepted for delivery"

    def wait_for(self, count: int, timeout: float = 10.0) -> list[EmailMessage]:
        """The messages once `count` have arrived (or whatever came within `timeout`)."""
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.messages) >= count, timeout)
            return list(self.messages)


class SmtpServer:
    """An aiosmtpd server that can be started, stopped and started again on one port."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.inbox = Inbox()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def messages(self) -> list[EmailMessage]:
        return self.inbox.messages


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """A running SMTP server on a free port, stopped after the test."""
    server = SmtpServer(free_port())
    server.start()
    yield server
    server.stop()


def mail_app(tmp_path: Path, port: int, **overrides: Any) -> Flask:
    """An app that mails through 127.0.0.1:`port` and builds links on PUBLIC_URL."""
    return make_app(tmp_path, MAIL_SERVER="127.0.0.1", MAIL_PORT=port, PUBLIC_URL=PUBLIC_URL,
                    MAIL_FROM="Comments <comments@comments.test>", **overrides)


@pytest.fixture
def mailer(tmp_path: Path, smtp: SmtpServer, _postgres_schema: None) -> Iterator[Flask]:
    """An app that mails to the `smtp` server."""
    app = mail_app(tmp_path, smtp.port)
    yield app
    dispose(app)


def dispose(app: Flask) -> None:
    """Close the app's database connections."""
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def post(app: Flask, text: str = "Hello", email: str | None = "reader@example.net",
         notify: bool | None = None, parent_id: int | None = None, site: str = "news",
         article: str = "a1", name: str = "Reader", url: bool = True) -> dict[str, Any]:
    """Post through the public API; returns the answer's JSON (asserting a 201)."""
    origin = f"https://{site}.example"
    payload: dict[str, Any] = {"site": site, "article": article, "text": text, "parent_id": parent_id,
                               "author": {"name": name} | ({"email": email} if email else {})}
    if url:
        payload |= {"url": f"{origin}/{article}", "title": f"Article {article}"}
    if notify is not None:
        payload["notify"] = notify
    res = app.test_client().post("/api/v1/comments", json=payload, headers={"Origin": origin})
    assert res.status_code == 201, res.get_json()
    return res.get_json()


def parts(message: EmailMessage) -> tuple[str, str]:
    """The plain-text and HTML bodies of a message."""
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    return text.get_content(), html.get_content()


def page_csrf(client: FlaskClient, path: str) -> str:
    """The CSRF token of the form on a page."""
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, page
    return match.group(1)
