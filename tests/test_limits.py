"""Posting limits end to end: workers sharing Redis, proxy trust, the memory fallback, headers."""
from __future__ import annotations

import secrets
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
import redis
from flask import Flask
from sqlalchemy import bindparam, create_engine, text

from comments.extensions import db
from comments.services.sites import create_site

from .conftest import make_app
from .helpers import ORIGIN, comment_payload, post
from .servers import TAG, Reply, Server, answering_redis, gunicorn, migrated_database, server_env

LIMIT = 4
EMAIL_LIMIT = 3
THREAD_LIMIT = 5
BURST = 10
HIGH = "1000 per minute"
# Flask-Limiter's own words when it gives up on its storage (flask_limiter/_extension.py).
FALLBACK_LOGGED = "Rate limit storage unreachable - falling back to in-memory storage"
# Settings arrive JSON-parsed, so secrets and prefixes start with letters to stay strings.
SECRET = f"limits-{secrets.token_hex(16)}"

Request = tuple[dict[str, Any], dict[str, str]]


def _unique_prefix() -> str:
    return f"limits-test-{uuid.uuid4().hex[:12]}"


def _forget(redis_url: str, prefix: str) -> None:
    """Delete the limiter's keys under a prefix, so runs leave nothing behind in Redis."""
    client = redis.Redis.from_url(redis_url, socket_connect_timeout=1, socket_timeout=1)
    try:
        keys = list(client.scan_iter(match=f"*{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


def _shared_prefix(stack: ExitStack, redis_url: str) -> str:
    """A server's own key prefix, so nothing else shares its counts; `stack` deletes its keys."""
    prefix = _unique_prefix()
    stack.callback(_forget, redis_url, prefix)
    return prefix


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One migrated database for this module's servers, with the site `news`."""
    with migrated_database(tmp_path_factory.mktemp("limits")) as app:
        with app.app_context():
            create_site("news", "News", [ORIGIN])
        yield app.config["SQLALCHEMY_DATABASE_URI"]


@pytest.fixture(scope="module")
def redis_url() -> str:
    """The run's Redis (see servers.answering_redis)."""
    return answering_redis()


def start(stack: ExitStack, database: str, directory: Path, workers: int = 2,
          redis_url: str | None = None, **settings: str) -> Server:
    """Start gunicorn over `database` with COMMENTS_* `settings`; `stack` stops it."""
    limits = {"RATELIMIT_POST": f"{LIMIT} per minute", "RATELIMIT_POST_EMAIL": HIGH,
              "RATELIMIT_POST_THREAD": HIGH, **settings}
    env = server_env(DATABASE_URL=database, COMMENTS_SECRET_KEY=SECRET,
                     COMMENTS_SPAM_ENABLED="false",
                     **{f"COMMENTS_{key}": value for key, value in limits.items()})
    if redis_url:
        env["REDIS_URL"] = redis_url
    server = stack.enter_context(gunicorn(env, directory, workers))
    server.wait_for_workers(workers)
    return server


@pytest.fixture(scope="module")
def direct(database: str, redis_url: str,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Two workers counting in Redis, with no proxy in front: the socket's address is the client."""
    with ExitStack() as stack:
        yield start(stack, database, tmp_path_factory.mktemp("direct"), redis_url=redis_url,
                    RATELIMIT_KEY_PREFIX=_shared_prefix(stack, redis_url))


@pytest.fixture(scope="module")
def proxied(database: str, redis_url: str,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Two Redis-counting workers behind one trusted proxy, with tight email and thread limits."""
    with ExitStack() as stack:
        yield start(stack, database, tmp_path_factory.mktemp("proxied"), redis_url=redis_url,
                    RATELIMIT_KEY_PREFIX=_shared_prefix(stack, redis_url), PROXY_COUNT="1",
                    RATELIMIT_POST_EMAIL=f"{EMAIL_LIMIT} per minute",
                    RATELIMIT_POST_THREAD=f"{THREAD_LIMIT} per minute")


def payload(article: str, i: int, email: str | None = None) -> dict[str, Any]:
    """Comment number `i` on `article`, by reader `i` unless an email is given."""
    author = {"name": f"Reader {i}", "email": email or f"{article}-{i}@example.org"}
    return comment_payload(article=article, url=f"https://news.example/{article}", title=article,
                           author=author, text=f"Comment number {i} on {article}.")


def burst(server: Server, requests: list[Request], source: str | None = None) -> list[Reply]:
    """Send every (payload, headers) at the same moment, each on its own connection."""
    gate = threading.Barrier(len(requests), timeout=10)

    def send(request: Request) -> Reply:
        body, headers = request
        gate.wait()
        return server.request("POST", "/api/v1/comments", body, {"Origin": ORIGIN, **headers},
                              source=source)

    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        return list(pool.map(send, requests))


def assert_refusal(reply: Reply) -> None:
    """A 429 in the API's error shape, telling the client when to come back."""
    assert reply.status == 429
    retry = reply.headers.get("Retry-After", "")
    assert retry.isdigit() and 0 < int(retry) <= 61, f"Retry-After {retry!r}"
    assert_too_many(reply.json())


def assert_too_many(body: Any) -> None:
    """The API's error shape, with the limiter's code and a message for people."""
    assert list(body) == ["error"] and sorted(body["error"]) == ["code", "field", "message"]
    assert body["error"]["code"] == "too_many_requests"
    assert body["error"]["field"] is None
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]


def assert_exactly(replies: list[Reply], allowed: int) -> None:
    """`allowed` posts were stored (201) and every other one was refused with a proper 429."""
    statuses = sorted(reply.status for reply in replies)
    assert statuses == [201] * allowed + [429] * (len(replies) - allowed)
    for reply in replies:
        if reply.status == 429:
            assert_refusal(reply)


def stored_ips(database: str, *articles: str) -> list[str | None]:
    """The client address of every comment stored on the given articles' threads, sorted."""
    query = text("SELECT c.client_ip FROM comments c JOIN threads t ON t.id = c.thread_id"
                 " WHERE t.article_key IN :articles")
    query = query.bindparams(bindparam("articles", expanding=True))
    engine = create_engine(database)
    try:
        with engine.connect() as conn:
            return sorted(conn.scalars(query, {"articles": list(articles)}))
    finally:
        engine.dispose()


def test_two_workers_share_one_count_in_redis(direct: Server, database: str) -> None:
    # Which worker takes a connection is up to the workers, so a burst may land on one only:
    # repeat, each time as a new client, until one has been split (and every burst is exact).
    for attempt in range(5):
        source, article = f"127.0.0.{10 + attempt}", f"burst-{attempt}"
        headers = {TAG: article}
        replies = burst(direct, [(payload(article, i), headers) for i in range(BURST)], source)
        assert_exactly(replies, LIMIT)
        assert stored_ips(database, article) == [source] * LIMIT
        if len(direct.workers_serving(article, BURST)) == 2:
            return
    pytest.fail("no burst of posts reached both workers")


def test_forwarded_for_is_ignored_without_a_trusted_proxy(direct: Server, database: str) -> None:
    # Another loopback address is another client, with a budget of its own.
    spoofed = [(payload("spoofed", i), {"X-Forwarded-For": f"203.0.113.{i + 1}"})
               for i in range(BURST)]
    assert_exactly(burst(direct, spoofed, source="127.0.0.2"), LIMIT)
    assert stored_ips(database, "spoofed") == ["127.0.0.2"] * LIMIT


def test_one_trusted_proxy_makes_each_forwarded_address_a_client(proxied: Server,
                                                                 database: str) -> None:
    addresses = [f"203.0.113.{i + 1}" for i in range(BURST)]
    articles = [f"proxied-{i}" for i in range(BURST)]
    replies = burst(proxied, [(payload(article, i), {"X-Forwarded-For": address})
                              for i, (article, address) in enumerate(zip(articles, addresses))])
    assert [reply.status for reply in replies] == [201] * BURST
    assert stored_ips(database, *articles) == sorted(addresses)
    # Only the proxy's own entry (the last) is believed: a forged first entry buys nothing.
    articles = [f"forged-{i}" for i in range(BURST)]
    forged = [(payload(article, i), {"X-Forwarded-For": f"198.51.100.{i + 1}, 192.0.2.7"})
              for i, article in enumerate(articles)]
    assert_exactly(burst(proxied, forged), LIMIT)
    assert stored_ips(database, *articles) == ["192.0.2.7"] * LIMIT


def test_email_limit_holds_across_addresses(proxied: Server, database: str) -> None:
    spellings = ["ada@example.org", "ADA@example.org", "Ada@Example.Org"]
    articles = [f"email-{i}" for i in range(BURST)]
    replies = burst(proxied, [(payload(article, i, email=spellings[i % 3]),
                               {"X-Forwarded-For": f"198.51.100.{100 + i}"})
                              for i, article in enumerate(articles)])
    assert_exactly(replies, EMAIL_LIMIT)
    assert len(stored_ips(database, *articles)) == EMAIL_LIMIT


def test_thread_limit_holds_across_addresses_and_authors(proxied: Server, database: str) -> None:
    replies = burst(proxied, [(payload("pile-on", i), {"X-Forwarded-For": f"198.51.100.{200 + i}"})
                              for i in range(BURST)])
    assert_exactly(replies, THREAD_LIMIT)
    assert len(stored_ips(database, "pile-on")) == THREAD_LIMIT


@pytest.fixture(params=["refusing", "silent"])
def dead_redis(request: pytest.FixtureRequest) -> Iterator[str]:
    """A Redis that refuses connections, or one that takes them and never answers."""
    if request.param == "refusing":
        yield "redis://127.0.0.1:1/0"
        return
    # The kernel completes connections into the backlog; nothing ever reads them.
    with socket.create_server(("127.0.0.1", 0), backlog=64) as listener:
        yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0"


def test_unreachable_redis_falls_back_to_memory(dead_redis: str, database: str,
                                                tmp_path: Path) -> None:
    article = f"fallback-{uuid.uuid4().hex[:8]}"
    with ExitStack() as stack:
        # One worker, so that there is one memory count and the outcome is exact.
        server = start(stack, database, tmp_path / "server", workers=1, redis_url=dead_redis)
        # The client's timeout bounds each post: one that hung on Redis would fail here.
        replies = [server.request("POST", "/api/v1/comments", payload(article, i),
                                  {"Origin": ORIGIN}, timeout=5.0) for i in range(BURST)]
        log = server.log.read_text()
    assert [reply.status for reply in replies] == [201] * LIMIT + [429] * (BURST - LIMIT)
    for reply in replies[LIMIT:]:
        assert_refusal(reply)
    assert len(stored_ips(database, article)) == LIMIT
    assert FALLBACK_LOGGED in log, "the fallback to memory was not logged"


@pytest.fixture
def news_app(tmp_path: Path, _postgres_schema: None) -> Iterator[Callable[..., Flask]]:
    """Build an in-process app with the site `news`, under a Redis key prefix of its own."""
    built: list[Flask] = []

    def build(**overrides: Any) -> Flask:
        app = make_app(tmp_path, SPAM_ENABLED=False, RATELIMIT_KEY_PREFIX=_unique_prefix(),
                       **overrides)
        with app.app_context():
            create_site("news", "News", [ORIGIN])
        built.append(app)
        return app

    yield build
    for app in built:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        if app.config["RATELIMIT_STORAGE_URI"].startswith("redis"):
            _forget(app.config["RATELIMIT_STORAGE_URI"], app.config["RATELIMIT_KEY_PREFIX"])


def test_refusal_body_and_headers(news_app: Callable[..., Flask]) -> None:
    client = news_app(RATELIMIT_ENABLED=True, RATELIMIT_POST="2 per minute").test_client()
    headers = {"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"}
    for _ in range(2):
        res = post(client)
        assert res.status_code == 201
        assert headers <= set(res.headers.keys())
    res = post(client)
    assert res.status_code == 429
    assert_too_many(res.get_json())
    assert res.headers["RateLimit-Limit"] == "2"
    assert res.headers["RateLimit-Remaining"] == "0"
    reset, retry = res.headers["RateLimit-Reset"], res.headers["Retry-After"]
    # Seconds from now, as the header's draft has it: an epoch would be some 1.8 billion.
    assert reset.isdigit() and 0 <= int(reset) <= 61, f"RateLimit-Reset {reset!r}"
    assert retry.isdigit() and 0 < int(retry) <= 61, f"Retry-After {retry!r}"
    # The widget, on another origin, may read the headers that say when to retry.
    assert "Retry-After" in res.headers["Access-Control-Expose-Headers"]


def test_limits_switched_off_let_every_post_through(news_app: Callable[..., Flask]) -> None:
    client = news_app(RATELIMIT_ENABLED=False, RATELIMIT_POST="2 per minute").test_client()
    assert [post(client, text=f"Post {i}").status_code for i in range(20)] == [201] * 20


@pytest.fixture(params=["memory", "redis"])
def storage(request: pytest.FixtureRequest) -> dict[str, Any]:
    """The limiter's storage: this process's memory (even where REDIS_URL is set), or Redis."""
    if request.param == "memory":
        return {"REDIS_URL": None, "RATELIMIT_STORAGE_URI": "memory://"}
    return {"RATELIMIT_STORAGE_URI": answering_redis()}


def test_a_post_refused_by_one_limit_consumes_no_other(news_app: Callable[..., Flask],
                                                       storage: dict[str, Any]) -> None:
    client = news_app(RATELIMIT_ENABLED=True, RATELIMIT_POST="3 per minute; 2 per hour",
                      RATELIMIT_POST_EMAIL="2 per minute", RATELIMIT_POST_THREAD="4 per minute",
                      **storage).test_client()
    # The limiter keeps the first key prefix a process gives it, so Redis may hold an earlier
    # test's counts under it: every address, article and email here is this test's own.
    tag = secrets.token_hex(5)
    sent = iter(range(1000))

    def address(n: int) -> str:
        return f"fd{tag[:2]}:{tag[2:6]}:{tag[6:]}{n:02x}::1"

    def send(n: int, article: str = "pile-on", email: str | None = None) -> int:
        i = next(sent)
        author = {"name": f"Reader {i}", "email": email or f"reader-{i}-{tag}@example.org"}
        return client.post("/api/v1/comments",
                           json=comment_payload(article=f"{article}-{tag}", author=author),
                           headers={"Origin": ORIGIN},
                           environ_base={"REMOTE_ADDR": address(n)}).status_code

    # One address posting on and on spends its own limit, not the thread's (whose window is
    # shorter, so the limiter looks at it first).
    assert [send(1) for _ in range(6)] == [201, 201] + [429] * 4
    assert [send(n) for n in (2, 3)] == [201, 201]
    # Now the thread is full: its refusal spends nothing of the poster's own limits.
    assert send(4) == 429
    assert [send(4, article=f"elsewhere-{i}") for i in range(2)] == [201, 201]
    # A post the email limit refuses spends neither its address's limit nor the thread's.
    same = f"same-{tag}@example.org"
    assert [send(n, "quiet", same) for n in (10, 11, 12)] == [201, 201, 429]
    assert [send(12, "quiet") for _ in range(2)] == [201, 201]
    assert send(13, "quiet") == 429


def test_the_addresses_of_one_ipv6_64_share_one_limit(news_app: Callable[..., Flask]) -> None:
    client = news_app(RATELIMIT_ENABLED=True, REDIS_URL=None, RATELIMIT_STORAGE_URI="memory://",
                      RATELIMIT_POST="2 per minute", RATELIMIT_POST_EMAIL=HIGH,
                      RATELIMIT_POST_THREAD=HIGH).test_client()

    def send(ip: str, i: int) -> int:
        return client.post("/api/v1/comments", json=comment_payload(text=f"Post {i}"),
                           headers={"Origin": ORIGIN}, environ_base={"REMOTE_ADDR": ip}).status_code

    assert [send(f"2001:db8:1:2::{i + 1}", i) for i in range(4)] == [201, 201, 429, 429]
    assert send("2001:db8:1:2:ffff:ffff:ffff:ffff", 5) == 429
    # The next /64 is another client, and an IPv4-mapped address counts as its IPv4.
    assert send("2001:db8:1:3::1", 6) == 201
    assert [send(ip, 7 + i) for i, ip in enumerate(["192.0.2.1", "::ffff:192.0.2.1",
                                                     "::ffff:192.0.2.1"])] == [201, 201, 429]
