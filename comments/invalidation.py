"""The invalidation channel: writers name the sites and threads they made stale, readers drop them.

Chosen at start-up: on a SQLite file, `PRAGMA data_version` on a connection of its own, asked at
every read (a few microseconds; it moves with every commit on any other connection); else Redis
pub/sub when REDIS_URL is set; else PostgreSQL's LISTEN/NOTIFY. A listener thread per worker is
started by the first read (after gunicorn forks; never at import or by the command line) and
reconnects with backoff. Kept look-ups are trusted only while the channel is live: connected, and
heard from (a message or a heartbeat) within STALE_AFTER seconds; every (re)connect drops them all,
and while the channel is not live every read asks the database, as without a channel.
"""
from __future__ import annotations

import logging
import os
import select
import sqlite3
import threading
import time
from collections.abc import Iterable
from typing import Any

import redis
from flask import Flask, current_app, has_app_context
from redis.backoff import NoBackoff
from redis.retry import Retry
from sqlalchemy import Engine, event, text
from sqlalchemy.orm import Session, SessionTransaction

from . import thread_cache
from .extensions import db
from .models import Comment, Site, Thread
from .thread_cache import Lookups

EXTENSION = "comments.invalidation"
CHANNEL = "comments_stale"
HEARTBEAT = 0.25  # seconds between a listener's signs of life
STALE_AFTER = 0.8  # unheard this long, the channel is not trusted (the 1 s staleness bound)
MAX_PAYLOAD = 7000  # PostgreSQL's NOTIFY takes under 8000 bytes; a longer list drops everything
STALE = "comments.stale"  # Session.info: the (site ids, thread ids) this transaction changes
log = logging.getLogger(__name__)


def stale(sites: Iterable[int] = (), threads: Iterable[int] = ()) -> None:
    """Note sites or threads this transaction changes by SQL the ORM does not see."""
    found = db.session.info.setdefault(STALE, (set(), set()))
    found[0].update(sites)
    found[1].update(threads)


def encode(sites: Iterable[int], threads: Iterable[int]) -> str:
    """A message: `s<id>` per site, `t<id>` per thread; `*` (everything) when too long."""
    payload = " ".join([*(f"s{i}" for i in sorted(sites)), *(f"t{i}" for i in sorted(threads))])
    return payload if len(payload) <= MAX_PAYLOAD else "*"


def apply(kept: Lookups, payload: str) -> None:
    """Drop what a message names; a message this code cannot read drops everything."""
    named: dict[str, list[int]] = {"s": [], "t": []}
    for word in payload.split():
        if word[:1] not in named or not word[1:].isdigit():
            kept.clear()
            return
        named[word[0]].append(int(word[1:]))
    kept.drop(named["s"], named["t"])


class Channel:
    """No channel (an in-memory database): kept look-ups are never trusted."""

    def __init__(self, kept: Lookups) -> None:
        self.kept = kept

    def live(self) -> bool:
        """May a read use what is kept?"""
        return False

    def notify(self, session: Session, payload: str) -> None:
        """Send `payload` inside the committing transaction (PostgreSQL only)."""

    def publish(self, payload: str) -> None:
        """Send `payload` after the commit."""

    def close(self) -> None:
        """Let go of connections (the engine was disposed); the next read makes new ones."""


class DataVersion(Channel):
    """SQLite on one machine: any commit by another connection moves `PRAGMA data_version`."""

    def __init__(self, kept: Lookups, path: str) -> None:
        super().__init__(kept)
        self._path = path
        self._conn: sqlite3.Connection | None = None
        self._pid = 0
        self._version: int | None = None
        self._lock = threading.Lock()

    def live(self) -> bool:
        with self._lock:
            try:
                if self._conn is None or self._pid != os.getpid():
                    self._conn = sqlite3.connect(f"file:{self._path}?mode=rw", uri=True,
                                                 check_same_thread=False, isolation_level=None)
                    self._pid, self._version = os.getpid(), None
                version = self._conn.execute("PRAGMA data_version").fetchone()[0]
            except sqlite3.Error:
                self._conn = None
                return False
            if version != self._version:
                self.kept.clear()
                self._version = version
            return True

    def close(self) -> None:
        with self._lock:
            if self._conn is not None and self._pid == os.getpid():
                self._conn.close()
            self._conn = None


class Listener(Channel):
    """A thread per worker holding a subscribed connection; `_heard` is its last sign of life."""

    @property
    def name(self) -> str:
        """The listener connection's client or application name: the worker's, for operators."""
        return f"comments-invalidation-{os.getpid()}"

    def __init__(self, kept: Lookups) -> None:
        super().__init__(kept)
        self._pid = 0
        self._generation = 0  # a listener runs while this is its own; close() moves it
        self._connected = False
        self._heard = 0.0
        self._backoff = 0.1
        self._lock = threading.Lock()

    def live(self) -> bool:
        if self._pid != os.getpid():
            with self._lock:
                if self._pid != os.getpid():
                    self._pid, self._connected = os.getpid(), False
                    self._generation += 1
                    threading.Thread(target=self._run, args=(self._generation,), daemon=True,
                                     name="comments-invalidation").start()
        return self._connected and time.monotonic() - self._heard < STALE_AFTER

    def close(self) -> None:
        with self._lock:
            self._generation += 1
            self._pid, self._connected = 0, False

    def _run(self, generation: int) -> None:
        while self._generation == generation:
            try:
                self._listen(generation)
            except Exception as exc:  # any failure: drop everything, and connect again
                log.warning("invalidation channel lost (%s); reconnecting in %.1f s",
                            exc, self._backoff)
            self._connected = False
            self.kept.clear()
            if self._generation == generation:
                time.sleep(self._backoff)
                self._backoff = min(self._backoff * 2, 5.0)

    def _subscribed(self) -> None:
        """Nothing heard before this moment can be trusted: drop everything, then trust."""
        self.kept.clear()
        self._heard, self._backoff, self._connected = time.monotonic(), 0.1, True

    def _message(self, payload: str) -> None:
        apply(self.kept, payload)
        self._heard = time.monotonic()

    def _listen(self, generation: int) -> None:
        raise NotImplementedError


