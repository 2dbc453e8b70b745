"""Small builders shared by the API tests."""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

ORIGIN = "https://news.example"
# How long a write may take to show on another worker: the bound the channel promises.
BOUND = 1.0


def soon(check: Callable[[], bool], seconds: float = BOUND) -> bool:
    """True once `check()` is, polling until `seconds` have passed (a bound, not a pause)."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def comment_payload(**overrides: Any) -> dict[str, Any]:
    """A valid comment for the `news` site, with any field replaced."""
    payload: dict[str, Any] = {
        "site": "news",
        "article": "story-1",
        "url": "https://news.example/2026/story-1",
        "title": "Story one",
        "author": {"name": "Ada", "email": "ada@example.org", "website": "https://ada.example"},
        "text": "Hello *world*",
    }
    payload.update(overrides)
    return payload


def post(client: FlaskClient, **overrides: Any) -> TestResponse:
    """POST a comment as a browser on the site's origin would."""
    return client.post("/api/v1/comments", json=comment_payload(**overrides),
                       headers={"Origin": ORIGIN})


def read(client: FlaskClient, article: str = "story-1", **params: str) -> TestResponse:
    """GET a thread of the `news` site."""
    return client.get("/api/v1/threads", query_string={"site": "news", "article": article, **params},
                      headers={"Origin": ORIGIN})
