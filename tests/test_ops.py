"""Operations: the health check, the metrics, and the request log with its id."""
from __future__ import annotations

import json
import logging
import os
import re
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from sqlalchemy import create_engine, text

from comments import __version__, create_app, extensions, health, logs
from comments.extensions import db
from comments.models import Comment, CommentStatus
from comments.services.sites import create_site

from .conftest import USE_POSTGRES, make_app
from .helpers import ORIGIN, comment_payload, post

HEX_ID = re.compile(r"[0-9a-f]{32}")
LOG_FIELDS = {"time", "level", "logger", "message", "request_id", "method", "path", "endpoint",
              "status", "duration_ms", "size", "ip", "user_agent"}
Build = Callable[..., Flask]
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@pytest.fixture
def build(tmp_path: Path, _postgres_schema: None) -> Iterator[Build]:
    """Build apps: over the test database (`make_app`), or over any `url`, built without touching
    it. Redis is left out unless given; every engine is disposed of afterwards."""
    built: list[Flask] = []

    def make(url: str | None = None, **overrides: Any) -> Flask:
        overrides = {"REDIS_URL": None, **overrides}
        if url is None:
            app = make_app(tmp_path, **overrides)
        else:
            app = create_app({"TESTING": True, "SECRET_KEY": "test", "SQLALCHEMY_DATABASE_URI": url,
                              "RATELIMIT_ENABLED": False, **overrides})
        built.append(app)
        return app

    yield make
    for app in built:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port whose connections the kernel completes and nobody ever answers."""
    with socket.create_server(("127.0.0.1", 0), backlog=16) as listener:
        yield listener.getsockname()[1]


def test_healthz_answers_ok(app: Flask, client: FlaskClient) -> None:
    res = client.get("/healthz")
    assert res.status_code == 200
    redis = "ok" if app.config["REDIS_URL"] else "not configured"
    assert res.get_json() == {"status": "ok", "version": __version__, "database": "ok", "redis": redis}
    assert res.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("url", ["postgresql+psycopg://postgres@127.0.0.1:1/none",
                                 "sqlite:////nonexistent-directory/comments.sqlite3"])
def test_healthz_is_503_when_the_database_does_not_answer(build: Build, url: str) -> None:
    res = build(url).test_client().get("/healthz")
    assert res.status_code == 503
    assert res.get_json() == {"status": "error", "version": __version__, "database": "error",
                              "redis": "not configured"}
    assert b"127.0.0.1" not in res.data and b"nonexistent" not in res.data


def test_healthz_is_503_when_a_configured_redis_does_not_answer(build: Build) -> None:
    app = build(REDIS_URL="redis://127.0.0.1:1/0")
    res = app.test_client().get("/healthz")
    assert res.status_code == 503
    assert res.get_json() == {"status": "error", "version": __version__, "database": "ok", "redis": "error"}


def test_healthz_gives_up_on_a_silent_database(build: Build, silent_port: int,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(health, "TIMEOUT", 0.5)
    app = build(f"postgresql+psycopg://postgres@127.0.0.1:{silent_port}/none",
                REDIS_URL=f"redis://127.0.0.1:{silent_port}/0")
    res = app.test_client().get("/healthz")
    assert res.status_code == 503
    assert res.get_json() == {"status": "error", "version": __version__, "database": "timeout",
                              "redis": "timeout"}


def scrape(client: FlaskClient) -> Samples:
    """Every sample of /metrics, parsed as Prometheus would."""
    res = client.get("/metrics")
    assert res.status_code == 200
    assert res.mimetype == "text/plain"
    samples: Samples = {}
    for family in text_string_to_metric_families(res.get_data(as_text=True)):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    """One sample's value; a series not yet observed counts as 0."""
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_count_requests_posts_by_outcome_and_the_queue(build: Build) -> None:
    app = build(SPAM_ENABLED=True)
    with app.app_context():
        create_site("news", "News", [ORIGIN])
        create_site("held", "Held", [ORIGIN], "pre")
    client = app.test_client()
    before = scrape(client)
    created = {"endpoint": "api.create_comment", "method": "POST", "status": "201"}
    # Every outcome is exported from the start, so a rate of 0 is a series, not a gap.
    for outcome in ("approved", "pending", "spam"):
        assert before[("comments_posted_total", (("outcome", outcome),))] == 0
    assert all(post(client, text=f"Approved number {i}").status_code == 201 for i in range(2))
    assert all(post(client, site="held", text=f"Held number {i}").status_code == 201
               for i in range(3))
    spam = post(client, text="Buy now", homepage="http://cheap.example")
    assert spam.get_json()["status"] == "pending"
    after = scrape(client)
    assert value(after, "comments_http_requests_total", **created) == 6
    assert value(after, "comments_http_request_duration_seconds_count",
                 endpoint="api.create_comment", method="POST") == 6
    assert value(after, "comments_http_requests_total", endpoint="ops.metrics", method="GET",
                 status="200") == 1
    # The stored status, not the poster's answer: spam is told "pending" and counted as spam.
    assert value(after, "comments_posted_total", outcome="approved") == 2
    assert value(after, "comments_posted_total", outcome="pending") == 3
    assert value(after, "comments_posted_total", outcome="spam") == 1
    with app.app_context():
        pending = db.session.scalar(db.select(db.func.count(Comment.id))
                                    .where(Comment.status == CommentStatus.PENDING))
    assert value(after, "comments_queue_length") == pending == 3


