"""The operator commands, through Flask's CLI runner."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import create_engine, text

from comments.extensions import db
from comments.models import Moderation, Site


def test_create_site_with_origins(app: Flask, runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["comments", "create-site", "daily", "--name", "The Daily",
                                 "--origin", "https://Daily.example:443/news",
                                 "--origin", "http://localhost:8080"])
    assert result.exit_code == 0, result.output
    assert "Created site 'daily'" in result.output
    with app.app_context():
        site = db.session.scalar(db.select(Site).filter_by(slug="daily"))
        assert site.name == "The Daily"
        assert site.origins == ["https://daily.example", "http://localhost:8080"]
        assert site.moderation is Moderation.POST


def test_create_site_refuses_duplicates_and_bad_input(app: Flask, runner: FlaskCliRunner) -> None:
    args = ["comments", "create-site", "daily", "--name", "Daily", "--origin", "https://d.example"]
    assert runner.invoke(args=args).exit_code == 0
    again = runner.invoke(args=args)
    assert again.exit_code == 1 and "exists already" in again.output
    quiet = runner.invoke(args=[*args, "--if-absent"])
    assert quiet.exit_code == 0 and "exists already" in quiet.output
    bad_origin = runner.invoke(args=["comments", "create-site", "x", "--name", "X",
                                     "--origin", "javascript:alert(1)"])
    assert bad_origin.exit_code == 1 and "origin" in bad_origin.output
    bad_slug = runner.invoke(args=["comments", "create-site", "Not A Slug", "--name", "X",
                                   "--origin", "https://x.example"])
    assert bad_slug.exit_code == 1 and "slug" in bad_slug.output
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Site.id))) == 1


def test_create_moderator_prompts_for_the_password(app: Flask, runner: FlaskCliRunner) -> None:
    from comments.models import Moderator
    from comments.services.accounts import authenticate

    runner.invoke(args=["comments", "create-site", "daily", "--name", "D", "--origin", "https://d.example"])
    result = runner.invoke(args=["comments", "create-moderator", "Mod@Example.org", "--site", "daily"],
                           input="a long enough password\na long enough password\n")
    assert result.exit_code == 0, result.output
    assert "Created moderator mod@example.org for daily" in result.output
    admin = runner.invoke(args=["comments", "create-moderator", "boss@example.org", "--role", "admin",
                                "--password", "another long password"])
    assert admin.exit_code == 0 and "for every site" in admin.output
    with app.app_context():
        assert authenticate("mod@example.org", "a long enough password") is not None
        assert db.session.scalar(db.select(db.func.count(Moderator.id))) == 2


def test_create_moderator_refusals(app: Flask, runner: FlaskCliRunner) -> None:
    from comments.models import Moderator

    cases = [
        (["--password", "long enough password"], "at least one --site"),
        (["--site", "nope", "--password", "long enough password"], "No site named nope"),
        (["--role", "admin", "--password", "short"], "at least 10 characters"),
    ]
    for extra, message in cases:
        result = runner.invoke(args=["comments", "create-moderator", "m@example.org", *extra])
        assert result.exit_code != 0 and message in result.output, result.output
    runner.invoke(args=["comments", "create-moderator", "m@example.org", "--role", "admin",
                        "--password", "long enough password"])
    again = runner.invoke(args=["comments", "create-moderator", "m@example.org", "--role", "admin",
                                "--password", "long enough password"])
    assert again.exit_code == 1 and "exists already" in again.output
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Moderator.id))) == 1


def test_set_site_changes_moderation_and_logs_it(app: Flask, runner: FlaskCliRunner) -> None:
    from comments.models import AuditEntry

    runner.invoke(args=["comments", "create-site", "daily", "--name", "D", "--origin", "https://d.example"])
    result = runner.invoke(args=["comments", "set-site", "daily", "--moderation", "pre"])
    assert result.exit_code == 0 and "moderation pre" in result.output
    bad = runner.invoke(args=["comments", "set-site", "nope", "--moderation", "pre"])
    assert bad.exit_code == 1 and "No site" in bad.output
    with app.app_context():
        assert db.session.scalar(db.select(Site.moderation)) is Moderation.PRE
        entry = db.session.scalars(db.select(AuditEntry).order_by(AuditEntry.id.desc())).first()
        assert entry.action == "site_update" and entry.detail == {"moderation": ["post", "pre"]}


def test_set_password_prompts_hidden_twice_and_ends_the_accounts_sessions(
        app: Flask, runner: FlaskCliRunner) -> None:
    from comments.services.accounts import authenticate

    from .modhelpers import PASSWORD, login, setup_sites

    setup_sites(app)
    client, _ = login(app, "newsmod@example.org")
    bystander, _ = login(app, "blogmod@example.org")
    new = "a reset passphrase"
    refused = [
        (["NewsMod@example.org"], "too short\ntoo short\n", "at least 10 characters"),
        (["newsmod@example.org"], f"{new}\n{new}x\n", "do not match"),
        (["nobody@example.org"], f"{new}\n{new}\n", "No account for nobody@example.org"),
        (["newsmod@example.org", "--password", new], "", "No such option"),
    ]
    for args, given, message in refused:
        result = runner.invoke(args=["comments", "set-password", *args], input=given)
        assert result.exit_code != 0 and message in result.output, result.output
        assert new not in result.output.replace(f"--password {new}", "")
    assert client.get("/mod/queue").status_code == 200
    result = runner.invoke(args=["comments", "set-password", "NewsMod@example.org"],
                           input=f"{new}\n{new}\n")
    assert result.exit_code == 0, result.output
    assert new not in result.output and "newsmod@example.org" in result.output
    assert client.get("/mod/queue").status_code == 302
    assert bystander.get("/mod/queue").status_code == 200
    with app.app_context():
        assert authenticate("newsmod@example.org", PASSWORD) is None
        assert authenticate("newsmod@example.org", new) is not None


def test_set_site_adds_and_removes_origins_keeping_the_others(app: Flask,
                                                               runner: FlaskCliRunner) -> None:
    from comments.models import AuditEntry

    runner.invoke(args=["comments", "create-site", "daily", "--name", "D",
                        "--origin", "https://d.example", "--origin", "https://www.d.example"])
    added = runner.invoke(args=["comments", "set-site", "daily", "--add-origin", "http://localhost:5071",
                                "--add-origin", "https://D.example:443"])
    assert added.exit_code == 0, added.output
    assert "https://d.example, https://www.d.example, http://localhost:5071" in added.output
    removed = runner.invoke(args=["comments", "set-site", "daily", "--remove-origin", "https://www.d.example"])
    assert removed.exit_code == 0, removed.output
    assert "origins https://d.example, http://localhost:5071." in removed.output
    with app.app_context():
        assert db.session.scalar(db.select(Site.origins)) == ["https://d.example", "http://localhost:5071"]
        entry = db.session.scalars(db.select(AuditEntry).order_by(AuditEntry.id.desc())).first()
        assert entry.action == "site_update"
        assert entry.detail == {"origins": [
            ["https://d.example", "https://www.d.example", "http://localhost:5071"],
            ["https://d.example", "http://localhost:5071"]]}


def test_set_site_refuses_bad_origin_edits_and_changes_nothing(app: Flask,
                                                               runner: FlaskCliRunner) -> None:
    runner.invoke(args=["comments", "create-site", "daily", "--name", "D", "--origin", "https://d.example"])
    cases = [
        (["--add-origin", "javascript:alert(1)"], "not an http(s) origin"),
        (["--add-origin", "https://new.example", "--remove-origin", "https://gone.example"],
         "https://gone.example is not an origin of site 'daily'"),
        (["--origin", "https://x.example", "--add-origin", "https://y.example"], "--origin"),
    ]
    for extra, message in cases:
        result = runner.invoke(args=["comments", "set-site", "daily", "--name", "Renamed", *extra])
        assert result.exit_code != 0 and message in result.output, result.output
    with app.app_context():
        site = db.session.scalar(db.select(Site))
        assert site.origins == ["https://d.example"] and site.name == "D"


def test_make_run_on_another_port_lets_the_demo_site_accept_it(tmp_path: Path) -> None:
    """`make run PORT=…` after a first `make run`: the demo site gains the new port's origins."""
    root = Path(__file__).resolve().parent.parent
    venv = Path(sys.executable).parent.parent
    env = {**os.environ, "PYTHONPATH": str(root),
           "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}"}
    for port in ("5000", "5071"):
        # -o: the virtualenv is taken as installed (the test runs in it), never reinstalled here.
        done = subprocess.run(["make", "-s", "-C", str(root), f"VENV={venv}", f"PORT={port}",
                               "-o", f"{venv}/.installed", "demo-site"],
                              env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
    engine = create_engine(env["DATABASE_URL"])
    try:
        with engine.connect() as conn:
            origins = json.loads(conn.scalar(text("SELECT origins FROM sites WHERE slug = 'demo'")))
    finally:
        engine.dispose()
    assert origins == ["http://127.0.0.1:5000", "http://localhost:5000",
                       "http://127.0.0.1:5071", "http://localhost:5071"]
