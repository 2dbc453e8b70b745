"""The rendered-thread cache: never a page older than the last write, from any worker."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from comments import create_app, thread_cache
from comments.extensions import db
from comments.services import moderation
from comments.services.accounts import create_moderator
from comments.services.votes import vote
from comments.thread_cache import PageCache

from .conftest import USE_POSTGRES
from .helpers import BOUND, ORIGIN, post, read, soon

pytestmark = pytest.mark.usefixtures("site")
T0 = datetime(2026, 1, 1)


@pytest.fixture
def another_worker(app: Flask) -> Iterator[Callable[..., Flask]]:
    """Apps over the same database as `app`, each with its own cache: other workers or machines."""
    made: list[Flask] = []

    def make(**overrides: Any) -> Flask:
        made.append(create_app({"TESTING": True, "SECRET_KEY": "test-secret",
                                "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                                "RATELIMIT_ENABLED": False, "SPAM_ENABLED": False, **overrides}))
        return made[-1]

    yield make
    for other in made:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()


def shown(response: Any) -> dict[str, Any]:
    """A thread answer without its form token (signed anew every second)."""
    body = response.get_json()
    assert body.pop("form_token")
    return body


def test_cached_pages_are_the_pages_the_database_gives(app: Flask, client: FlaskClient,
                                                       another_worker: Callable[..., Flask]) -> None:
    tops = [post(client, text=f"top {i}").get_json()["comment"]["id"] for i in range(7)]
    for i, parent in enumerate(tops[:4]):
        post(client, text=f"reply {i}", parent_id=parent)
    uncached = another_worker(THREAD_CACHE_MB=0).test_client()
    cursor = read(client, limit="3").get_json()["next_cursor"]
    pages = [{}, {"limit": "3"}, {"limit": "3", "cursor": cursor}, {"sort": "newest"},
             {"sort": "top", "limit": "2"}, {"root": str(tops[1])}]
    for params in pages:
        first, second = read(client, **params), read(client, **params)
        assert shown(first) == shown(second) == shown(read(uncached, **params))
        assert first.headers["ETag"] == second.headers["ETag"]
    assert app.extensions[thread_cache.EXTENSION].size > 0
    assert uncached.application.extensions[thread_cache.EXTENSION].size == 0


def test_every_write_shows_at_once(app: Flask, client: FlaskClient) -> None:
    first = post(client, text="first").get_json()
    assert html_of(read(client)) == ["<p>first</p>\n"]
    reply = post(client, text="a reply", parent_id=first["comment"]["id"]).get_json()
    assert read(client).get_json()["comments"][0]["replies"][0]["html"] == "<p>a reply</p>\n"
    headers = {"Authorization": f"Bearer {first['edit_token']}", "Origin": ORIGIN}
    assert client.patch(f"/api/v1/comments/{first['comment']['id']}", json={"text": "edited"},
                        headers=headers).status_code == 200
    assert html_of(read(client)) == ["<p>edited</p>\n"]
    with app.app_context():
        vote(reply["comment"]["id"], {"value": 1}, "reader-key-of-someone", "192.0.2.9")
    assert read(client).get_json()["comments"][0]["replies"][0]["score"] == 1
    assert client.delete(f"/api/v1/comments/{first['comment']['id']}",
                         headers=headers).status_code == 200
    top = read(client).get_json()["comments"][0]
    assert top["status"] == "deleted" and top["replies"][0]["html"] == "<p>a reply</p>\n"


def test_a_write_through_another_worker_shows_within_the_bound(
        client: FlaskClient, another_worker: Callable[..., Flask]) -> None:
    # At once on SQLite (data_version is asked at every read); within BOUND over a channel.
    bound = BOUND if USE_POSTGRES else 0.0
    worker_b = another_worker()
    reader_b = worker_b.test_client()
    first = post(client, text="from worker A").get_json()["comment"]["id"]
    assert len(read(client).get_json()["comments"]) == 1
    assert len(read(reader_b).get_json()["comments"]) == 1
    post(reader_b, text="from worker B")
    assert soon(lambda: html_of(read(client)) == ["<p>from worker A</p>\n",
                                                  "<p>from worker B</p>\n"], bound)
    with worker_b.app_context():
        admin = create_moderator("admin@example.org", "a long enough password", "admin")
        moderation.apply(admin, [first], "remove")
    assert soon(lambda: html_of(read(client)) == ["<p>from worker B</p>\n"], bound)


def html_of(response: Any) -> list[str]:
    return [c["html"] for c in response.get_json()["comments"]]


def test_shared_caches_may_keep_reads_for_the_configured_seconds(
        another_worker: Callable[..., Flask]) -> None:
    client = another_worker(SHARED_CACHE_SECONDS=30).test_client()
    for res in (read(client), client.get("/api/v1/counts?site=news&article=a")):
        assert res.headers["Cache-Control"] == "public, max-age=0, s-maxage=30"


def test_page_cache_drops_older_versions_and_the_least_recently_used() -> None:
    cache = PageCache(max_bytes=100)
    v1, v2 = (1, T0, 1), (1, T0, 2)
    cache.put(v1, "a", b"x" * 30)
    cache.put(v1, "b", b"y" * 30)
    assert cache.get(v1, "a") == b"x" * 30 and cache.size == 60
    cache.put(v2, "a", b"z" * 10)
    assert cache.get(v1, "a") is None and cache.get(v1, "b") is None and cache.size == 10
    # A slow render of the older version, finishing late, does not push out the newer one.
    cache.put(v1, "b", b"old")
    assert cache.get(v1, "b") is None and cache.get(v2, "a") == b"z" * 10
    other = (2, T0, 5)
    cache.put(other, "a", b"o" * 50)
    cache.get(v2, "a")
    cache.put(other, "b", b"p" * 45)  # over 100 bytes: the least recently used page goes
    assert cache.get(other, "a") is None and cache.get(v2, "a") == b"z" * 10
    assert cache.size == 55
    cache.put(other, "huge", b"h" * 101)
    assert cache.get(other, "huge") is None and cache.size == 55
    assert not PageCache(0).enabled and cache.enabled