def test_unmatched_paths_share_one_label(client: FlaskClient) -> None:
    for path in ("/nowhere", "/api/v1/nowhere", "/wp-login.php"):
        client.get(path)
    assert value(scrape(client), "comments_http_requests_total", endpoint="unmatched",
                 method="GET", status="404") == 3


def test_a_failing_queue_count_leaves_the_rest_of_the_scrape(build: Build) -> None:
    client = build("postgresql+psycopg://postgres@127.0.0.1:1/none").test_client()
    client.get("/healthz")
    samples = scrape(client)
    assert not [key for key in samples if key[0] == "comments_queue_length"]
    assert value(samples, "comments_http_requests_total", endpoint="ops.healthz", method="GET",
                 status="503") == 1


@pytest.mark.parametrize(("allow", "address", "status"), [
    (None, "127.0.0.1", 200),
    (None, "::1", 200),
    (None, "10.20.30.40", 200),
    (None, "192.168.1.9", 200),
    (None, "203.0.113.5", 403),
    (None, "2001:db8::1", 403),
    (["203.0.113.0/24"], "203.0.113.5", 200),
    (["203.0.113.0/24"], "127.0.0.1", 403),
    ("198.51.100.7, 127.0.0.1", "198.51.100.7", 200),
    ([], "127.0.0.1", 403),
])
def test_metrics_are_read_only_from_allowed_addresses(build: Build, allow: Any, address: str,
                                                      status: int) -> None:
    settings = {} if allow is None else {"METRICS_ALLOW": allow}
    client = build("sqlite://", **settings).test_client()
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": address}).status_code == status


def test_metrics_judge_the_client_behind_a_trusted_proxy(build: Build) -> None:
    client = build("sqlite://", PROXY_COUNT=1).test_client()
    res = client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.5"},
                     environ_base={"REMOTE_ADDR": "10.0.0.2"})
    assert res.status_code == 403


def test_a_bad_metrics_allow_list_stops_the_start(build: Build) -> None:
    with pytest.raises(RuntimeError, match="METRICS_ALLOW"):
        build("sqlite://", METRICS_ALLOW=["not-a-network"])


def test_every_response_carries_a_request_id(client: FlaskClient) -> None:
    answers = [client.get("/healthz"), client.get("/nowhere"), client.get("/api/v1/nowhere"),
               client.delete("/healthz"), client.post("/api/v1/comments", data="x")]
    ids = [res.headers.get("X-Request-ID", "") for res in answers]
    assert all(HEX_ID.fullmatch(i) for i in ids), ids
    assert len(set(ids)) == len(ids)


def request_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    """The request log so far, each record formatted as the JSON line it becomes."""
    formatter = logs.JsonFormatter()
    return [json.loads(formatter.format(record)) for record in caplog.records
            if record.name == "comments.request"]


