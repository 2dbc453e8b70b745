"""The widget as readers get it: what it downloads (gzipped) and its first render in Chromium."""
from __future__ import annotations

import gzip
import statistics
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from .load import request

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
WIDGET = Path(__file__).resolve().parent.parent / "comments" / "static" / "widget"
PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>The big debate</title>
<link rel="icon" href="data:,"></head><body><article><h1>The big debate</h1>
<p>An article of a news site that embeds the comments.</p></article>
<div id="comments" data-site="{site}" data-article="{article}" data-page-size="100"
 data-poll-seconds="0"></div><script src="{base}/widget.js" async></script></body></html>"""
# The render is done when the shadow root holds this many comments; the time is from navigation.
DONE = """(n) => {
  const root = document.getElementById("comments")?.shadowRoot;
  const k = root ? root.querySelectorAll("li.comment").length : 0;
  return k >= n ? performance.now() : false;
}"""


@dataclass
class Sizes:
    """Bytes the widget costs a reader: each file and the total, raw and gzipped (level 9)."""

    files: dict[str, tuple[int, int]] = field(default_factory=dict)
    count_js: tuple[int, int] = (0, 0)
    sources: tuple[int, int, int] = (0, 0, 0)

    @property
    def total_gz(self) -> int:
        """The widget's files together, gzipped."""
        return sum(gz for _, gz in self.files.values())


@dataclass
class Render:
    """First renders of the 200-comment thread, in milliseconds from navigation."""

    times: list[float]
    comments: int
    loaded: list[str]

    @property
    def median(self) -> float:
        """The median of the runs."""
        return round(statistics.median(self.times), 1) if self.times else 0.0


def _gz(data: bytes) -> tuple[int, int]:
    return len(data), len(gzip.compress(data, 9))


def sizes(base: str, loaded: list[str]) -> Sizes:
    """What /widget.js and the files it fetched weigh as served; count.js; the source modules."""
    out = Sizes()
    for url in ["/widget.js", *[u for u in loaded if u != "/widget.js"]]:
        status, _, body = request(base + url)
        if status == 200:
            out.files[url] = _gz(body)
    status, _, body = request(base + "/count.js")
    out.count_js = _gz(body) if status == 200 else (0, 0)
    sources = sorted([*WIDGET.glob("*.js"), *WIDGET.glob("*.css"), *WIDGET.glob("i18n/*.js")])
    raw = [p.read_bytes() for p in sources if p.name != "count.js"]
    out.sources = (len(raw), sum(len(b) for b in raw), sum(_gz(b)[1] for b in raw))
    return out


@contextmanager
def host_page(html: str) -> Iterator[str]:
    """A news site's page on a loopback origin of its own (as the browser tests do); its origin.

    A loopback page, not a made-up public host: Chromium refuses a public page's requests to a
    loopback server (Private Network Access).
    """

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the handler's API)
            body = html.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def first_render(base: str, page_origin: str, article: str, runs: int, want: int = 200) -> Render:
    """Load the host page `runs` times, each in a new context (nothing cached)."""
    from playwright.sync_api import sync_playwright

    times: list[float] = []
    loaded: list[str] = []
    shown = 0
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            for _ in range(runs):
                context = browser.new_context()
                try:
                    page = context.new_page()
                    seen: list[str] = []
                    page.on("request", lambda r, s=seen: s.append(r.url))
                    page.goto(page_origin + article, wait_until="commit")
                    done = page.wait_for_function(DONE, arg=want, polling="raf", timeout=60_000)
                    times.append(round(float(done.json_value()), 1))
                    shown = page.evaluate("() => document.getElementById('comments').shadowRoot"
                                          ".querySelectorAll('li.comment').length")
                    loaded = [urlsplit(u).path for u in seen
                              if u.startswith(base) and "/api/" not in u]
                finally:
                    context.close()
        finally:
            browser.close()
    return Render(times, shown, loaded)


def chromium_version() -> str:
    """The browser's version, for the report."""
    import subprocess

    try:
        out = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True, timeout=30)
        return out.stdout.strip()
    except OSError:
        return "missing"
