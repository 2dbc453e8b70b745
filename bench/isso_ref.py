"""Isso as the reference peer: its own virtualenv, a config file, and threads seeded through its API.

Isso is installed from PyPI into bench/.isso-venv by `make bench` and run, unmodified and with its
defaults except where noted in `CONFIG`, under the same gunicorn settings as our app.
"""
from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import create_engine, text

from .load import request

VENV = Path(__file__).resolve().parent / ".isso-venv"
GUNICORN = VENV / "bin" / "gunicorn"
APP = "isso.run:application"
# Moderation and the rate-limiting guard off (ours run with rate limits off too); notifications to
# the log, not SMTP. Everything else, including its hashing of each commenter, as shipped.
CONFIG = """\
[general]
dbpath = {db}
host = {origin}
notify = stdout
reply-notifications = false
gravatar = false
latest-enabled = false

[moderation]
enabled = false

[guard]
enabled = false

[admin]
enabled = false
"""


@dataclass
class SourceComment:
    """A comment to post again to Isso: its place in the thread and what the reader wrote."""

    local: int
    parent: int | None
    author: str
    email: str | None
    website: str | None
    text: str


def available() -> bool:
    """Isso's virtualenv is installed."""
    return GUNICORN.exists()


def version() -> str:
    """The installed Isso's version."""
    out = subprocess.run([str(VENV / "bin" / "python"), "-c",
                          "import importlib.metadata as m; print(m.version('isso'))"],
                         capture_output=True, text=True, timeout=60)
    return out.stdout.strip() or "unknown"


def write_config(directory: Path, origin: str) -> Path:
    """Isso's config file in `directory`, its database beside it; the file's path."""
    path = directory / "isso.cfg"
    path.write_text(CONFIG.format(db=directory / "isso.db", origin=origin))
    return path


def source_threads(url: str, site: str, articles: Sequence[str]) -> dict[str, list[SourceComment]]:
    """The approved comments of `articles` in our database, in order, each under its nearest shown
    ancestor (Isso nests one level, and flattens deeper replies itself)."""
    engine = create_engine(url)
    out: dict[str, list[SourceComment]] = {}
    try:
        with engine.connect() as conn:
            for article in articles:
                rows = conn.execute(text(
                    "SELECT c.id, c.parent_id, c.status, c.author_name, c.author_email, "
                    "c.author_website, c.text FROM comments c JOIN threads t ON t.id = c.thread_id "
                    "JOIN sites s ON s.id = t.site_id WHERE s.slug = :site AND t.article_key = :a "
                    "ORDER BY c.created_at, c.id"), {"site": site, "a": article}).all()
                parents = {r.id: r.parent_id for r in rows}
                shown = {r.id: i for i, r in enumerate(r for r in rows if r.status == "approved")}
                comments = []
                for r in rows:
                    if r.status != "approved":
                        continue
                    parent = r.parent_id
                    while parent is not None and parent not in shown:
                        parent = parents.get(parent)
                    comments.append(SourceComment(shown[r.id], shown.get(parent) if parent else None,
                                                  r.author_name, r.author_email, r.author_website,
                                                  r.text))
                out[article] = comments
    finally:
        engine.dispose()
    return out


def more_articles(url: str, site: str, exclude: set[str], comments: int) -> list[str]:
    """Further threads of ours, the oldest first, holding about `comments` approved comments."""
    engine = create_engine(url)
    out, total = [], 0
    try:
        with engine.connect() as conn:
            rows = conn.execute(text(
                "SELECT t.article_key, t.comment_count FROM threads t JOIN sites s "
                "ON s.id = t.site_id WHERE s.slug = :site ORDER BY t.id LIMIT 20000"),
                {"site": site})
            for key, count in rows:
                if total >= comments:
                    break
                if key not in exclude and count > 0:
                    out.append(key)
                    total += count
    finally:
        engine.dispose()
    return out


def _post_thread(base: str, uri: str, comments: list[SourceComment], origin: str) -> int:
    """Post one thread's comments in order; Isso's ids stand in for ours as parents."""
    ids: dict[int, int] = {}
    for c in comments:
        payload = {"text": c.text, "author": c.author, "title": "Bench article"}
        if c.email:
            payload["email"] = c.email
        if c.website:
            payload["website"] = c.website
        if c.parent is not None and c.parent in ids:
            payload["parent"] = ids[c.parent]
        status, _, body = request(f"{base}/new?uri={quote(uri, safe='')}", "POST",
                                  json.dumps(payload).encode(),
                                  {"Content-Type": "application/json", "Origin": origin})
        if status != 201:
            raise RuntimeError(f"Isso refused a comment on {uri}: {status} {body[:300]!r}")
        ids[c.local] = json.loads(body)["id"]
    return len(ids)


def seed(base: str, threads: dict[str, list[SourceComment]], origin: str,
         progress: Callable[[str], None] = print) -> int:
    """Post every thread through Isso's own API (POST /new?uri=...), one comment at a time: Isso
    answers 500 ("database is locked") to writes that meet in its SQLite database."""
    order = sorted(threads, key=lambda uri: -len(threads[uri]))
    posted = sum(_post_thread(base, uri, threads[uri], origin) for uri in order)
    progress(f"Isso seeded with {posted:,} comments in {len(threads)} threads")
    return posted


def counts_body(articles: Sequence[str]) -> str:
    """Isso's counts request: a JSON list of thread URIs (POST /count)."""
    return json.dumps(list(articles))