def test_the_request_line_has_its_fields_and_no_secrets(app: Flask, client: FlaskClient,
                                                        site: Any,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="comments")
    secrets = {"email": "ada.private@example.org", "text": "My secret opinion on the matter",
               "token": "Bearer sekrit-api-token", "reader": "reader-key-0123456789"}
    res = client.post("/api/v1/comments?email=ada.private@example.org",
                      json=comment_payload(author={"name": "Ada", "email": secrets["email"]},
                                           text=secrets["text"]),
                      headers={"Origin": ORIGIN, "Authorization": secrets["token"],
                               "X-Comments-Reader": secrets["reader"], "User-Agent": "A" * 500},
                      environ_base={"REMOTE_ADDR": "198.51.100.23"})
    assert res.status_code == 201
    [line] = request_lines(caplog)
    assert set(line) == LOG_FIELDS
    assert line["request_id"] == res.headers["X-Request-ID"]
    assert (line["method"], line["path"], line["endpoint"], line["status"]) == \
        ("POST", "/api/v1/comments", "api.create_comment", 201)
    assert line["ip"] == "198.51.100.23"
    assert line["level"] == "info" and line["logger"] == "comments.request"
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert line["user_agent"] == "A" * logs.USER_AGENT_MAX
    raw = json.dumps(line)
    for secret in ("ada.private", "secret opinion", "sekrit", secrets["reader"], "edit_token"):
        assert secret not in raw


def test_secret_route_arguments_are_logged_as_the_pattern(build: Build,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="comments")
    app = build("sqlite://")
    app.add_url_rule("/probe/<token>", "probe", lambda token: "ok")
    app.test_client().get("/probe/signed.link-value")
    [line] = request_lines(caplog)
    assert line["path"] == "/probe/<token>"
    assert "signed.link-value" not in json.dumps(line)


@pytest.mark.parametrize(("trusted", "given", "kept"), [
    (False, "proxy-id-1", False),
    (True, "proxy-id-1", True),
    (True, "a.b_c-D.9", True),
    (True, "has spaces", False),
    (True, "x" * 65, False),
    (True, "<script>", False),
    (True, "", False),
])
def test_an_incoming_request_id_is_kept_only_when_trusted_and_well_formed(
        build: Build, caplog: pytest.LogCaptureFixture, trusted: bool, given: str,
        kept: bool) -> None:
    caplog.set_level(logging.INFO, logger="comments")
    app = build("sqlite://", TRUST_REQUEST_ID=trusted)
    res = app.test_client().get("/healthz", headers={"X-Request-ID": given})
    sent = res.headers["X-Request-ID"]
    assert (sent == given) is kept
    assert kept or HEX_ID.fullmatch(sent)
    assert request_lines(caplog)[-1]["request_id"] == sent


def test_an_error_is_logged_with_the_request_id(build: Build,
                                                caplog: pytest.LogCaptureFixture) -> None:
    app = build("sqlite://", PROPAGATE_EXCEPTIONS=False)

    def boom() -> str:
        raise RuntimeError("boom")

    app.add_url_rule("/boom", "boom", boom)
    res = app.test_client().get("/boom")
    assert res.status_code == 500
    [error] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert error.request_id == res.headers["X-Request-ID"]
    line = json.loads(logs.JsonFormatter().format(error))
    assert line["request_id"] == res.headers["X-Request-ID"]
    assert "RuntimeError: boom" in line["exception"]
    assert request_lines(caplog)[-1]["status"] == 500


@pytest.mark.parametrize("as_json", [True, False])
def test_logging_goes_to_stderr_when_nothing_else_is_set_up(
        build: Build, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        as_json: bool) -> None:
    # As under gunicorn: no handler anywhere (pytest's own are set aside for this test).
    monkeypatch.setattr(logging.getLogger(), "handlers", [])
    app = build("sqlite://", LOG_JSON=as_json)
    res = app.test_client().get("/healthz")
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    request_id = res.headers["X-Request-ID"]
    if as_json:
        line = json.loads(err[0])
        assert line["request_id"] == request_id and line["path"] == "/healthz"
    else:
        assert "GET /healthz 200" in err[0] and f'request_id="{request_id}"' in err[0]