class RedisChannel(Listener):
    """Redis pub/sub: published after the commit, from any process that has REDIS_URL."""

    def __init__(self, kept: Lookups, url: str) -> None:
        super().__init__(kept)
        self._url = url
        self._publisher: redis.Redis | None = None

    def _client(self) -> redis.Redis:
        # No silent retries: a reconnect must be seen, since messages may have been missed.
        return redis.Redis.from_url(self._url, socket_connect_timeout=1, socket_timeout=1,
                                    retry=Retry(NoBackoff(), 0))

    def publish(self, payload: str) -> None:
        try:
            if self._publisher is None:
                self._publisher = self._client()
            self._publisher.publish(CHANNEL, payload)
        except redis.RedisError as exc:
            log.warning("could not publish stale threads (%s)", exc)

    def _listen(self, generation: int) -> None:
        client = self._client()
        pubsub = client.pubsub()
        try:
            pubsub.execute_command("CLIENT", "SETNAME", self.name)
            pubsub.subscribe(CHANNEL)
            pinged = 0.0
            while self._generation == generation:
                if time.monotonic() - pinged >= HEARTBEAT:
                    pubsub.ping()
                    pinged = time.monotonic()
                message = pubsub.get_message(timeout=HEARTBEAT)
                if message is None:
                    continue
                if message["type"] == "subscribe":
                    self._subscribed()
                elif message["type"] == "message":
                    self._message(message["data"].decode())
                elif message["type"] == "pong":
                    self._heard = time.monotonic()
        finally:
            pubsub.close()
            client.close()


class PostgresChannel(Listener):
    """LISTEN/NOTIFY: sent inside the writing transaction, so it leaves with the commit."""

    def __init__(self, kept: Lookups, engine: Engine) -> None:
        super().__init__(kept)
        self._engine = engine

    def notify(self, session: Session, payload: str) -> None:
        session.execute(text("SELECT pg_notify(:channel, :payload)"),
                        {"channel": CHANNEL, "payload": payload})

    def _listen(self, generation: int) -> None:
        dialect = self._engine.dialect
        cargs, cparams = dialect.create_connect_args(self._engine.url)
        conn = dialect.loaded_dbapi.connect(*cargs, **{"connect_timeout": 2, **cparams,
                                                       "application_name": self.name})
        try:
            conn.autocommit = True
            conn.add_notify_handler(lambda note: self._message(note.payload))
            conn.execute(f"LISTEN {CHANNEL}")
            self._subscribed()
            while self._generation == generation:
                select.select([conn.fileno()], [], [], HEARTBEAT)
                conn.execute("SELECT 1")  # delivers what arrived, and is the sign of life
                self._heard = time.monotonic()
        finally:
            conn.close()


def _changed(session: Session, _context: Any) -> None:
    """After a flush: note the sites and threads whose rows (or comments) changed."""
    sites, threads = set(), set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Site):
            sites.add(obj.id)
        elif isinstance(obj, Thread):
            # A new thread: its site's kept "no thread yet" answers are stale.
            (sites.add(obj.site_id) if obj in session.new else threads.add(obj.id))
        elif isinstance(obj, Comment):
            threads.add(obj.thread_id)
    if sites or threads:
        found = session.info.setdefault(STALE, (set(), set()))
        found[0].update(sites)
        found[1].update(threads)


def _channel() -> Channel | None:
    return current_app.extensions.get(EXTENSION) if has_app_context() else None


def _before_commit(session: Session) -> None:
    channel = _channel()
    if channel is None:
        return
    session.flush()
    if STALE in session.info:
        channel.notify(session, encode(*session.info[STALE]))


def _after_commit(session: Session) -> None:
    found = session.info.pop(STALE, None)
    channel = _channel()
    if found is None or channel is None:
        return
    # This worker's own writes show at once, whatever the channel's delay.
    channel.kept.drop(*found)
    channel.publish(encode(*found))


def _transaction_ended(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(STALE, None)  # rolled back: nothing was changed


def init_app(app: Flask) -> None:
    """Choose the app's channel (nothing connects until the first read) and watch commits."""
    kept = thread_cache.lookups(app)
    with app.app_context():
        engine = db.engine
    channel: Channel
    if engine.dialect.name == "sqlite":
        path = engine.url.database
        memory = not path or path == ":memory:" or path.startswith("file::memory:")
        channel = Channel(kept) if memory else DataVersion(kept, path)
    elif app.config.get("REDIS_URL"):
        channel = RedisChannel(kept, app.config["REDIS_URL"])
    else:
        channel = PostgresChannel(kept, engine)
    app.extensions[EXTENSION] = channel
    event.listen(engine, "engine_disposed", lambda _engine: channel.close())
    for name, hook in (("after_flush", _changed), ("before_commit", _before_commit),
                       ("after_commit", _after_commit),
                       ("after_transaction_end", _transaction_ended)):
        if not event.contains(Session, name, hook):
            event.listen(Session, name, hook)


def trusted() -> bool:
    """May this read use the kept look-ups (cache on, channel live)?"""
    channel: Channel = current_app.extensions[EXTENSION]
    return current_app.extensions[thread_cache.EXTENSION].enabled and channel.live()
