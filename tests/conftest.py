"""Shared fixtures: a fresh app over a real database per test (SQLite file, or PostgreSQL)."""
from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import create_engine, text

from comments import create_app
from comments.extensions import db
from comments.models import Site
from comments.services.sites import create_site

POSTGRES_URL = os.environ.get("DATABASE_URL", "")
USE_POSTGRES = POSTGRES_URL.startswith("postgres")
# Each run gets a schema of its own, so two runs against one database never meet.
RUN_SCHEMA = f"test_run_{os.getpid()}"


def schema_url(url: str, schema: str) -> str:
    """`url` with every connection's search_path set to `schema`."""
    return f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"


@pytest.fixture(scope="session")
def _postgres_schema() -> Iterator[None]:
    """On PostgreSQL, build the schema once per run; tests then empty the tables."""
    if not USE_POSTGRES:
        yield
        return
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {RUN_SCHEMA} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {RUN_SCHEMA}"))
    app = create_app({"TESTING": True, "SECRET_KEY": "test",
                      "SQLALCHEMY_DATABASE_URI": schema_url(POSTGRES_URL, RUN_SCHEMA)})
    with app.app_context():
        db.create_all()
        db.engine.dispose()
    try:
        yield
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {RUN_SCHEMA} CASCADE"))
        admin.dispose()


def database_url(tmp_path: Path) -> str:
    """The database a test runs on: PostgreSQL when DATABASE_URL says so, else a new SQLite file."""
    if USE_POSTGRES:
        return schema_url(POSTGRES_URL, RUN_SCHEMA)
    return f"sqlite:///{tmp_path / 'comments.sqlite3'}"


def make_app(tmp_path: Path, **overrides: Any) -> Flask:
    """A new app over an empty schema; rate limits and the spam filter are off unless a test
    turns them on (they have tests of their own, and would otherwise hold repeated test posts)."""
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": database_url(tmp_path),
        "RATELIMIT_ENABLED": False,
        "SPAM_ENABLED": False,
        **overrides,
    }
    app = create_app(config)
    with app.app_context():
        if USE_POSTGRES:
            tables = ", ".join(t.name for t in db.metadata.sorted_tables)
            db.session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            db.session.commit()
        else:
            db.create_all()
    return app


@pytest.fixture
def app(tmp_path: Path, _postgres_schema: None) -> Iterator[Flask]:
    """A fresh app with an empty database."""
    app = make_app(tmp_path)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def site(app: Flask) -> Site:
    """The site `news`, embeddable from https://news.example."""
    with app.app_context():
        site = create_site("news", "News Example", ["https://news.example"])
        db.session.expunge(site)
        return site
