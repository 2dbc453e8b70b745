"""Browser fixtures: Chromium, the app on a live port, and a host page on a second origin."""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect, sync_playwright
from werkzeug.serving import make_server

from comments.services.sites import create_site

from .widget import PARTNER_PATH

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
# Every wait in a test is bounded by this, so a broken widget fails a test instead of hanging it.
TIMEOUT_MS = 15_000

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Any]


@contextmanager
def serving(wsgi_app: WSGIApp) -> Iterator[str]:
    """Serve a WSGI app on a free local port for the duration of the block; yield its origin."""
    server = make_server("127.0.0.1", 0, wsgi_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def host_page(widget_url: str) -> WSGIApp:
    """A partner's page for every path: no CSP, a canonical URL, and the widget from elsewhere."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        canonical = f"http://{environ['HTTP_HOST']}{PARTNER_PATH}"
        html = (
            '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Partner blog</title>'
            f'<link rel="icon" href="data:,"><link rel="canonical" href="{canonical}"></head>'
            '<body><h1>Partner blog</h1><div id="comments" data-site="partner"></div>'
            f'<script src="{widget_url}" async></script></body></html>'
        ).encode()
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8"),
                                  ("Content-Length", str(len(html)))])
        return [html]

    return app


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One Chromium for the whole run; each test gets its own context."""
    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh page in a fresh context (empty localStorage), failing on any script error."""
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text)
            if "Content Security Policy" in message.text else None)
    yield page
    context.close()
    assert not errors, f"errors in the page: {errors}"


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """The app served on a local port; yields its origin."""
    with serving(app) as origin:
        yield origin


@pytest.fixture
def demo_origin(app: Flask, live_server: str) -> str:
    """The live server with the `demo` site that its demo page embeds."""
    with app.app_context():
        create_site("demo", "Demo", [live_server], moderation="post")
    return live_server


@pytest.fixture
def partner_origin(app: Flask, live_server: str) -> Iterator[str]:
    """A partner site's page on a second origin, embedding the widget from the live server."""
    with serving(host_page(f"{live_server}/widget.js")) as origin:
        with app.app_context():
            create_site("partner", "Partner blog", [origin], moderation="post")
        yield origin
