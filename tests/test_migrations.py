"""The migrations build exactly the models' schema, from one head, on SQLite and PostgreSQL."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import create_engine, text

from comments import create_app
from comments.extensions import MIGRATIONS, db

from .conftest import POSTGRES_URL, USE_POSTGRES, schema_url


@pytest.fixture
def empty_db_app(tmp_path: Path) -> Iterator[Flask]:
    """An app over a database with no tables at all (a new PostgreSQL schema, or a new file)."""
    if not USE_POSTGRES:
        yield create_app({"TESTING": True, "SECRET_KEY": "t",
                          "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'm.sqlite3'}"})
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


def test_single_head() -> None:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert len(ScriptDirectory.from_config(config).get_heads()) == 1


def test_upgrade_builds_the_models_schema_without_drift(empty_db_app: Flask) -> None:
    with empty_db_app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True,
                                                             "compare_server_default": True})
            diff = compare_metadata(context, db.metadata)
        db.engine.dispose()
    assert diff == []


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
