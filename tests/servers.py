"""Real servers for tests: a database built by the migrations, and gunicorn on a free local port."""
from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import create_engine, text

from comments import create_app
from comments.extensions import db

from .conftest import POSTGRES_URL, USE_POSTGRES

ROOT = Path(__file__).resolve().parent.parent
# Settings read without the COMMENTS_ prefix (by the app or by gunicorn.conf.py).
UNPREFIXED = ("DATABASE_URL", "REDIS_URL", "PROMETHEUS_MULTIPROC_DIR")
# Every wait on a server is bounded by this many seconds: a broken start fails, it does not hang.
START_TIMEOUT = 30.0
LISTENING = re.compile(r"Listening at: http://([\d.]+):(\d+)")
# The access log names the worker (its pid) that served each request, and the request's tag.
TAG = "X-Test-Tag"
ACCESS_FORMAT = '%(p)s "%(r)s" %(s)s %({x-test-tag}i)s'
ACCESS_LINE = re.compile(r'^<(\d+)> "(\S+) (\S+) [^"]*" (\d+) (\S+)$')


def server_env(**settings: str) -> dict[str, str]:
    """This process's environment without any setting of ours, plus `settings`."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("COMMENTS_") and key not in UNPREFIXED}
    env.update(settings)
    return env


@contextmanager
def migrated_database(directory: Path) -> Iterator[Flask]:
    """An app over a new database built by the migrations: a SQLite file, or a PostgreSQL schema.

    The in-process tests empty the public tables between tests; a schema of its own keeps a server's
    rows apart from theirs. Servers get the database from the app's SQLALCHEMY_DATABASE_URI.
    """
    if not USE_POSTGRES:
        with _migrated(f"sqlite:///{directory / 'server.sqlite3'}") as app:
            yield app
        return
    schema = f"server_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL)
    try:
        with admin.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        sep = "&" if "?" in POSTGRES_URL else "?"
        with _migrated(f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}") as app:
            yield app
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        admin.dispose()


@contextmanager
def _migrated(url: str) -> Iterator[Flask]:
    """`flask db upgrade` in this process: the same migrations, without a second interpreter."""
    app = create_app({"TESTING": True, "SECRET_KEY": "migrations", "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
    try:
        yield app
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@dataclass
class Reply:
    """An HTTP answer, read whole."""

    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self) -> Any:
        """The body, parsed as JSON."""
        return json.loads(self.body)


@dataclass
class Server:
    """A running gunicorn: where it listens and what it logged."""

    host: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path
    access_log: Path

    def request(self, method: str, path: str, body: Any = None,
                headers: Mapping[str, str] | None = None, timeout: float = 5.0,
                source: str | None = None) -> Reply:
        """One request on a new connection, from a loopback `source` address if given.

        `timeout` bounds every wait on the socket, so a request that hangs fails the test.
        """
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout,
                                          source_address=(source, 0) if source else None)
        try:
            data = None if body is None else json.dumps(body).encode()
            sent = dict(headers or {})
            if data is not None:
                sent.setdefault("Content-Type", "application/json")
            conn.request(method, path, body=data, headers=sent)
            response = conn.getresponse()
            return Reply(response.status, response.headers, response.read())
        finally:
            conn.close()

    def served(self) -> list[tuple[int, str, str, int, str]]:
        """(worker pid, method, path, status, tag or "-") of each request logged so far."""
        rows = []
        for line in self.access_log.read_text().splitlines():
            if match := ACCESS_LINE.match(line):
                pid, method, path, status, tag = match.groups()
                rows.append((int(pid), method, path, int(status), tag))
        return rows

    def workers_serving(self, tag: str, count: int, timeout: float = 10.0) -> set[int]:
        """The pids of the workers that served the `count` requests sent with header TAG: `tag`.

        Gunicorn logs a request after its answer is sent, so this waits for all of their lines.
        """
        deadline = time.monotonic() + timeout
        while len(rows := [row for row in self.served() if row[4] == tag]) < count:
            if time.monotonic() > deadline:
                raise RuntimeError(f"only {len(rows)} of {count} requests tagged {tag} logged")
            time.sleep(0.05)
        return {row[0] for row in rows}

    def wait_for_workers(self, count: int, path: str = "/", timeout: float = START_TIMEOUT) -> None:
        """Send rounds of concurrent requests until `count` different workers have answered."""
        deadline = time.monotonic() + timeout
        with ThreadPoolExecutor(max_workers=2 * count) as pool:
            while len({pid for pid, *_ in self.served()}) < count:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError(f"not {count} workers answering:\n{self.log.read_text()}")
                list(pool.map(lambda _: self._probe(path), range(2 * count)))

    def _probe(self, path: str) -> int | None:
        """A GET's status, or None when it fails (a worker still booting may be slow to take it)."""
        try:
            return self.request("GET", path).status
        except OSError:
            return None


