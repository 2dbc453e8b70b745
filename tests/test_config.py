"""Settings: defaults, the environment, and the generated secret."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from comments import create_app
from comments.config import Defaults

# The checkout these tests run from.
ROOT = Path(__file__).resolve().parent.parent


def test_environment_reaches_flask_and_extension_settings(monkeypatch: pytest.MonkeyPatch,
                                                          tmp_path: Path) -> None:
    monkeypatch.setenv("COMMENTS_RATELIMIT_ENABLED", "false")
    monkeypatch.setenv("COMMENTS_MAX_TEXT_LENGTH", "500")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'env.sqlite3'}")
    monkeypatch.setenv("COMMENTS_SECRET_KEY", "from-env")
    app = create_app()
    assert app.config["RATELIMIT_ENABLED"] is False
    assert app.config["MAX_TEXT_LENGTH"] == 500
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("env.sqlite3")
    assert app.config["SECRET_KEY"] == "from-env"


def test_postgres_urls_use_psycopg_3(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres://u@db.example/comments")
    app = create_app({"SECRET_KEY": "x"})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db.example/comments"


def test_redis_url_moves_limiter_storage(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    app = create_app({"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/r.db"})
    assert app.config["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/0"


def test_memory_limiter_storage_by_default(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    app = create_app({"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/r.db"})
    assert app.config["RATELIMIT_STORAGE_URI"] == "memory://"


def test_secret_key_is_generated_once_into_instance(tmp_path: Path) -> None:
    from comments.config import _instance_secret

    first = _instance_secret(tmp_path)
    assert len(first) >= 48
    assert _instance_secret(tmp_path) == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_bad_typed_setting_fails_at_start(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="PROXY_COUNT"):
        create_app({"SECRET_KEY": "x", "PROXY_COUNT": "two",
                    "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/r.db"})


def test_default_database_is_sqlite_in_wal_mode(monkeypatch: pytest.MonkeyPatch,
                                                tmp_path: Path) -> None:
    from sqlalchemy import text

    from comments.extensions import db

    monkeypatch.delenv("DATABASE_URL", raising=False)
    app = create_app({"SECRET_KEY": "x"})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == (
        "sqlite:///" + str(Path(app.instance_path) / "comments.sqlite3"))
    wal_app = create_app({"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/w.db"})
    with wal_app.app_context():
        with db.engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 10_000
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        db.engine.dispose()


def test_templates_are_loaded_from_the_top_level_folder(tmp_path: Path) -> None:
    app = create_app({"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/t.db"})
    assert app.jinja_loader.searchpath == [str(ROOT / "templates")]
    with app.test_request_context():
        assert "Not found" in app.jinja_env.get_template("errors/404.html").render()


def test_a_web_worker_loads_no_migration_import_or_token_code(tmp_path: Path) -> None:
    """What gunicorn loads (wsgi.py) leaves Alembic, the importers and PyJWT to the commands and
    requests that use them; the `flask` command line still has `db`."""
    env = {**{k: v for k, v in os.environ.items() if k != "REDIS_URL"},
           "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", "COMMENTS_SECRET_KEY": "k" * 40}
    probe = ("import sys, wsgi; print(sorted(m for m in ('alembic', 'flask_migrate', 'jwt', "
             "'comments.importers', 'redis') if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, check=True,
                            capture_output=True, text=True).stdout.strip()
    assert loaded == "[]"
    commands = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "--help"], cwd=ROOT,
                              env=env, check=True, capture_output=True, text=True).stdout
    assert "Perform database migrations." in commands


def test_gunicorns_settings_import_nothing_of_the_service() -> None:
    """The master reads gunicorn.conf.py; were the app's modules loaded there, the workers that a
    HUP starts after an upgrade would inherit the old code instead of importing the new."""
    probe = ("import runpy, sys; runpy.run_path('gunicorn.conf.py'); "
             "print(sorted(m for m in sys.modules if m.split('.')[0] in ('comments', 'flask')))")
    loaded = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout.strip()
    assert loaded == "[]"


# Settings the README's table names without the COMMENTS_ prefix, and the Defaults key they set.
UNPREFIXED = {"DATABASE_URL": "SQLALCHEMY_DATABASE_URI", "REDIS_URL": "REDIS_URL"}
SETTING_NAME = re.compile(r"`((?:COMMENTS)?_[A-Z0-9_]+|DATABASE_URL|REDIS_URL)`")


def _documented_settings() -> set[str]:
    """The Defaults keys named in the first column of the README's settings table (Operating).

    A cell may group names: `COMMENTS_MAIL_USE_TLS` / `COMMENTS_MAIL_USE_SSL`, or
    `COMMENTS_RATELIMIT_POST`, `_POST_EMAIL`, where `_POST_EMAIL` replaces the first name's last part.
    """
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("\n## Operating\n"):]
    table = section[section.index("\n| setting |"):]
    rows = table[:table.index("\n\n")].splitlines()[3:]
    keys: set[str] = set()
    for row in rows:
        first = row.split("|")[1]
        names = SETTING_NAME.findall(first)
        assert names and not names[0].startswith("_"), row
        for name in names:
            if name.startswith("_"):
                name = names[0].rsplit("_", 1)[0] + name
            keys.add(UNPREFIXED.get(name) or name.removeprefix("COMMENTS_"))
    return keys


def test_the_readme_lists_every_setting_and_only_real_ones() -> None:
    defaults = {key for key in vars(Defaults) if key.isupper()}
    documented = _documented_settings()
    assert sorted(defaults - documented) == [], "settings missing from the README's table"
    assert sorted(documented - defaults) == [], "the README's table names settings that do not exist"
