"""Nothing lost: concurrent posters on gunicorn, then the same load through SIGKILLs of the server.

Every comment that got a 201 must be in the database exactly once, in its thread, under its
parent. `make test` runs a short load; `make torture` sets TORTURE=long for the issue's numbers
(32 posters, 4 workers, 60 seconds) and TORTURE_REPORT to a JSON file that
bench/torture_report.py turns into docs/benchmarks.md's "Torture results".
"""
from __future__ import annotations

import http.client
import json
import os
import random
import signal
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import text
from sqlalchemy.orm import aliased

from comments import sanitize
from comments.extensions import db
from comments.models import Comment, CommentStatus, Thread
from comments.services.sites import create_site

from .conftest import USE_POSTGRES
from .servers import Server, gunicorn, migrated_database, server_env

LONG = os.environ.get("TORTURE") == "long"
POSTERS, WORKERS, SECONDS = (32, 4, 60.0) if LONG else (8, 2, 8.0)
ARTICLES = [f"torture-{n}" for n in range(4)]
# The crash test kills the server this many times, evenly spread over the load, and restarts it.
KILLS = 2
REPLY_SHARE = 0.5
SECRET = f"torture-{uuid.uuid4().hex}"
DATABASE = "postgresql" if USE_POSTGRES else "sqlite"


@dataclass(frozen=True)
class Accepted:
    """A post the server answered 201 for."""

    nonce: str
    article: str
    parent_id: int | None
    comment_id: int
    seconds: float


