"""The migrations build exactly the models' schema, from one head, on SQLite and PostgreSQL."""
from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, text

from comments import create_app
from comments.extensions import MIGRATIONS, db

from .conftest import POSTGRES_URL, USE_POSTGRES, schema_url
from .migrationhelpers import (PREVIOUS_HEAD, Snapshot, columns, fill, lost, schema_columns,
                               snapshot)


@contextmanager
def _empty_app(tmp_path: Path) -> Iterator[Flask]:
    """An app over a database with no tables at all (a new PostgreSQL schema, or a new file)."""
    if not USE_POSTGRES:
        path = tmp_path / f"m{uuid.uuid4().hex[:8]}.sqlite3"
        yield create_app({"TESTING": True, "SECRET_KEY": "t", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
        return
    schema = f"migration_check_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    url = schema_url(POSTGRES_URL, schema)
    try:
        yield create_app({"TESTING": True, "SECRET_KEY": "t", "SQLALCHEMY_DATABASE_URI": url})
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture
def empty_db_app(tmp_path: Path) -> Iterator[Flask]:
    """An app over a database with no tables at all."""
    with _empty_app(tmp_path) as app:
        yield app


def _indexes(app: Flask, build: Callable[[], None]) -> dict[str, str]:
    """Every index `build` makes, as the database itself states it (the schema's name left out)."""
    with app.app_context():
        build()
        with db.engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                rows = conn.execute(text("SELECT name, sql FROM sqlite_master"
                                         " WHERE type = 'index' AND sql IS NOT NULL"
                                         " AND tbl_name != 'alembic_version'"))
            else:
                rows = conn.execute(text("SELECT indexname, replace(indexdef, current_schema() || '.', '')"
                                         " FROM pg_indexes WHERE schemaname = current_schema()"
                                         " AND tablename != 'alembic_version'"))
            found = dict(rows.all())
        db.engine.dispose()
    return found


def _scripts() -> ScriptDirectory:
    """The migrations, as Alembic reads them."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config)


def test_single_head() -> None:
    assert len(_scripts().get_heads()) == 1



# SQLite cannot reflect an expression index, so autogenerate skips this one there, saying so;
# test_migrations_build_the_models_indexes_exactly compares it instead.
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index "
                            "ix_comments_site_id_lower_author_email$")
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based index "
                            "'ix_comments_site_id_lower_author_email'")
def test_upgrade_builds_the_models_schema_without_drift(empty_db_app: Flask) -> None:
    with empty_db_app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True,
                                                             "compare_server_default": True})
            diff = compare_metadata(context, db.metadata)
        db.engine.dispose()
    assert diff == []


def test_migrations_build_the_models_indexes_exactly(empty_db_app: Flask, tmp_path: Path) -> None:
    # Autogenerate compares neither an index's WHERE nor, on SQLite, an expression index.
    migrated = _indexes(empty_db_app, upgrade)
    with _empty_app(tmp_path) as models_app:
        modelled = _indexes(models_app, db.create_all)
    assert "ix_comments_waiting" in modelled and "ix_comments_site_id_lower_author_email" in modelled
    assert migrated == modelled


def test_upgrade_keeps_existing_comments(empty_db_app: Flask) -> None:
    with empty_db_app.app_context():
        upgrade(revision="0001")
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO sites (id, slug, name, origins, moderation, settings, created_at)"
                              " VALUES (7, 's', 'S', '[]', 'post', '{}', '2026-01-01')"))
            conn.execute(text("INSERT INTO threads (id, site_id, article_key, comment_count, version,"
                              " created_at) VALUES (3, 7, 'a', 1, 1, '2026-01-01')"))
            conn.execute(text("INSERT INTO comments (id, thread_id, depth, author_name, text, html,"
                              " status, created_at) VALUES (5, 3, 0, 'n', 't', '<p>t</p>', 'approved',"
                              " '2026-01-01')"))
        upgrade()
        with db.engine.connect() as conn:
            row = conn.execute(text("SELECT site_id, featured, reasons FROM comments")).one()
        db.engine.dispose()
    assert row[0] == 7 and not row[1] and row[2] in ("[]", [])


def test_upgrade_gives_queued_webhook_deliveries_their_site_and_webhook(empty_db_app: Flask) -> None:
    with empty_db_app.app_context():
        upgrade(revision="0009")
        with db.engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO outbox (id, kind, payload, created_at, attempts, next_attempt_at) VALUES "
                "(1, 'webhook', '{\"webhook_id\": 4, \"site_id\": 7, \"event\": \"e\"}', '2026-01-01',"
                " 0, '2026-01-01'), (2, 'mail', '{\"to\": \"a@b.example\"}', '2026-01-01', 0,"
                " '2026-01-01')"))
        upgrade()
        with db.engine.connect() as conn:
            rows = conn.execute(text("SELECT id, site_id, webhook_id FROM outbox ORDER BY id")).all()
        db.engine.dispose()
    assert [tuple(r) for r in rows] == [(1, 7, 4), (2, None, None)]


def test_taking_the_article_lock_away_again_keeps_threads_and_comments(empty_db_app: Flask) -> None:
    with empty_db_app.app_context():
        upgrade(revision="0011")
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO sites (id, slug, name, origins, moderation, settings, created_at)"
                              " VALUES (7, 's', 'S', '[]', 'post', '{}', '2026-01-01')"))
            conn.execute(text("INSERT INTO threads (id, site_id, article_key, comment_count, version,"
                              " created_at, meta_locked_at) VALUES (3, 7, 'a', 1, 1, '2026-01-01',"
                              " '2026-01-02')"))
            conn.execute(text("INSERT INTO comments (id, thread_id, site_id, depth, author_name, text,"
                              " html, status, created_at, featured, score, notify_replies, flagged,"
                              " reasons) VALUES (5, 3, 7, 0, 'n', 't', '<p>t</p>', 'approved',"
                              " '2026-01-01', false, 0, false, false, '[]')"))
        downgrade(revision="0010")
        with db.engine.connect() as conn:
            kept = conn.execute(text("SELECT thread_id FROM comments")).scalars().all()
        upgrade()
        db.engine.dispose()
    assert kept == [3]


def test_upgrade_keys_addresses_and_counts_earlier_votes_and_reports_as_before(
        empty_db_app: Flask) -> None:
    with empty_db_app.app_context():
        upgrade(revision="0011")
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO sites (id, slug, name, origins, moderation, settings, created_at)"
                              " VALUES (7, 's', 'S', '[]', 'post', '{}', '2026-01-01')"))
            conn.execute(text("INSERT INTO threads (id, site_id, article_key, comment_count, version,"
                              " created_at) VALUES (3, 7, 'a', 3, 1, '2026-01-01')"))
            for cid, ip in ((5, "'203.0.113.9'"), (6, "'2001:db8:1:2::9'"), (7, "NULL")):
                conn.execute(text(
                    "INSERT INTO comments (id, thread_id, site_id, depth, author_name, text, html,"
                    " status, featured, score, notify_replies, reasons, flagged, created_at, client_ip)"
                    f" VALUES ({cid}, 3, 7, 0, 'n', 't', '<p>t</p>', 'approved', false, 0, false,"
                    f" '[]', false, '2026-01-01', {ip})"))
            conn.execute(text("INSERT INTO votes (id, comment_id, voter_hash, value, created_at)"
                              " VALUES (1, 5, 'v1', 1, '2026-01-01'), (2, 5, 'v2', 1, '2026-01-01')"))
            conn.execute(text("INSERT INTO reports (id, comment_id, reporter_hash, reason, created_at)"
                              " VALUES (1, 5, 'r1', 'x', '2026-01-01')"))
        upgrade()
        with db.engine.connect() as conn:
            nets = conn.execute(text("SELECT id, client_net FROM comments ORDER BY id")).all()
            votes = conn.execute(text("SELECT voter_hash, address_hash FROM votes ORDER BY id")).all()
            reports = conn.execute(text("SELECT address_hash, dismissed_at FROM reports")).all()
        downgrade(revision="0011")
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM votes")).scalar() == 2
        db.engine.dispose()
    assert [tuple(r) for r in nets] == [(5, "203.0.113.9"), (6, "2001:db8:1:2::/64"), (7, None)]
    assert [tuple(r) for r in votes] == [("v1", "v1"), ("v2", "v2")]
    assert [tuple(r) for r in reports] == [("r1", None)]


def _filled_at(revision: str) -> Snapshot:
    """Build the database up to `revision` and fill it with rows of that time; its rows."""
    upgrade(revision=revision)
    with db.engine.begin() as conn:
        fill(conn)
    return snapshot(db.engine)


def _current_revision() -> str | None:
    """The revision the database is at (None: no migration applied)."""
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


# From the previous release's head (PREVIOUS_HEAD) and from every revision before it. SQLite
# rebuilds a table to alter it, and with foreign keys enforced dropping the old copy deleted or
# orphaned every row that refers to it (votes, reports, replies, a site's threads).
@pytest.mark.parametrize("revision", [script.revision for script in
                                      _scripts().walk_revisions("base", PREVIOUS_HEAD)])
def test_an_upgrade_to_the_head_keeps_every_row(empty_db_app: Flask, revision: str) -> None:
    with empty_db_app.app_context():
        before = _filled_at(revision)
        upgrade()
        after = snapshot(db.engine)
        db.engine.dispose()
    assert before.keys() <= after.keys()
    assert lost(before, after) == []


def test_every_migration_downgrades_one_step_at_a_time_keeping_the_rows_it_can(
        empty_db_app: Flask) -> None:
    """From the head down to nothing: each step runs, the rows of the tables that remain stay,
    and at the previous release's head the database is as that release left it."""
    problems: list[str] = []
    with empty_db_app.app_context():
        before = _filled_at(PREVIOUS_HEAD)
        upgrade()
        while True:
            revision, now = _current_revision(), snapshot(db.engine)
            problems += [f"at {revision}: {problem}" for problem in lost(before, now)]
            if revision == PREVIOUS_HEAD and columns(now) != columns(before):
                problems.append(f"at {revision}: the tables are {columns(now)}")
            if revision is None:
                break
            downgrade(revision="-1")
        db.engine.dispose()
    assert problems == []
    assert now == {}


def test_the_previous_release_keeps_writing_to_the_upgraded_schema(empty_db_app: Flask) -> None:
    """`db upgrade` runs while the previous release still serves: its inserts, which name only the
    columns it knew, must still succeed against the new head (no new required column)."""
    with empty_db_app.app_context():
        upgrade(revision=PREVIOUS_HEAD)
        with db.engine.connect() as conn:
            known = schema_columns(conn)
        upgrade()
        with db.engine.begin() as conn:
            fill(conn, written=known)
        rows = snapshot(db.engine)
        db.engine.dispose()
    assert {table for table, by_key in rows.items() if by_key} >= set(known) - {"alembic_version"}
