"""The invalidation channels: how one worker tells the others which sites and threads are stale.

A message names sites (`s<id>`) and threads (`t<id>`); see comments/invalidation.py for when
each channel is chosen and how the reads trust it.
"""
from __future__ import annotations

import logging
import os
import select
import sqlite3
import threading
import time
from collections.abc import Iterable

from typing import TYPE_CHECKING

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from .thread_cache import Lookups

if TYPE_CHECKING:
    import redis

CHANNEL = "comments_stale"
HEARTBEAT = 0.25  # seconds between a listener's signs of life
STALE_AFTER = 0.8  # unheard this long, the channel is not trusted (the 1 s staleness bound)
MAX_PAYLOAD = 7000  # PostgreSQL's NOTIFY takes under 8000 bytes; a longer list drops everything
log = logging.getLogger(__name__)


def encode(sites: Iterable[int], threads: Iterable[int]) -> str:
    """A message: `s<id>` per site, `t<id>` per thread; `*` (everything) when too long."""
    payload = " ".join([*(f"s{i}" for i in sorted(sites)), *(f"t{i}" for i in sorted(threads))])
    return payload if len(payload) <= MAX_PAYLOAD else "*"


def apply(kept: Lookups, payload: str) -> None:
    """Drop what a message names; a message this code cannot read drops everything."""
    named: dict[str, list[int]] = {"s": [], "t": []}
    for word in payload.split():
        if word[:1] not in named or not word[1:].isdecimal():
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
            if self._generation != generation:
                return  # closed: a newer listener may be running, and owns the state
            self._connected = False
            self.kept.clear()
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
        # Loaded here: a worker without REDIS_URL never imports redis.
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        # No silent retries: a reconnect must be seen, since messages may have been missed.
        return redis.Redis.from_url(self._url, socket_connect_timeout=1, socket_timeout=1,
                                    retry=Retry(NoBackoff(), 0))

    def close(self) -> None:
        super().close()
        if self._publisher is not None:
            self._publisher.close()
            self._publisher = None

    def publish(self, payload: str) -> None:
        from redis import RedisError

        try:
            if self._publisher is None:
                self._publisher = self._client()
            self._publisher.publish(CHANNEL, payload)
        except RedisError as exc:
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
