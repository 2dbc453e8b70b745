"""The load: wrk in its own process for a bounded time, and the few plain requests set-up needs."""
from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

LUA = Path(__file__).with_name("wrk.lua")
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
MIN_REQUESTS = 20
# The shortest second try: long enough for a few answers of a server taking seconds each.
RETRY_SECONDS = 20.0
# A probe waits behind whatever the previous test left queued on a slow server.
PROBE_TIMEOUT = 300.0


@dataclass
class Load:
    """What a test sends: a fixed request, or (mode post-ours / post-isso) a new comment each time."""

    path: str
    method: str = "GET"
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    mode: str = "fixed"
    env: dict[str, str] = field(default_factory=dict)


@dataclass
class Result:
    """One measurement: requests per second and latency of one test on one server."""

    server: str
    test: str
    workers: int
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    requests: int
    errors: int
    seconds: float
    connections: int
    probe: str = ""


def wrk_version() -> str:
    """The wrk in use, for the report."""
    if not shutil.which("wrk"):
        return "missing"
    out = subprocess.run(["wrk", "--version"], capture_output=True, text=True, timeout=10)
    return (out.stdout or out.stderr).split("Copyright")[0].strip()


def run_wrk(base: str, load: Load, seconds: float, connections: int, threads: int = 1
            ) -> dict[str, Any]:
    """wrk against `base` + load.path for `seconds`; its summary as a dict."""
    command = ["wrk", "-t", str(threads), "-c", str(max(connections, threads)),
               "-d", f"{max(1, round(seconds))}s", "--timeout", "30s", "-s", str(LUA)]
    for name, value in load.headers.items():
        command += ["-H", f"{name}: {value}"]
    command.append(base + load.path)
    env = {**os.environ, "BENCH_MODE": load.mode, "BENCH_METHOD": load.method,
           "BENCH_BODY": load.body, **load.env}
    out = subprocess.run(command, capture_output=True, text=True, env=env, timeout=seconds + 60)
    for line in out.stdout.splitlines():
        if line.startswith("BENCH-JSON "):
            return json.loads(line.removeprefix("BENCH-JSON "))
    raise RuntimeError(f"wrk gave no summary:\n{out.stdout}\n{out.stderr}")


def measure(server: str, test: str, workers: int, base: str, load: Load, seconds: float,
            warmup: float, connections: int, probe_answer: str = "") -> Result:
    """Warm up (unless `warmup` is 0), then one timed wrk run.

    A server slower than the run is short (fewer than MIN_REQUESTS answers) is measured once more,
    at least three times as long and with one connection per worker (at least two, still enough
    to keep two cores busy), so that answers are not all still queued when the run ends. Before
    each timed run a fixed request waits out the backlog the previous run left.
    """
    if warmup > 0:
        run_wrk(base, load, warmup, connections)
        drain(base, load)
    data = run_wrk(base, load, seconds, connections)
    if data["requests"] < MIN_REQUESTS:
        drain(base, load)
        connections = min(connections, max(2, workers))
        data = run_wrk(base, load, max(seconds * 3, RETRY_SECONDS), connections)
    lat, err = data["latency_us"], data["errors"]
    wall = data["duration_us"] / 1e6
    return Result(server=server, test=test, workers=workers,
                  rps=round(data["requests"] / wall, 1) if wall else 0.0,
                  p50_ms=lat["p50"] / 1000, p90_ms=lat["p90"] / 1000, p99_ms=lat["p99"] / 1000,
                  max_ms=lat["max"] / 1000, requests=data["requests"],
                  errors=sum(err.values()), seconds=round(wall, 1), connections=connections,
                  probe=probe_answer)


def drain(base: str, load: Load) -> None:
    """Wait until the server has answered what is queued (fixed loads; posts drain fast)."""
    if load.mode == "fixed":
        probe(base, load)


def request(url: str, method: str = "GET", body: bytes | None = None,
            headers: dict[str, str] | None = None, timeout: float = 60.0
            ) -> tuple[int, http.client.HTTPMessage, bytes]:
    """One request on a new connection: status, headers, body."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.headers, response.read()
    finally:
        conn.close()


def probe(url: str, load: Load) -> tuple[int, bytes]:
    """The answer to one request of a fixed load (checked before it is measured)."""
    body = load.body.encode() if load.body else None
    status, _, data = request(url + load.path, load.method, body, load.headers, PROBE_TIMEOUT)
    return status, data


def _cookie(headers: http.client.HTTPMessage, name: str = "session") -> str | None:
    for value in headers.get_all("Set-Cookie") or []:
        if value.startswith(name + "="):
            return value.split(";", 1)[0]
    return None


def login(base: str, email: str, password: str) -> str:
    """Log a moderator in through the form, once; the session cookie to send with every request."""
    status, headers, page = request(base + "/mod/login")
    token = CSRF.search(page.decode())
    cookie = _cookie(headers)
    if status != 200 or not token or not cookie:
        raise RuntimeError(f"login page: {status}")
    form = urlencode({"csrf_token": token.group(1), "email": email, "password": password,
                      "next": ""}).encode()
    status, headers, _ = request(base + "/mod/login", "POST", form, {
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})
    session = _cookie(headers)
    if status != 302 or not session:
        raise RuntimeError(f"login refused: {status}")
    return session


def form_token(base: str, site: str, article: str, origin: str) -> str:
    """The signed form token a thread read hands the widget (posts send it back)."""
    query = urlencode({"site": site, "article": article})
    status, _, data = request(f"{base}/api/v1/threads?{query}", headers={"Origin": origin})
    if status != 200:
        raise RuntimeError(f"thread read for a form token: {status}")
    return json.loads(data)["form_token"]
