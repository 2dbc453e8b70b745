"""The load tests: our app, the bare Flask floor and Isso, each at each worker count."""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote, urlencode

from . import isso_ref
from .databases import clean_env
from .load import Load, form_token, login, measure, probe, request
from .report import Run
from .servers import Fleet, MemorySampler, Server

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).with_name("gunicorn")
QUEUE_ITEM = '<li class="item '


def shown(comments: list[dict]) -> int:
    """Comments in a nested list (ours: `replies` at every level; Isso's: one level)."""
    return sum(1 + shown(c.get("replies") or []) for c in comments)


class Rounds:
    """Runs every test against the servers it starts, and files the results in `run`."""

    def __init__(self, args: argparse.Namespace, fleet: Fleet, tmp: Path, run: Run,
                 ours_env: dict[str, str], texts: Path, deadline: float) -> None:
        self.args, self.fleet, self.tmp, self.run = args, fleet, tmp, run
        self.env, self.texts, self.deadline = ours_env, texts, deadline
        m = run.manifest
        assert m is not None
        self.m = m
        self.headers = {"Origin": m.origin}
        self.thread200 = Load("/api/v1/threads?" + urlencode(
            {"site": m.site, "article": m.hot["hot200"], "limit": 100}), headers=self.headers)
        self.thread1000 = Load("/api/v1/threads?" + urlencode(
            {"site": m.site, "article": m.hot["hot1000"]}), headers=self.headers)
        self.counts = Load("/api/v1/counts?" + urlencode(
            [("site", m.site)] + [("article", a) for a in m.front_page]), headers=self.headers)
        self.prebuilt = tmp / "thread200.json"
        self.isso_dir = tmp / "isso"
        self.nonce = 0

    # --- helpers -------------------------------------------------------------------------------

    def time_left(self, what: str) -> bool:
        """False (and a note) once the run's time is up."""
        if time.monotonic() < self.deadline:
            return True
        self.run.skip(what)
        return False

    def test(self, server: Server, label: str, name: str, load: Load,
             check: Callable[[], str], warm: bool = True) -> None:
        """One measured test after one checked request (which also waits out the previous test's
        backlog); a failure is noted and the run goes on."""
        what = f"{label} {name} with {server.workers} worker(s)"
        if not self.time_left(what):
            return
        try:
            answer = check()
            result = measure(label, name, server.workers, server.url, load, self.args.duration,
                             self.args.warmup if warm else 0, self.args.connections, answer)
        except (OSError, RuntimeError, ValueError, KeyError, subprocess.SubprocessError) as e:
            self.run.failed(what, e)
            return
        self.run.results.append(result)
        self.run.say(f"  {label:5} {name:26} {server.workers}w {result.rps:9.1f} req/s  "
                     f"p50 {result.p50_ms:7.1f} ms  p99 {result.p99_ms:7.1f} ms  "
                     f"errors {result.errors}")

    def post_load(self, mode: str, token: str = "") -> Load:
        """A new comment per request on the front-page articles (not the hot threads read here)."""
        self.nonce += 1
        return Load("/", mode=mode, env={
            "BENCH_SITE": self.m.site, "BENCH_ARTICLES": ",".join(self.m.front_page),
            "BENCH_TEXTS": str(self.texts), "BENCH_FORM_TOKEN": token,
            "BENCH_ORIGIN": self.m.origin, "BENCH_NONCE": f"{int(time.time())}{self.nonce}"})

    def start_ours(self, workers: int, extra: dict[str, str] | None = None) -> Server:
        """Our app under gunicorn."""
        return self.fleet.start("ours", GUNICORN, "wsgi:app", workers, {**self.env, **(extra or {})},
                                ROOT)

    def check_thread(self, server: Server, load: Load, want: int | None) -> Callable[[], str]:
        """A probe of a thread read: how many comments it shows and how big it is."""

        def check() -> str:
            status, body = probe(server.url, load)
            count = shown(json.loads(body)["comments"]) if status == 200 else 0
            if status != 200 or (want is not None and count != want):
                raise RuntimeError(f"thread read answered {status} with {count} comments")
            return f"{count} comments, {len(body) / 1000:.0f} kB"

        return check

    def check_status(self, server: Server, load: Load, describe: Callable[[bytes], str],
                     status: int = 200) -> Callable[[], str]:
        """A probe that wants `status` and describes the body."""

        def check() -> str:
            got, body = probe(server.url, load)
            if got != status:
                raise RuntimeError(f"{load.method} {load.path[:60]} answered {got}")
            return f"{got}, {describe(body)}"

        return check

    def first_request(self, server: Server, load: Load, name: str) -> None:
        """The latency of the very first request a fresh server answers."""
        started = time.perf_counter()
        status, _ = probe(server.url, load)
        self.run.first_requests[(name, server.workers)] = round(
            (time.perf_counter() - started) * 1000, 1)
        if status != 200:
            raise RuntimeError(f"first request of {name}: {status}")

    # --- our app, the floor, Isso ----------------------------------------------------------

    def ours(self, workers: int) -> None:
        """Cold reads on fresh servers, then warm reads, counts, the queue and posting."""
        server = self.start_ours(workers)
        try:
            self.first_request(server, self.thread200, "thread-200")
            self.test(server, "ours", "thread-200 (cold)", self.thread200,
                      self.check_thread(server, self.thread200, 200), warm=False)
            if not self.prebuilt.exists():
                self.prebuilt.write_bytes(probe(server.url, self.thread200)[1])
        finally:
            self.fleet.stop(server)
        server = self.start_ours(workers)
        sampler = MemorySampler(server)
        self.run.memory[("ours", workers, "after start")] = sampler.peak_mb()
        try:
            self.first_request(server, self.thread1000, "thread-1000")
            self.test(server, "ours", "thread-1000 p1 (cold)", self.thread1000,
                      self.check_thread(server, self.thread1000, None), warm=False)
            token = form_token(server.url, self.m.site, self.m.front_page[0], self.m.origin)
            self.test(server, "ours", "thread-200 (warm)", self.thread200,
                      self.check_thread(server, self.thread200, 200))
            self.test(server, "ours", "thread-1000 p1 (warm)", self.thread1000,
                      self.check_thread(server, self.thread1000, None))
            self.run.memory[("ours", workers, "after reads")] = sampler.peak_mb()
            self.run.memory[("ours", workers, "RSS after reads")] = sampler.rss_mb()
            self.test(server, "ours", "counts of 20", self.counts, self.check_status(
                server, self.counts, lambda b: f"{len(json.loads(b)['counts'])} counts"))
            queue = Load("/mod/queue", headers={
                "Cookie": login(server.url, self.m.moderator, self.m.password)})
            self.test(server, "ours", "moderation queue", queue, self.check_status(
                server, queue, lambda b: f"{b.decode().count(QUEUE_ITEM)} items"))
            self.test(server, "ours", "post a comment", self.post_load("post-ours", token),
                      lambda: self.probe_post(server, token))
            self.run.memory[("ours", workers, "end")] = sampler.peak_mb()
        finally:
            sampler.close()
            self.fleet.stop(server)
        if self.run.settings["cache_off_env"] and self.time_left("cache-off thread read"):
            server = self.start_ours(workers, self.run.settings["cache_off_env"])
            try:
                self.test(server, "ours", "thread-200 (cache off)", self.thread200,
                          self.check_thread(server, self.thread200, 200))
            finally:
                self.fleet.stop(server)

    def probe_post(self, server: Server, token: str) -> str:
        """One post as the load sends them: its status and the filter's outcome."""
        body = {"site": self.m.site, "article": self.m.front_page[0], "form_token": token,
                "author": {"name": "Probe", "email": "probe@mail.example"},
                "text": f"A probe comment, written at {time.time()}."}
        status, _, data = request(server.url + "/api/v1/comments", "POST", json.dumps(body).encode(),
                                  {**self.headers, "Content-Type": "application/json",
                                   "X-Comments-Reader": "benchprobereader0001"}, 300)
        if status != 201:
            raise RuntimeError(f"probe post: {status} {data[:300]!r}")
        return f"201, {json.loads(data)['status']}"

    def probe_isso_post(self, server: Server) -> str:
        """One post to Isso as the load sends them."""
        body = {"text": f"A probe comment, written at {time.time()}.", "author": "Probe",
                "email": "probe@mail.example", "title": "Bench article"}
        status, _, data = request(f"{server.url}/new?uri={quote(self.m.front_page[0], safe='')}",
                                  "POST", json.dumps(body).encode(),
                                  {**self.headers, "Content-Type": "application/json"}, 300)
        if status != 201:
            raise RuntimeError(f"Isso probe post: {status} {data[:300]!r}")
        return "201"

    def bare(self, workers: int) -> None:
        """The floor: a constant small JSON and the prebuilt 200-comment thread."""
        app = f'bench.bare_app:create_app("{self.prebuilt}")'
        server = self.fleet.start("bare", GUNICORN, app, workers, clean_env(), ROOT)
        sampler = MemorySampler(server)
        self.run.memory[("bare", workers, "after start")] = sampler.peak_mb()
        try:
            for name, path in (("constant JSON", "/constant"), ("prebuilt thread-200", "/prebuilt")):
                load = Load(path, headers=self.headers)
                self.test(server, "bare", name, load,
                          self.check_status(server, load, lambda b: f"{len(b):,} bytes"))
            self.run.memory[("bare", workers, "end")] = sampler.peak_mb()
        finally:
            sampler.close()
            self.fleet.stop(server)

    def start_isso(self, workers: int) -> Server:
        """Isso under the same gunicorn settings, from its own virtualenv."""
        env = clean_env(ISSO_SETTINGS=str(self.isso_dir / "isso.cfg"))
        return self.fleet.start("isso", isso_ref.GUNICORN, isso_ref.APP, workers, env,
                                self.isso_dir)

    def seed_isso(self, url: str) -> None:
        """Isso's database: the hot and front-page threads, and more threads, through its API."""
        self.isso_dir.mkdir()
        isso_ref.write_config(self.isso_dir, self.m.origin)
        articles = [self.m.hot["hot200"], self.m.hot["hot1000"], *self.m.front_page]
        articles += isso_ref.more_articles(url, self.m.site, set(articles), self.args.isso_extra)
        threads = isso_ref.source_threads(url, self.m.site, articles)
        server = self.start_isso(1)
        try:
            self.run.isso_comments = isso_ref.seed(server.url, threads, self.m.origin, self.run.say)
        finally:
            self.fleet.stop(server)

    def isso(self, workers: int) -> None:
        """The same reads, counts and posts against Isso."""
        hot200, hot1000 = self.m.hot["hot200"], self.m.hot["hot1000"]
        server = self.start_isso(workers)
        sampler = MemorySampler(server)
        self.run.memory[("isso", workers, "after start")] = sampler.peak_mb()

        def comments(want: int | None) -> Callable[[bytes], str]:
            def describe(body: bytes) -> str:
                count = shown(json.loads(body)["replies"])
                if want is not None and count != want:
                    raise RuntimeError(f"Isso shows {count} comments, not {want}")
                return f"{count} comments, {len(body) / 1000:.0f} kB"
            return describe

        try:
            for name, path, want in (("thread-200", f"/?uri={quote(hot200, safe='')}", 200),
                                     ("thread-1000 p1", f"/?uri={quote(hot1000, safe='')}&limit=50",
                                      None)):
                load = Load(path, headers=self.headers)
                self.test(server, "isso", name, load,
                          self.check_status(server, load, comments(want)))
            self.run.memory[("isso", workers, "after reads")] = sampler.peak_mb()
            self.run.memory[("isso", workers, "RSS after reads")] = sampler.rss_mb()
            counts = Load("/count", "POST", isso_ref.counts_body(self.m.front_page),
                          {**self.headers, "Content-Type": "application/json"})
            self.test(server, "isso", "counts of 20", counts, self.check_status(
                server, counts, lambda b: f"{len(json.loads(b))} counts"))
            post = self.post_load("post-isso")
            self.test(server, "isso", "post a comment", post, lambda: self.probe_isso_post(server))
            self.run.memory[("isso", workers, "end")] = sampler.peak_mb()
        finally:
            sampler.close()
            self.fleet.stop(server)
