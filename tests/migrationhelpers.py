"""A database as the previous release (0.1.0, migration 0010) left it, and what became of its rows.

The rows are plain SQL against the 0010 schema, never the current models, so that they stay the
previous release's rows whatever later migrations change.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine, inspect, text

# The head of 0.1.0: the migrations after it are this release's.
PREVIOUS_HEAD = "0010"
# Columns that a later migration rewrites on purpose, by table: their values may change.
REWRITTEN: dict[str, frozenset[str]] = {}

T0, T1, T2 = "2026-01-05 09:00:00", "2026-01-05 10:30:00", "2026-01-06 08:15:00"
SITE = {"origins": '["https://news.example"]', "settings": "{}", "created_at": T0, "sso_secret": None}
MODERATOR = {"password_hash": "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA", "active": True,
             "created_at": T0, "last_login_at": T1, "notify_queue": False, "notified_up_to": 0}
COMMENT = {"author_email": None, "author_website": None, "edited_at": None, "client_ip": "203.0.113.9",
           "edit_token_hash": None, "featured": False, "reasons": "[]", "moderated_at": None,
           "verdict": None, "flagged": False, "reader_hash": "r" * 64, "text_hash": "t" * 64,
           "score": 0, "notify_replies": False, "sso_id": None, "author_avatar": None,
           "import_key": None, "created_at": T1}
OUTBOX = {"created_at": T1, "attempts": 0, "next_attempt_at": T1, "sent_at": None, "failed_at": None,
          "last_error": None, "last_status": None, "last_response": None}


def _comment(number: int, thread: int, site: int, parent: int | None, root: int | None, depth: int,
             status: str, **extra: Any) -> dict[str, Any]:
    """A comment row: `number` is its id, in its author's name and in its text."""
    return {**COMMENT, "id": number, "thread_id": thread, "site_id": site, "parent_id": parent,
            "root_id": root, "depth": depth, "status": status, "author_name": f"Reader {number}",
            "text": f"Comment {number}", "html": f"<p>Comment {number}</p>", **extra}


# Parents before children, in the order the foreign keys need.
ROWS: dict[str, list[dict[str, Any]]] = {
    "sites": [{**SITE, "id": 1, "slug": "news", "name": "News", "moderation": "post"},
              {**SITE, "id": 2, "slug": "blog", "name": "Blog", "moderation": "pre",
               "origins": '["https://blog.example", "https://www.blog.example"]',
               "settings": '{"spam_threshold": 0.8}', "sso_secret": "s" * 43}],
    "moderators": [{**MODERATOR, "id": 1, "email": "admin@example.org", "role": "admin"},
                   {**MODERATOR, "id": 2, "email": "mod@example.org", "role": "moderator",
                    "notify_queue": True, "notified_up_to": 3, "last_login_at": None}],
    "moderator_sites": [{"moderator_id": 2, "site_id": 2}],
    "api_tokens": [{"id": 1, "moderator_id": 2, "name": "bot", "token_hash": "h" * 64, "created_at": T0,
                    "last_used_at": T1, "revoked_at": None}],
    "threads": [{"id": 1, "site_id": 1, "article_key": "story-1", "url": "https://news.example/1",
                 "title": "Story one", "comment_count": 3, "version": 7, "created_at": T0, "closed_at": None},
                {"id": 2, "site_id": 2, "article_key": "post-1", "url": None, "title": None,
                 "comment_count": 0, "version": 2, "created_at": T0, "closed_at": T2}],
    "comments": [_comment(1, 1, 1, None, None, 0, "approved", author_email="ada@example.org",
                          featured=True, score=2, notify_replies=True, edit_token_hash="e" * 64),
                 _comment(2, 1, 1, 1, 1, 1, "approved", edited_at=T2, sso_id="user-7",
                          author_avatar="https://news.example/a.png"),
                 _comment(3, 1, 1, 2, 1, 2, "approved", import_key="disqus:123", client_ip=None),
                 _comment(4, 2, 2, None, None, 0, "pending", flagged=True, reasons='["link"]',
                          verdict='{"score": 0.9, "action": "hold"}'),
                 _comment(5, 2, 2, None, None, 0, "spam", moderated_at=T2)],
    "bans": [{"id": 1, "site_id": 2, "email": "spam@example.net", "ip": None, "identity": None,
              "reason": "spam", "created_at": T1, "expires_at": None, "created_by_id": 2,
              "lifted_at": None},
             {"id": 2, "site_id": 1, "email": None, "ip": "198.51.100.7", "identity": "user-9",
              "reason": "flood", "created_at": T1, "expires_at": T2, "created_by_id": None,
              "lifted_at": T2}],
    "audit_log": [{"id": 1, "moderator_id": 2, "site_id": 2, "comment_id": 5, "action": "spam",
                   "status_before": "pending", "status_after": "spam", "reason": "",
                   "detail": "{}", "created_at": T2},
                  {"id": 2, "moderator_id": 1, "site_id": 1, "comment_id": None, "action": "site.update",
                   "status_before": None, "status_after": None, "reason": "origins",
                   "detail": '{"origins": ["https://news.example"]}', "created_at": T2}],
    "labelled_examples": [{"id": 1, "comment_id": 5, "site_id": 2, "label": "spam", "text": "Comment 5",
                           "verdict": None, "moderator_id": 2, "created_at": T2}],
    "reports": [{"id": 1, "comment_id": 2, "reporter_hash": "p" * 64, "reason": "rude", "created_at": T2}],
    "votes": [{"id": 1, "comment_id": 1, "voter_hash": "v" * 64, "value": 1, "created_at": T2},
              {"id": 2, "comment_id": 1, "voter_hash": "w" * 64, "value": 1, "created_at": T2}],
    "used_links": [{"id": "l" * 64, "used_at": T2}],
    "webhooks": [{"id": 1, "site_id": 1, "url": "https://hooks.example/in", "secret": "k" * 43,
                  "events": '["comment.created"]', "active": True, "created_at": T0}],
    "outbox": [{**OUTBOX, "id": 1, "kind": "mail", "site_id": None, "webhook_id": None,
                "payload": '{"to": "ada@example.org", "subject": "Reply"}', "sent_at": T2},
               {**OUTBOX, "id": 2, "kind": "webhook", "site_id": 1, "webhook_id": 1, "attempts": 2,
                "payload": '{"webhook_id": 1, "site_id": 1, "event": "comment.created"}',
                "last_status": 502, "last_response": "bad gateway"}],
}


