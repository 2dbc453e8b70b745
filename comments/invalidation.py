"""The invalidation channel: writers name the sites and threads they made stale, readers drop them.

Chosen at start-up: on a SQLite file, `PRAGMA data_version` on a connection of its own, asked at
every read (a few microseconds; it moves with every commit on any other connection); else Redis
pub/sub when REDIS_URL is set; else PostgreSQL's LISTEN/NOTIFY. A listener thread per worker is
started by the first read (after gunicorn forks; never at import or by the command line) and
reconnects with backoff. Kept look-ups are trusted only while the channel is live: connected, and
heard from (a message or a heartbeat) within channels.STALE_AFTER seconds; every (re)connect drops them all,
and while the channel is not live every read asks the database, as without a channel.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import Flask, current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from . import thread_cache
from .channels import Channel, DataVersion, PostgresChannel, RedisChannel, encode
from .extensions import db
from .models import Comment, Site, Thread

EXTENSION = "comments.invalidation"
STALE = "comments.stale"  # Session.info: the (site ids, thread ids) this transaction changes


def stale(sites: Iterable[int] = (), threads: Iterable[int] = ()) -> None:
    """Note sites or threads this transaction changes by SQL the ORM does not see."""
    found = db.session.info.setdefault(STALE, (set(), set()))
    found[0].update(sites)
    found[1].update(threads)


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
