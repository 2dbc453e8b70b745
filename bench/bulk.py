"""Bulk writes for the seed: COPY on PostgreSQL, batched INSERTs on SQLite, indexes rebuilt after."""
from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Connection, Table, text


def _defaults(table: Table, given: Iterable[str]) -> dict[str, Any]:
    """Values for the columns the generator does not set: the model's defaults, else NULL."""
    out: dict[str, Any] = {}
    given = set(given)
    for col in table.columns:
        if col.name in given or col.server_default is not None or col.primary_key:
            continue
        default = col.default
        if default is not None and getattr(default, "is_scalar", False):
            out[col.name] = default.arg
        elif default is not None and getattr(default, "is_callable", False):
            out[col.name] = default.arg(None)
        elif col.nullable:
            out[col.name] = None
        else:
            raise RuntimeError(f"{table.name}.{col.name} is required and has no default: "
                               "teach bench/seed.py about it")
    return out


def _escape(value: Any, is_json: bool) -> str:
    if value is None:
        return "\\N"
    if is_json:
        value = json.dumps(value)
    elif isinstance(value, bool):
        return "t" if value else "f"
    elif isinstance(value, datetime):
        return value.isoformat(sep=" ")
    elif not isinstance(value, str):
        return str(value)
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


class Writer:
    """Bulk rows into one table: COPY on PostgreSQL, executemany INSERTs on SQLite."""

    def __init__(self, conn: Connection, table: Table, fields: list[str]) -> None:
        self.conn, self.table, self.fields = conn, table, fields
        self.defaults = _defaults(table, fields)
        self.columns = fields + list(self.defaults)
        self.json = [isinstance(table.c[c].type, JSON) for c in self.columns]
        self.pg = conn.dialect.name == "postgresql"
        self.buffer: list[Any] = []

    def add(self, rows: list[dict[str, Any]]) -> None:
        """Queue rows; written in batches."""
        for row in rows:
            if self.pg:
                values = [row[f] for f in self.fields] + list(self.defaults.values())
                self.buffer.append("\t".join(_escape(v, j) for v, j in zip(values, self.json)))
            else:
                self.buffer.append({**self.defaults, **row})
        if len(self.buffer) >= 5000:
            self.flush()

    def flush(self) -> None:
        """Write what is queued."""
        if not self.buffer:
            return
        if self.pg:
            cursor = self.conn.connection.driver_connection.cursor()
            cols = ", ".join(f'"{c}"' for c in self.columns)
            with cursor.copy(f'COPY "{self.table.name}" ({cols}) FROM STDIN') as copy:
                copy.write("\n".join(self.buffer) + "\n")
        else:
            self.conn.execute(self.table.insert(), self.buffer)
        self.buffer = []


def secondary_indexes(conn: Connection, table: str) -> list[tuple[str, str]]:
    """(name, definition) of the table's plain indexes: rebuilt in one pass after the load."""
    if conn.dialect.name == "postgresql":
        rows = conn.execute(text(
            "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
            "JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid "
            "JOIN pg_namespace n ON n.oid = t.relnamespace "
            "WHERE n.nspname = current_schema() AND t.relname = :t "
            "AND NOT x.indisprimary AND NOT x.indisunique"), {"t": table})
    else:
        rows = conn.execute(text(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = :t "
            "AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE%'"), {"t": table})
    return [(name, sql) for name, sql in rows]
