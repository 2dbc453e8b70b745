"""Two app servers (gunicorn) over one database and one Redis: what one does, the other sees.

On PostgreSQL the servers share a migrated schema of their own; without DATABASE_URL they share
one SQLite file (WAL). The backend in use is the fixture's parameter, so it shows in test ids.
"""
from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from itertools import cycle
from pathlib import Path
from typing import Any

import pytest
import redis
from prometheus_client.parser import text_string_to_metric_families

from comments import __version__
from comments.services.accounts import create_api_token, create_moderator
from comments.services.sites import create_site

from .conftest import USE_POSTGRES
from .helpers import ORIGIN
from .servers import Server, answering_redis, gunicorn, migrated_database, server_env

BACKEND = "postgresql" if USE_POSTGRES else "sqlite"
LIMIT = 3
POSTS = 8
HIGH = "1000 per minute"
# Settings arrive JSON-parsed, so secrets and prefixes start with letters to stay strings.
SECRET = f"servers-{secrets.token_hex(16)}"
STALE = "counter_1.db"


@dataclass
class Pair:
    """Servers A and B, and a moderator's API token valid on both."""

    a: Server
    b: Server
    token: str


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    """The run's Redis (see servers.answering_redis)."""
    yield answering_redis()


def _forget(redis_url: str, prefix: str) -> None:
    """Delete the limiter's keys under `prefix`, so a run leaves nothing behind in Redis."""
    client = redis.Redis.from_url(redis_url, socket_connect_timeout=1, socket_timeout=1)
    try:
        keys = list(client.scan_iter(match=f"*{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


def _start(stack: ExitStack, directory: Path, database: str, redis_url: str, prefix: str) -> Server:
    """Gunicorn with two workers, as deployed: settings from the environment, metrics in files."""
    metrics_dir = directory / "prometheus"
    metrics_dir.mkdir(parents=True)
    # A previous run's leftovers: gunicorn.conf.py must clear its counts and nothing else.
    (metrics_dir / STALE).write_bytes(b"")
    (metrics_dir / "README").write_text("not ours")
    env = server_env(DATABASE_URL=database, REDIS_URL=redis_url,
                     PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
                     COMMENTS_SECRET_KEY=SECRET, COMMENTS_SPAM_ENABLED="false",
                     COMMENTS_RATELIMIT_KEY_PREFIX=prefix,
                     COMMENTS_RATELIMIT_POST=f"{LIMIT} per minute",
                     COMMENTS_RATELIMIT_POST_EMAIL=HIGH, COMMENTS_RATELIMIT_POST_THREAD=HIGH)
    server = stack.enter_context(gunicorn(env, directory, workers=2))
    server.wait_for_workers(2)
    return server


@pytest.fixture(scope="module", params=[BACKEND])
def pair(request: pytest.FixtureRequest, redis_url: str,
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    """A and B over one database (sites `open` and pre-moderated `held`, an admin) and one Redis."""
    root = tmp_path_factory.mktemp("two-servers")
    with migrated_database(root) as app, ExitStack() as stack:
        database = app.config["SQLALCHEMY_DATABASE_URI"]
        assert database.startswith(request.param)
        with app.app_context():
            create_site("open", "Open", [ORIGIN], "post")
            create_site("held", "Held", [ORIGIN], "pre")
            _, token = create_api_token(create_moderator("admin@example.org", "long enough pw",
                                                         "admin"), "two servers")
        prefix = f"two-servers-{uuid.uuid4().hex[:12]}"
        stack.callback(_forget, redis_url, prefix)
        a, b = (_start(stack, root / name, database, redis_url, prefix) for name in ("a", "b"))
        yield Pair(a, b, token)


def payload(site: str, article: str, text: str) -> dict[str, Any]:
    """A comment on `article` of `site`."""
    return {"site": site, "article": article, "url": f"{ORIGIN}/{article}", "title": article,
            "author": {"name": "Reader", "email": "reader@example.org"}, "text": text}


def send(server: Server, site: str, article: str, text: str, source: str) -> Any:
    """Post as a browser on the site's page would, from a loopback `source` address."""
    return server.request("POST", "/api/v1/comments", payload(site, article, text),
                          {"Origin": ORIGIN}, source=source)


def shown(server: Server, site: str, article: str) -> list[int]:
    """The ids of the comments a reader of the thread sees on `server`."""
    reply = server.request("GET", f"/api/v1/threads?site={site}&article={article}",
                           headers={"Origin": ORIGIN})
    assert reply.status == 200
    return [comment["id"] for comment in reply.json()["comments"]]


def queued(pair: Pair, server: Server) -> list[int]:
    """The ids in the moderation queue, as `server` lists them to the API token."""
    reply = server.request("GET", "/api/v1/mod/queue?site=held",
                           headers={"Authorization": f"Bearer {pair.token}"})
    assert reply.status == 200
    return [item["id"] for item in reply.json()["items"]]


def metric(server: Server, name: str, **labels: str) -> float:
    """One sample of the server's /metrics, summed over its workers (0 when not yet seen)."""
    reply = server.request("GET", "/metrics")
    assert reply.status == 200
    for family in text_string_to_metric_families(reply.body.decode()):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return sample.value
    return 0.0


def logged(server: Server, request_id: str) -> list[dict[str, Any]]:
    """The server's JSON log lines of one request."""
    lines = [json.loads(line) for line in server.log.read_text().splitlines()
             if line.startswith("{")]
    return [line for line in lines if line.get("request_id") == request_id]


def test_both_servers_are_healthy(pair: Pair) -> None:
    for server in (pair.a, pair.b):
        reply = server.request("GET", "/healthz")
        assert (reply.status, reply.json()) == \
            (200, {"status": "ok", "version": __version__, "database": "ok", "redis": "ok"})


def test_the_metrics_directory_was_cleared_at_start(pair: Pair) -> None:
    for server in (pair.a, pair.b):
        left = {path.name for path in (server.log.parent / "prometheus").iterdir()}
        assert STALE not in left and "README" in left


def test_a_comment_posted_on_a_is_read_on_b(pair: Pair) -> None:
    approved = metric(pair.a, "comments_posted_total", outcome="approved")
    reply = send(pair.a, "open", "shared-read", "Posted on A, read on B.", "127.0.0.2")
    assert reply.status == 201 and reply.json()["status"] == "approved"
    assert shown(pair.b, "open", "shared-read") == [reply.json()["comment"]["id"]]
    # Counted once, whichever of A's workers took it and whichever answers the scrape.
    assert metric(pair.a, "comments_posted_total", outcome="approved") == approved + 1
    [line] = logged(pair.a, reply.headers["X-Request-ID"])
    assert (line["method"], line["path"], line["status"]) == ("POST", "/api/v1/comments", 201)
    assert "reader@example.org" not in json.dumps(line)


def test_a_moderation_on_a_shows_on_b(pair: Pair) -> None:
    reply = send(pair.a, "held", "shared-moderation", "Held until a moderator says.", "127.0.0.3")
    assert reply.status == 201 and reply.json()["status"] == "pending"
    comment_id = reply.json()["comment"]["id"]
    assert shown(pair.b, "held", "shared-moderation") == []
    assert comment_id in queued(pair, pair.b)
    waiting = metric(pair.b, "comments_queue_length")
    assert waiting >= 1
    approve = pair.a.request("POST", "/api/v1/mod/actions",
                             {"action": "approve", "ids": [comment_id]},
                             {"Authorization": f"Bearer {pair.token}"})
    assert approve.status == 200, approve.body
    assert shown(pair.b, "held", "shared-moderation") == [comment_id]
    assert comment_id not in queued(pair, pair.b)
    assert metric(pair.b, "comments_queue_length") == waiting - 1


def test_the_rate_limit_is_shared(pair: Pair) -> None:
    servers = [server for server, _ in zip(cycle((pair.a, pair.b)), range(POSTS))]
    replies = [send(server, "open", "shared-limit", f"Post number {i}.", "127.0.0.4")
               for i, server in enumerate(servers)]
    statuses = [reply.status for reply in replies]
    assert statuses == [201] * LIMIT + [429] * (POSTS - LIMIT)
    # Each server refused posts the other one counted: one budget, not one per server.
    assert {id(server) for server, status in zip(servers, statuses) if status == 429} == \
        {id(pair.a), id(pair.b)}
    assert len(shown(pair.b, "open", "shared-limit")) == LIMIT