@contextmanager
def gunicorn(env: Mapping[str, str], directory: Path, workers: int = 2, app: str = "wsgi:app",
             command: Sequence[str] = (sys.executable, "-m", "gunicorn"),
             cwd: Path = ROOT) -> Iterator[Server]:
    """Serve `app` with gunicorn (`command`, from `cwd`); stop it (and every worker) on the way out.

    By default gunicorn runs from the repository and reads its gunicorn.conf.py, as in production
    from a checkout; the command line only adds the address, the number of workers and the logs.
    """
    directory.mkdir(parents=True, exist_ok=True)
    log, access_log = directory / "gunicorn.log", directory / "access.log"
    access_log.touch()
    argv = [*command, app, "--workers", str(workers),
            "--bind", "127.0.0.1:0", "--graceful-timeout", "5", "--no-control-socket",
            "--access-logfile", str(access_log), "--access-logformat", ACCESS_FORMAT]
    with open(log, "wb") as stderr:
        # A session of its own, so that a stuck shutdown can be ended for the whole group.
        process = subprocess.Popen(argv, cwd=cwd, env=dict(env), stdin=subprocess.DEVNULL,
                                   stdout=stderr, stderr=stderr, start_new_session=True)
    try:
        host, port = _listening(process, log)
        server = Server(host, port, process, log, access_log)
        _answering(server)
        yield server
    finally:
        _stop(process)


def _listening(process: subprocess.Popen[bytes], log: Path) -> tuple[str, int]:
    """The address gunicorn bound (port 0 lets the kernel pick a free one, without a race)."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if match := LISTENING.search(log.read_text()):
            return match.group(1), int(match.group(2))
        if process.poll() is not None:
            break
        time.sleep(0.05)
    raise RuntimeError(f"gunicorn did not start listening:\n{log.read_text()}")


def _answering(server: Server) -> None:
    """Wait until a worker answers HTTP at all."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline and server.process.poll() is None:
        try:
            server.request("GET", "/", timeout=1.0)
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"gunicorn did not answer:\n{server.log.read_text()}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, gunicorn's graceful stop (as systemd stops it), or SIGKILL to the group.

    Not SIGQUIT: its quick stop interrupts a worker that has answered but not yet written its
    access-log line, and gunicorn logs that as an error of the request.
    """
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


LOCAL_REDIS = "redis://127.0.0.1:6379/0"


def answering_redis() -> str:
    """The run's REDIS_URL, else the local Redis; it must answer. Outside CI a developer without a
    local Redis gets a skip; in CI (and whenever REDIS_URL is set) a silent Redis fails the test."""
    given = os.environ.get("REDIS_URL")
    url = given or LOCAL_REDIS
    client = redis.Redis.from_url(url, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.ConnectionError:
        if given or os.environ.get("CI"):
            pytest.fail(f"Redis at {url} does not answer")
        pytest.skip(f"no Redis at {LOCAL_REDIS} (CI and REDIS_URL make this a failure)")
    finally:
        client.close()
    return url
