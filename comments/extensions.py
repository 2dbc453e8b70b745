"""Flask extensions, constructed unbound here and bound to the app in init_app."""
from __future__ import annotations

import sys
import time
from typing import Any

import click
from flask import Flask, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import Engine, MetaData, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase

from .paths import MIGRATIONS

# Stable constraint names, so Alembic can drop and alter them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base whose metadata names every constraint."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
limiter = Limiter(key_func=get_remote_address)
csrf = CSRFProtect()


@limiter.request_filter
def _reads_are_unlimited() -> bool:
    """No read carries a limit (the login form limits its POST only): spare reads the limiter."""
    return request.method in ("GET", "HEAD", "OPTIONS")

AUTOCOMMIT = "comments.autocommit_engine"


def autocommit_engine() -> Engine:
    """The app's engine for lone reads outside a transaction: nothing to roll back after them
    (a round trip saved on PostgreSQL). Made once: each execution_options() call builds one."""
    engine: Engine = current_app.extensions[AUTOCOMMIT]
    return engine


def init_app(app: Flask) -> None:
    """Bind every extension to `app`, and tune SQLite connections."""
    db.init_app(app)
    # Alembic and Mako cost a web worker about 20 MB it never uses: migrations (and the `flask db`
    # commands) are bound only when the app is built by the `flask` command line, or by code that
    # has imported Flask-Migrate to migrate.
    if click.get_current_context(silent=True) is not None or "flask_migrate" in sys.modules:
        from flask_migrate import Migrate

        # Batch mode lets Alembic alter SQLite tables by copying them.
        Migrate(app, db, directory=str(MIGRATIONS), render_as_batch=True, compare_type=True)
    limiter.init_app(app)
    csrf.init_app(app)
    with app.app_context():
        engine = db.engine
    app.extensions[AUTOCOMMIT] = engine.execution_options(isolation_level="AUTOCOMMIT")
    if not app.config["SQLALCHEMY_ENGINE_OPTIONS"].get("pool_pre_ping"):
        event.listen(engine, "checkout", _ping_after_idle)
        event.listen(engine, "checkin", _note_checkin)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        event.listen(engine, "connect", _sqlite_pragmas(app.config["SQLITE_BUSY_TIMEOUT_MS"]))


# A pooled connection unused for this long is pinged before it is handed out: one that a database
# restart or an idle timeout closed is replaced instead of failing a request. SQLAlchemy's
# pool_pre_ping does this before every use, a round trip per request that a busy pool, whose
# connections were used a moment ago, does not need.
PING_AFTER_IDLE_SECONDS = 5.0


def _note_checkin(_dbapi_connection: Any, record: Any) -> None:
    record.info["checked_in_at"] = time.monotonic()


def _ping_after_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """Ping a connection that sat idle (not a new one); a dead one is replaced by the pool."""
    checked_in = record.info.get("checked_in_at")
    if checked_in is None or time.monotonic() - checked_in < PING_AFTER_IDLE_SECONDS:
        return
    try:
        cursor = dbapi_connection.cursor()
        cursor.execute("SELECT 1")
        cursor.close()
        dbapi_connection.rollback()
    except Exception as exc:
        raise DisconnectionError(f"connection lost while idle: {exc}") from exc


def _sqlite_pragmas(timeout_ms: int) -> Any:
    """A connect listener: WAL for concurrent readers, a busy timeout, enforced foreign keys."""

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return on_connect
