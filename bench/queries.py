"""The app in this process, over the benchmark's database: the SQL a request runs, and its plans."""
from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event


@dataclass
class Captured:
    """The statements one request ran, with the time they took."""

    statements: list[tuple[str, Any]] = field(default_factory=list)
    seconds: float = 0.0


def make_app(url: str, settings: Mapping[str, Any]) -> Flask:
    """Our app as the servers run it, its request log sent nowhere."""
    from comments import create_app

    # The log handler keeps the stream it is created with: the sink stays open for the app's life.
    sink = open(os.devnull, "w")  # noqa: SIM115
    with contextlib.redirect_stderr(sink):
        return create_app({"SQLALCHEMY_DATABASE_URI": url, **settings})


@contextlib.contextmanager
def capturing(app: Flask) -> Iterator[Captured]:
    """Record every statement (and the time spent in the database) while the block runs."""
    from comments.extensions import db

    captured = Captured()
    started: list[float] = []

    def before(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any,
               executemany: bool) -> None:
        captured.statements.append((statement, parameters))
        started.append(time.perf_counter())

    def after(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any,
              executemany: bool) -> None:
        if started:
            captured.seconds += time.perf_counter() - started.pop()

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        yield captured
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)


def selects(app: Flask, path: str, headers: Mapping[str, str],
            client: FlaskClient | None = None) -> list[tuple[str, Any]]:
    """The SELECTs a GET of `path` runs (after one warm-up request)."""
    client = client or app.test_client()
    client.get(path, headers=dict(headers))
    with capturing(app) as captured:
        response = client.get(path, headers=dict(headers))
    if response.status_code != 200:
        raise RuntimeError(f"GET {path}: {response.status_code}")
    return [(s, p) for s, p in captured.statements if s.lstrip().upper().startswith("SELECT")]


def explain(app: Flask, statements: list[tuple[str, Any]]) -> list[tuple[str, str]]:
    """(SQL with its values, plan): EXPLAIN (ANALYZE, BUFFERS) on PostgreSQL, EXPLAIN QUERY PLAN on
    SQLite."""
    from comments.extensions import db

    out = []
    with app.app_context(), db.engine.connect() as conn:
        raw = conn.connection.driver_connection
        postgres = conn.dialect.name == "postgresql"
        for statement, params in statements:
            if postgres:
                import psycopg

                literal = psycopg.ClientCursor(raw).mogrify(statement, params)
                with raw.cursor() as cur:
                    cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + literal)
                    plan = "\n".join(row[0] for row in cur.fetchall())
            else:
                literal = _sqlite_literal(statement, params)
                rows = raw.execute("EXPLAIN QUERY PLAN " + statement, params).fetchall()
                plan = _sqlite_tree(rows)
            out.append((literal, plan))
        if postgres:
            raw.rollback()
    return out


def _sqlite_literal(statement: str, params: Any) -> str:
    values = list(params or ())
    parts = statement.split("?")
    out = parts[0]
    for value, part in zip(values, parts[1:]):
        out += (f"'{value}'" if isinstance(value, str) else str(value)) + part
    return out


def _sqlite_tree(rows: list[Any]) -> str:
    """EXPLAIN QUERY PLAN's rows (id, parent, _, detail) as an indented tree."""
    depth: dict[int, int] = {0: -1}
    lines = []
    for node, parent, _, detail in rows:
        depth[node] = depth.get(parent, -1) + 1
        lines.append("  " * depth[node] + detail)
    return "\n".join(lines)