@dataclass
class Outcome:
    """What the posters saw: accepted posts, refusals, failures, and connection errors."""

    accepted: list[Accepted] = field(default_factory=list)
    refused: list[tuple[int, bytes]] = field(default_factory=list)
    errors: list[tuple[float, float, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass
class Target:
    """The server the posters talk to; the crash test swaps it for each restart."""

    server: Server


def poster(target: Target, outcome: Outcome, stop: threading.Event, seed: int) -> None:
    """Post new comments and replies to own accepted ones until stopped, recording each answer."""
    rng = random.Random(seed)
    mine: list[Accepted] = []
    while not stop.is_set():
        server = target.server
        parent = rng.choice(mine) if mine and rng.random() < REPLY_SHARE else None
        article = parent.article if parent else rng.choice(ARTICLES)
        nonce = uuid.uuid4().hex
        body = {"site": "load", "article": article, "author": {"name": f"Poster {seed}"},
                "text": f"nonce {nonce} from poster {seed}",
                "parent_id": parent.comment_id if parent else None}
        started = time.monotonic()
        try:
            reply = server.request("POST", "/api/v1/comments", body, timeout=15.0)
        except (OSError, http.client.HTTPException) as e:
            with outcome.lock:
                outcome.errors.append((started, time.monotonic(), f"{type(e).__name__}: {e}"))
            time.sleep(0.05)
            continue
        ended = time.monotonic()
        if reply.status != 201:
            with outcome.lock:
                outcome.refused.append((reply.status, reply.body[:300]))
            continue
        comment = reply.json()["comment"]
        accepted = Accepted(nonce, article, body["parent_id"], comment["id"], ended - started)
        if comment["parent_id"] != body["parent_id"]:
            with outcome.lock:
                outcome.refused.append((reply.status, reply.body[:300]))
        mine.append(accepted)
        with outcome.lock:
            outcome.accepted.append(accepted)


class Posters:
    """POSTERS posting threads, from start() to stop()."""

    def __init__(self, target: Target, outcome: Outcome) -> None:
        self.halt = threading.Event()
        self.threads = [threading.Thread(target=poster, args=(target, outcome, self.halt, n),
                                         daemon=True) for n in range(POSTERS)]

    def start(self) -> None:
        """Let them post."""
        for thread in self.threads:
            thread.start()

    def stop(self) -> None:
        """Let each finish the request it is on, and wait for them all."""
        self.halt.set()
        for thread in self.threads:
            thread.join(30)
        assert not any(thread.is_alive() for thread in self.threads), "a poster hangs"


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Flask]:
    """A database built by the migrations with the site `load`, post-moderated."""
    with migrated_database(tmp_path) as app:
        with app.app_context():
            create_site("load", "Load", ["http://127.0.0.1"], moderation="post")
        yield app


def environment(app: Flask) -> dict[str, str]:
    """The servers' settings: no rate limits and no spam filter, warnings and errors logged."""
    return server_env(DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"], COMMENTS_SECRET_KEY=SECRET,
                      COMMENTS_RATELIMIT_ENABLED="false", COMMENTS_SPAM_ENABLED="false",
                      COMMENTS_MAIL_BACKGROUND="false", COMMENTS_LOG_LEVEL="WARNING")


def stored(app: Flask) -> dict[str, list[tuple[int, int | None, str, int | None]]]:
    """Every stored comment by its nonce: (id, parent id, article, parent's thread id)."""
    with app.app_context():
        parent = aliased(Comment)
        rows = db.session.execute(
            db.select(Comment.id, Comment.parent_id, Comment.text, Thread.article_key,
                      parent.thread_id, Comment.thread_id, Comment.status, Comment.html)
            .join(Thread, Comment.thread_id == Thread.id)
            .outerjoin(parent, Comment.parent_id == parent.id)).all()
        db.session.remove()
    found: dict[str, list[tuple[int, int | None, str, int | None]]] = {}
    for cid, parent_id, body, article, parent_thread, thread_id, status, html in rows:
        assert status is CommentStatus.APPROVED, (cid, status)
        assert html == sanitize.render(body), f"{cid}'s HTML is not its own text's: {html!r}"
        assert parent_id is None or parent_thread == thread_id, f"{cid}'s parent is in another thread"
        found.setdefault(body.split()[1], []).append((cid, parent_id, article, parent_thread))
    return found


def assert_nothing_lost(app: Flask, outcome: Outcome, exact: bool) -> int:
    """Each accepted nonce is stored once, as answered, in its thread and under its parent; the
    threads' counts agree with their rows. `exact`: no row without a 201. Returns the extra rows."""
    found = stored(app)
    for post in outcome.accepted:
        rows = found.get(post.nonce, [])
        assert len(rows) == 1, f"{post} stored {len(rows)} times"
        cid, parent_id, article, _ = rows[0]
        assert (cid, parent_id, article) == (post.comment_id, post.parent_id, post.article), post
    extra = sum(len(rows) for rows in found.values()) - len(outcome.accepted)
    if exact:
        assert extra == 0, f"{extra} rows that no poster was answered 201 for"
    with app.app_context():
        counts = db.session.execute(db.select(Thread.article_key, Thread.comment_count)).all()
        actual = dict(db.session.execute(
            db.select(Thread.article_key, db.func.count(Comment.id))
            .join(Comment, Comment.thread_id == Thread.id).group_by(Thread.article_key)).all())
        db.session.remove()
    assert dict(counts) == actual, "a thread's comment_count disagrees with its rows"
    return extra


def assert_server_healthy(server_logs: list[Path], outcome: Outcome) -> None:
    """No answer of 500 or above, no other refusal, no "database is locked" in any server log."""
    assert not [r for r in outcome.refused if r[0] >= 500], outcome.refused[:5]
    assert not outcome.refused, outcome.refused[:5]
    for log in server_logs:
        logged = log.read_text(errors="replace")
        assert "database is locked" not in logged, log
        assert "Traceback" not in logged and '"level": "error"' not in logged, logged[-3000:]


def summary(outcome: Outcome, seconds: float, **extra: Any) -> dict[str, Any]:
    """The run's numbers, as docs/benchmarks.md reports them."""
    latencies = sorted(a.seconds for a in outcome.accepted) or [0.0]
    return {
        "database": DATABASE, "posters": POSTERS, "workers": WORKERS, "seconds": seconds,
        "accepted": len(outcome.accepted),
        "replies": sum(1 for a in outcome.accepted if a.parent_id is not None),
        "per_second": round(len(outcome.accepted) / seconds, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "p95_ms": round(latencies[int(0.95 * (len(latencies) - 1))] * 1000, 1),
        "server_errors": sum(1 for r in outcome.refused if r[0] >= 500),
        "connection_errors": len(outcome.errors), "load_average": round(os.getloadavg()[0], 1),
        **extra,
    }


def report(name: str, result: dict[str, Any]) -> None:
    """Add a run's numbers to the TORTURE_REPORT file, when `make torture` names one."""
    path = os.environ.get("TORTURE_REPORT")
    if not path:
        return
    results = json.loads(Path(path).read_text()) if Path(path).exists() else {}
    results[f"{name}/{DATABASE}"] = result
    Path(path).write_text(json.dumps(results, indent=2))


def test_threads_rendering_at_once_each_get_their_own_html() -> None:
    texts = [f"{n}: *a* **b** `c` [d](https://d{n}.example/)\n\n> e {n}\n\n- f\n- g {n} "
             f"https://h{n}.example/i\n\n" * 3 for n in range(16)]
    expected = [sanitize.render(text) for text in texts]
    wrong: list[str] = []

    def render(offset: int) -> None:
        for n in range(100):
            index = (offset + n) % len(texts)
            try:
                if sanitize.render(texts[index]) != expected[index]:
                    wrong.append(f"text {index} rendered as another's")
            except Exception as e:  # noqa: BLE001 - any failure is the finding
                wrong.append(f"text {index}: {type(e).__name__}")

    # Switch threads as often as the interpreter can, as a loaded gthread worker may.
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=render, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    finally:
        sys.setswitchinterval(interval)
    assert not wrong, f"{len(wrong)} of 800 renders went wrong, e.g. {wrong[:3]}"


@pytest.mark.torture
def test_concurrent_posters_lose_nothing(database: Flask, tmp_path: Path) -> None:
    outcome = Outcome()
    with gunicorn(environment(database), tmp_path / "server", workers=WORKERS) as server:
        server.wait_for_workers(WORKERS)
        posters = Posters(Target(server), outcome)
        started = time.monotonic()
        posters.start()
        time.sleep(SECONDS)
        posters.stop()
        elapsed = time.monotonic() - started
    assert not outcome.errors, outcome.errors[:5]
    assert_server_healthy([server.log], outcome)
    assert len(outcome.accepted) > POSTERS
    assert any(a.parent_id for a in outcome.accepted)
    assert_nothing_lost(database, outcome, exact=True)
    report("concurrency", summary(outcome, round(elapsed, 1)))


@pytest.mark.torture
def test_posts_answered_before_a_sigkill_survive_it(database: Flask, tmp_path: Path) -> None:
    outcome, env = Outcome(), environment(database)
    target: Target | None = None
    windows: list[tuple[float, float]] = []
    logs: list[Path] = []
    # The load runs SECONDS of server uptime in KILLS + 1 stretches, however long restarts take.
    stretch = SECONDS / (KILLS + 1)
    for run in range(KILLS + 1):
        with gunicorn(env, tmp_path / f"server-{run}", workers=WORKERS) as server:
            logs.append(server.log)
            if target is None:
                server.wait_for_workers(WORKERS)
                target = Target(server)
                posters = Posters(target, outcome)
                posters.start()
            else:
                target.server = server
                windows[-1] = (windows[-1][0], time.monotonic())
            answered = len(outcome.accepted)
            time.sleep(stretch)
            assert len(outcome.accepted) > answered, f"nothing was answered in stretch {run}"
            if run == KILLS:
                posters.stop()
                break
            killed = time.monotonic()
            # The master and its workers, at once and without warning: gunicorn's own session.
            os.killpg(server.process.pid, signal.SIGKILL)
            server.process.wait(timeout=10)
            windows.append((killed, killed))

    # Only requests under way while the server was down may fail (to connect, or to be answered).
    stray = [(start, end, error) for start, end, error in outcome.errors
             if not any(start <= down_to and end >= down_from for down_from, down_to in windows)]
    assert not stray, stray[:5]
    assert_server_healthy(logs, outcome)
    extra = assert_nothing_lost(database, outcome, exact=False)
    integrity = "n/a"
    if not USE_POSTGRES:
        with database.app_context():
            integrity = db.session.execute(text("PRAGMA integrity_check")).scalar()
            assert db.session.execute(text("PRAGMA foreign_key_check")).all() == []
            db.session.remove()
        assert integrity == "ok"
    report("crash", summary(outcome, SECONDS, kills=KILLS,
                            unacknowledged=extra, integrity_check=integrity))