def test_a_plain_log_line_cannot_be_forged_through_the_path(
        build: Build, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(logging.getLogger(), "handlers", [])
    app = build("sqlite://", LOG_JSON=False)
    forged = "2026-05-04 09:12:01,532 INFO comments.request POST /mod/login 200"
    path = "/x%0D%0A" + forged.replace(" ", "%20") + "%1B[2J%7F%C2%85%E2%80%A8"
    res = app.test_client().get(path)
    assert res.status_code == 404
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "\r" not in err, err
    assert err.startswith(tuple("0123456789")) and "GET /x\\r\\n2026-05-04" in err
    assert "\\x1b[2J\\x7f\\x85\\u2028 404" in err
    assert f'request_id="{res.headers["X-Request-ID"]}"' in err


def test_a_plain_traceback_cannot_forge_a_line(build: Build, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(logging.getLogger(), "handlers", [])
    app = build("sqlite://", LOG_JSON=False, PROPAGATE_EXCEPTIONS=False)

    def boom() -> str:
        raise RuntimeError("bad input:\n2026-05-04 09:12:01,532 INFO comments.request forged")

    app.add_url_rule("/boom", "boom", boom)
    assert app.test_client().get("/boom").status_code == 500
    lines = capsys.readouterr().err.splitlines()
    starts = [line for line in lines if not line.startswith(" ")]
    assert len(starts) == 2, lines
    assert "ERROR" in starts[0] and "GET /boom 500" in starts[1]
    assert any("RuntimeError: bad input:" in line for line in lines)


def test_an_operators_logging_is_left_alone(build: Build, monkeypatch: pytest.MonkeyPatch) -> None:
    handler, ours = logging.NullHandler(), logging.getLogger("comments")
    monkeypatch.setattr(logging.getLogger(), "handlers", [handler])
    level = ours.level
    try:
        build("sqlite://", LOG_LEVEL="WARNING")
        assert logging.getLogger().handlers == [handler]
        assert ours.level == logging.WARNING
    finally:
        ours.setLevel(level)


@pytest.mark.parametrize(("key", "bad"), [("LOG_LEVEL", "LOUD"), ("LOG_JSON", "yes"),
                                          ("TRUST_REQUEST_ID", 1)])
def test_bad_log_settings_stop_the_start(build: Build, key: str, bad: Any) -> None:
    with pytest.raises(RuntimeError, match=key):
        build("sqlite://", **{key: bad})


@pytest.mark.skipif(not USE_POSTGRES, reason="only a database server drops a pooled connection")
def test_a_connection_the_server_dropped_while_idle_is_replaced(
        build: Build, monkeypatch: pytest.MonkeyPatch) -> None:
    """A database restart (or an idle timeout) closes pooled connections under the app: the next
    request after an idle spell gets a fresh one instead of an error."""
    app = build(SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"application_name": "idle-drop-test"}})
    with app.app_context():
        create_site("news", "News Example", [ORIGIN])
    client = app.test_client()
    read = lambda: client.get("/api/v1/counts?site=news&article=a")  # noqa: E731
    assert read().status_code == 200
    outside = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    with outside.connect() as other:
        killed = other.execute(text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE application_name = 'idle-drop-test'")).scalar()
    outside.dispose()
    assert killed >= 1
    monkeypatch.setattr(extensions, "PING_AFTER_IDLE_SECONDS", 0.0)
    for _ in range(3):
        assert read().status_code == 200


@pytest.mark.parametrize("exists", [False, True], ids=["missing", "empty"])
def test_cli_commands_neither_need_nor_write_the_metrics_directory(tmp_path: Path,
                                                                   exists: bool) -> None:
    """PROMETHEUS_MULTIPROC_DIR exported for gunicorn must not break or litter `flask db upgrade`."""
    metrics_dir = tmp_path / "prometheus"
    if exists:
        metrics_dir.mkdir()
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": str(root), "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
           "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}"}
    for command in (["db", "upgrade"], ["comments", "settings"]):
        done = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *command], cwd=root,
                              env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
    assert metrics_dir.exists() == exists
    if exists:
        assert list(metrics_dir.iterdir()) == []
