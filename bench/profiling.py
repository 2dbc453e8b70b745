"""Where a request's time goes: the app in this process under pyinstrument, and its time in SQL.

py-spy would sample a gunicorn worker from outside, but it cannot attach in every container; the
same code run through Flask's test client shows the same split (minus gunicorn's HTTP parsing).
"""
from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from .queries import capturing

Send = Callable[[FlaskClient, int], TestResponse]


@dataclass
class Profile:
    """One request kind: wall and CPU time per request, time in SQL, queries, pyinstrument's view."""

    name: str
    requests: int
    ms: float
    cpu_ms: float
    sql_ms: float
    queries: float
    flat: str
    tree: str


def profile(app: Flask, name: str, send: Send, count: int) -> Profile:
    """Time `count` requests, then profile another `count`."""
    from pyinstrument import Profiler

    client = app.test_client()
    for i in range(5):
        _check(send(client, -1 - i), name)
    with capturing(app) as captured:
        started, cpu = time.perf_counter(), time.process_time()
        for i in range(count):
            send(client, i)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    profiler = Profiler(interval=0.0005)
    profiler.start()
    for i in range(count):
        send(client, count + i)
    profiler.stop()
    flat = profiler.output_text(flat=True, processor_options={"filter_threshold": 0.01})
    tree = profiler.output_text(processor_options={"filter_threshold": 0.03})
    return Profile(name, count, round(elapsed / count * 1000, 2), round(cpu / count * 1000, 2),
                   round(captured.seconds / count * 1000, 2),
                   round(len(captured.statements) / count, 1),
                   "\n".join(flat.splitlines()[:40]), _trim(tree))


def _check(response: TestResponse, name: str) -> None:
    if response.status_code >= 400:
        raise RuntimeError(f"{name}: {response.status_code} {response.get_data(as_text=True)[:300]}")


def _trim(tree: str, width: int = 150, lines: int = 80) -> str:
    """The call tree without pyinstrument's banner, cut to a readable size."""
    body = [line[:width] for line in tree.splitlines() if line.strip()]
    start = next((i for i, line in enumerate(body) if line.lstrip().startswith(("0.", "1.", "2.",
                                                                               "3.", "4.", "5.",
                                                                               "6.", "7.", "8.",
                                                                               "9."))), 0)
    return "\n".join(body[start:start + lines])


def login(client: FlaskClient, email: str, password: str) -> None:
    """Log the test client in through the form (its cookie jar keeps the session)."""
    page = client.get("/mod/login").get_data(as_text=True)
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    response = client.post("/mod/login", data={"csrf_token": token, "email": email,
                                               "password": password, "next": ""})
    if response.status_code != 302:
        raise RuntimeError(f"in-process login: {response.status_code}")


def all_profiles(app: Flask, paths: dict[str, str], origin: str, post: dict[str, Any],
                 moderator: tuple[str, str], count: int) -> list[Profile]:
    """Profiles of the thread reads, the counts, a post and the moderation queue."""
    headers = {"Origin": origin}
    out = [profile(app, name, lambda c, i, p=path: c.get(p, headers=headers), count)
           for name, path in paths.items()]

    def send_post(client: FlaskClient, i: int) -> TestResponse:
        body = {**post, "text": f"{post['text']} (profile {time.time_ns()}-{i})"}
        return client.post("/api/v1/comments", data=json.dumps(body), headers={
            **headers, "Content-Type": "application/json",
            "X-Comments-Reader": f"profilereader{i % 50:05d}"})

    out.append(profile(app, "post a comment", send_post, max(10, count // 5)))
    queue_app_client = app.test_client()
    login(queue_app_client, *moderator)
    out.append(profile(app, "moderation queue", lambda _c, _i: queue_app_client.get("/mod/queue"),
                       10))
    return out


# The app's heavier dependencies in roughly the order it imports them, then the app itself.
IMPORTS = ("flask", "sqlalchemy.orm", "flask_sqlalchemy", "psycopg", "flask_migrate",
           "flask_limiter", "flask_wtf", "argon2", "jwt", "bleach", "markdown_it", "redis",
           "prometheus_client", "comments")
MEMORY_SCRIPT = """
import importlib, json, os, sys
def mem():
    with open(f"/proc/{os.getpid()}/status") as f:
        got = {l.split(":")[0]: int(l.split()[1]) for l in f if l.startswith(("VmRSS", "VmHWM"))}
    return round(got["VmRSS"] * 1024 / 1e6, 1), round(got["VmHWM"] * 1024 / 1e6, 1)
rows = [["python", *mem()]]
for name in sys.argv[1:]:
    importlib.import_module(name)
    rows.append([name, *mem()])
app = importlib.import_module("comments").create_app()
rows.append(["create_app()", *mem()])
print(json.dumps(rows))
"""


def import_memory(env: dict[str, str]) -> list[tuple[str, float, float]]:
    """(module, RSS MB, peak MB) after importing each dependency in a fresh interpreter, as a
    worker does before its first request."""
    out = subprocess.run([sys.executable, "-c", MEMORY_SCRIPT, *IMPORTS], env=env,
                         capture_output=True, text=True, timeout=300, check=True)
    return [tuple(row) for row in json.loads(out.stdout.strip().splitlines()[-1])]