def schema_columns(conn: Connection) -> dict[str, set[str]]:
    """The columns of each table the database has now."""
    inspector = inspect(conn)
    return {table: {col["name"] for col in inspector.get_columns(table)}
            for table in inspector.get_table_names()}


def fill(conn: Connection, written: dict[str, set[str]] | None = None) -> None:
    """Insert ROWS, less the tables and columns the database does not have yet (it may be at an
    earlier revision), with PostgreSQL's id sequences moved past them. With `written`, only those
    tables and columns are named, as code written for that schema would name them."""
    present = schema_columns(conn)
    for table, rows in ROWS.items():
        known = present.get(table, set()) & (written or present).get(table, set())
        if not known:
            continue
        columns = [c for c in rows[0] if c in known]
        conn.execute(text(f"INSERT INTO {table} ({', '.join(columns)}) "
                          f"VALUES ({', '.join(':' + c for c in columns)})"),
                     [{c: row[c] for c in columns} for row in rows])
        if conn.dialect.name == "postgresql" and "id" in columns and isinstance(rows[0]["id"], int):
            conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                              f"(SELECT max(id) FROM {table}))"))


Snapshot = dict[str, dict[tuple[Any, ...], dict[str, Any]]]


def snapshot(engine: Engine) -> Snapshot:
    """Every row of every table (Alembic's own left out), by table and primary key."""
    inspector = inspect(engine)
    found: Snapshot = {}
    with engine.connect() as conn:
        for table in inspector.get_table_names():
            if table == "alembic_version":
                continue
            key = inspector.get_pk_constraint(table)["constrained_columns"]
            rows = conn.execute(text(f"SELECT * FROM {table}")).mappings().all()
            found[table] = {tuple(row[c] for c in key): dict(row) for row in rows}
    return found


def columns(rows: Snapshot) -> dict[str, set[str]]:
    """Each table's columns, as its rows show them."""
    return {table: set().union(*(row.keys() for row in by_key.values()))
            for table, by_key in rows.items()}


def lost(before: Snapshot, now: Snapshot) -> list[str]:
    """What became of `before`'s rows in the tables that still exist: each one gone, and each value
    changed in a column that still exists (REWRITTEN columns aside)."""
    problems = []
    for table in before.keys() & now.keys():
        for key, row in before[table].items():
            if key not in now[table]:
                problems.append(f"{table} {key}: the row is gone")
                continue
            for column, value in row.items():
                new = now[table][key].get(column, value)
                if column not in REWRITTEN.get(table, ()) and new != value:
                    problems.append(f"{table} {key}: {column} was {value!r}, is {new!r}")
    return sorted(problems)
