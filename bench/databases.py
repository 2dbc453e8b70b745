"""Where the benchmark's data lives: databases and schemas, the migrations, the seed's manifest."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Manifest:
    """What was seeded, for the benchmark to address: site, hot articles, front page, moderator."""

    version: int
    backend: str
    threads: int
    comments: int
    pending: int
    site: str
    origin: str
    hot: dict[str, str]
    front_page: list[str]
    moderator: str
    password: str
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


def backend(url: str) -> str:
    """The backend's name: postgresql or sqlite."""
    return make_url(url).get_backend_name()


def schema_url(base: str, schema: str) -> str:
    """A PostgreSQL URL whose connections work in `schema` (tests never see it)."""
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}"


def _pg_base(url: str) -> tuple[str, str]:
    """The URL without its query, and the schema its search_path names."""
    parts = urlsplit(url)
    schema = "public"
    for item in parts.query.split("&"):
        if item.startswith("options=-csearch_path%3D"):
            schema = item.split("%3D", 1)[1]
    return urlunsplit(parts._replace(query="")), schema


def reset(url: str) -> None:
    """An empty database (PostgreSQL: the database exists and the schema is new)."""
    if backend(url) == "sqlite":
        path = Path(make_url(url).database or "")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        return
    base, schema = _pg_base(url)
    ensure_pg_database(base)
    engine = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    finally:
        engine.dispose()


def ensure_pg_database(base: str) -> None:
    """Create the benchmark's own PostgreSQL database when it is missing."""
    url = make_url(base)
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            found = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                {"n": url.database})
            if not found:
                conn.execute(text(f'CREATE DATABASE "{url.database}"'))
    finally:
        admin.dispose()


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without the app's own settings, plus `extra`."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("COMMENTS_") and k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(extra)
    return env


def migrate(url: str) -> None:
    """`flask --app wsgi db upgrade` against `url`: the schema exactly as the migrations make it."""
    flask = Path(sys.executable).with_name("flask")
    subprocess.run([str(flask), "--app", "wsgi", "db", "upgrade"], cwd=ROOT, check=True,
                   env=clean_env(DATABASE_URL=url, COMMENTS_SECRET_KEY="bench-migrate",
                                 COMMENTS_LOG_LEVEL='"WARNING"'),
                   stdout=subprocess.DEVNULL, timeout=300)


def read_manifest(url: str) -> Manifest | None:
    """The manifest stored with a seeded database, if there is one."""
    if backend(url) == "sqlite" and not Path(make_url(url).database or "").exists():
        return None
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            body = conn.scalar(text("SELECT body FROM bench_manifest"))
        return Manifest(**json.loads(body)) if body else None
    except Exception:  # no such table (or database): not seeded
        return None
    finally:
        engine.dispose()


def store_manifest(conn: Connection, manifest: Manifest) -> None:
    conn.execute(text("CREATE TABLE IF NOT EXISTS bench_manifest (body TEXT NOT NULL)"))
    conn.execute(text("DELETE FROM bench_manifest"))
    conn.execute(text("INSERT INTO bench_manifest (body) VALUES (:b)"),
                 {"b": json.dumps(asdict(manifest))})


def set_origins(url: str, site: str, origins: list[str]) -> None:
    """The origins the benchmark's site accepts (the widget test adds its page's)."""
    from comments.models import Site

    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(Site.__table__.update().where(Site.__table__.c.slug == site)
                         .values(origins=origins))
    finally:
        engine.dispose()
