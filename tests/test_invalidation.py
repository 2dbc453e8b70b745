"""The invalidation channel: a warm read asks the database nothing, and no worker stays stale.

Each backend the run has is tested: SQLite's data_version without DATABASE_URL; on PostgreSQL,
Redis pub/sub (REDIS_URL) and LISTEN/NOTIFY (the same app without REDIS_URL).
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, create_engine, event, text

from comments import channels, create_app, invalidation, thread_cache
from comments.extensions import db
from comments.models import Site
from comments.services.sites import create_site, update_site

from .conftest import USE_POSTGRES
from .helpers import BOUND, ORIGIN, post, read, soon
from .servers import Server, answering_redis, gunicorn, migrated_database, server_env

pytestmark = pytest.mark.usefixtures("site")
CHANNELS = ["redis", "postgresql"] if USE_POSTGRES else ["sqlite"]


@pytest.fixture(params=CHANNELS)
def workers(request: pytest.FixtureRequest, app: Flask) -> Iterator[tuple[Flask, Flask]]:
    """Two apps (workers) over the test's database, talking over one kind of channel."""
    overrides: dict[str, Any] = {"TESTING": True, "SECRET_KEY": "test-secret",
                                 "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                                 "RATELIMIT_ENABLED": False, "SPAM_ENABLED": False}
    if request.param == "redis":
        overrides["REDIS_URL"] = answering_redis()
    elif request.param == "postgresql":
        overrides["REDIS_URL"] = None
    made = (create_app(overrides), create_app(overrides))
    kinds = {"redis": channels.RedisChannel, "postgresql": channels.PostgresChannel,
             "sqlite": channels.DataVersion}
    assert all(isinstance(one.extensions[invalidation.EXTENSION], kinds[request.param])
               for one in made)
    yield made
    for one in made:
        with one.app_context():
            db.session.remove()
            db.engine.dispose()


def _live(app: Flask) -> bool:
    channel: channels.Channel = app.extensions[invalidation.EXTENSION]
    return channel.live()


def warm(client: FlaskClient) -> None:
    """Read until this worker's channel is live and the thread and counts are kept."""
    read(client)
    assert soon(lambda: _live(client.application), 5.0), "the channel never connected"
    read(client)
    client.get("/api/v1/counts?site=news&article=story-1", headers={"Origin": ORIGIN})


def queries_of(app: Flask, action: Callable[[], Any]) -> list[str]:
    """The SQL statements `app` sends to its database while `action` runs."""
    with app.app_context():
        engine: Engine = db.engine
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        action()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return sent


def html_of(client: FlaskClient) -> list[str]:
    return [c["html"] for c in read(client).get_json()["comments"]]


def count_of(client: FlaskClient) -> int:
    answer = client.get("/api/v1/counts?site=news&article=story-1", headers={"Origin": ORIGIN})
    return int(answer.get_json()["counts"]["story-1"])


def test_a_warm_read_asks_the_database_nothing(workers: tuple[Flask, Flask]) -> None:
    a, b = (one.test_client() for one in workers)
    post(a, text="first")
    warm(b)
    assert queries_of(workers[1], lambda: (read(b), count_of(b))) == []
    assert html_of(b) == ["<p>first</p>\n"] and count_of(b) == 1


def test_a_write_on_one_worker_shows_on_another_within_the_bound(
        workers: tuple[Flask, Flask]) -> None:
    a, b = (one.test_client() for one in workers)
    post(a, text="first")
    warm(b)
    assert count_of(b) == 1
    post(a, text="second")
    # The writer's own worker shows it at once; the other within the bound.
    assert html_of(a) == ["<p>first</p>\n", "<p>second</p>\n"] and count_of(a) == 2
    assert soon(lambda: len(html_of(b)) == 2 and count_of(b) == 2)
    # The first comment of another article: the site's kept "no thread yet" answers go too.
    assert read(b, article="story-2").get_json()["comments"] == []
    post(a, text="elsewhere", article="story-2", url="https://news.example/story-2")
    assert soon(lambda: len(read(b, article="story-2").get_json()["comments"]) == 1)


def test_a_site_change_shows_on_another_worker_within_the_bound(
        workers: tuple[Flask, Flask]) -> None:
    a, b = (one.test_client() for one in workers)
    post(a, text="first")
    warm(b)
    assert read(b).get_json()["thread"]["downvotes"] is False
    with workers[0].app_context():
        update_site(db.session.scalar(db.select(Site).filter_by(slug="news")), actor=None,
                    values={"downvotes": True})
    assert soon(lambda: read(b).get_json()["thread"]["downvotes"] is True)


def _unannounced_edit(app: Flask) -> None:
    """Change a comment the way a missed message would leave it: in SQL, behind every hook."""
    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE comments SET html = '<p>changed</p>\n'"))
            conn.execute(text("UPDATE threads SET version = version + 1"))
    finally:
        engine.dispose()


def _cut(app: Flask) -> None:
    """End the listener's connection from the server's side, as a network fault would."""
    channel = app.extensions[invalidation.EXTENSION]
    if isinstance(channel, channels.RedisChannel):
        client = redis.Redis.from_url(app.config["REDIS_URL"])
        try:
            killed = [client.client_kill_filter(_id=row["id"]) for row in client.client_list()
                      if row["name"] == channel.name]
        finally:
            client.close()
    else:
        with app.app_context():
            killed = db.session.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = :name"), {"name": channel.name}).scalars().all()
            db.session.commit()
    assert killed


def test_a_lost_message_is_made_good_by_dropping_everything(workers: tuple[Flask, Flask]) -> None:
    a, b = (one.test_client() for one in workers)
    post(a, text="first")
    warm(b)
    assert len(thread_cache.lookups(workers[1])) == 2
    _unannounced_edit(workers[0])
    if not isinstance(workers[1].extensions[invalidation.EXTENSION], channels.DataVersion):
        _cut(workers[1])
    # SQLite's data_version moves with any commit; a channel's reconnect drops everything.
    assert soon(lambda: html_of(b) == ["<p>changed</p>\n"])
    assert soon(lambda: _live(workers[1]), 5.0)
    assert html_of(b) == ["<p>changed</p>\n"]


@pytest.mark.skipif(not USE_POSTGRES, reason="SQLite's data_version needs no connection")
def test_without_a_live_channel_every_read_asks_the_database(app: Flask) -> None:
    # Nothing listens on port 1: the channel never connects, and reads stay correct.
    worker = create_app({"TESTING": True, "SECRET_KEY": "test-secret",
                         "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                         "REDIS_URL": "redis://127.0.0.1:1/0", "RATELIMIT_ENABLED": False,
                         "SPAM_ENABLED": False})
    client = worker.test_client()
    try:
        post(client, text="first")
        read(client)
        assert not _live(worker)
        assert len(queries_of(worker, lambda: read(client))) == 1
        assert len(thread_cache.lookups(worker)) == 0
    finally:
        with worker.app_context():
            db.session.remove()
            db.engine.dispose()


def test_messages_name_sites_and_threads_and_anything_else_drops_everything() -> None:
    kept = thread_cache.Lookups()

    def fill() -> None:
        for key, site, threads in (("a", 1, (10,)), ("b", 1, ()), ("c", 2, (20, 21))):
            kept.fetch(key, lambda: key, lambda _value, s=site, t=threads: (s, t))

    fill()
    channels.apply(kept, channels.encode([], [21]))
    assert len(kept) == 2
    channels.apply(kept, "s1")
    assert len(kept) == 0
    fill()
    channels.apply(kept, "t10 x7")
    assert len(kept) == 0
    assert channels.encode(range(2000), []) == "*"


def _servers_read(servers: list[Server], check: Callable[[list[str]], bool]) -> bool:
    """Whether a few reads on each server (so on each of its workers, likely) all pass `check`."""
    for server in servers:
        for _ in range(4):
            reply = server.request("GET", "/api/v1/threads?site=news&article=story-1",
                                   headers={"Origin": ORIGIN})
            if not check([c["html"] for c in reply.json()["comments"]]):
                return False
    return True


def _cut_servers(servers: list[Server], redis_url: str) -> int:
    """End every worker's listener connection on Redis; how many were ended."""
    pids = {pid for server in servers for pid, *_ in server.served()}
    names = {f"comments-invalidation-{pid}" for pid in pids}
    client = redis.Redis.from_url(redis_url)
    try:
        return sum(client.client_kill_filter(_id=row["id"])
                   for row in client.client_list() if row["name"] in names)
    finally:
        client.close()


def test_servers_see_each_others_writes_within_the_bound(tmp_path: Path) -> None:
    """Three servers on PostgreSQL and Redis (one on SQLite): a write through one shows on all
    within the bound, and so does a change no message announced, once the listeners reconnect."""
    redis_url = answering_redis() if USE_POSTGRES else ""
    with migrated_database(tmp_path) as app, ExitStack() as stack:
        database = app.config["SQLALCHEMY_DATABASE_URI"]
        with app.app_context():
            create_site("news", "News", [ORIGIN])
        env = server_env(DATABASE_URL=database, COMMENTS_SECRET_KEY="servers-invalidation",
                         COMMENTS_SPAM_ENABLED="false", COMMENTS_RATELIMIT_ENABLED="false",
                         **({"REDIS_URL": redis_url} if redis_url else {}))
        servers = [stack.enter_context(gunicorn(env, tmp_path / f"server-{n}", workers=2))
                   for n in range(3 if USE_POSTGRES else 1)]
        for server in servers:
            server.wait_for_workers(2, "/api/v1/threads?site=news&article=story-1")
        body = {"site": "news", "article": "story-1", "url": f"{ORIGIN}/story-1",
                "title": "Story", "author": {"name": "Ada"}, "text": "first"}
        assert servers[0].request("POST", "/api/v1/comments", body,
                                  {"Origin": ORIGIN}).status == 201
        assert soon(lambda: _servers_read(servers, lambda shown: len(shown) == 1))
        assert servers[-1].request("POST", "/api/v1/comments", {**body, "text": "second"},
                                   {"Origin": ORIGIN}).status == 201
        assert soon(lambda: _servers_read(servers, lambda shown: len(shown) == 2))
        _unannounced_edit(app)
        if USE_POSTGRES:
            assert _cut_servers(servers, redis_url) == 2 * len(servers)
        assert soon(lambda: _servers_read(servers, lambda shown: shown == ["<p>changed</p>\n"] * 2))
