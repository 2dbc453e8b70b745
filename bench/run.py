"""`make bench`: seed, load our app and two references with wrk, measure, write docs/benchmarks.md.

Every server it starts runs in a process group of its own and is stopped on the way out, after an
error or Ctrl-C too; each load runs for a fixed time, and the whole run stops starting new tests
once --max-minutes have passed. See bench/README.md.
"""
from __future__ import annotations

import argparse
import json
import random
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import browser, isso_ref, machine, report, seed
from .databases import clean_env, schema_url
from .load import wrk_version
from .report import Run
from .studies import Studies
from .servers import Fleet

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / ".data"
SIZES = {
    # threads, comments: the site; small: the comments of the database the read latency is
    # compared on; isso: comments seeded into Isso besides the hot and front-page threads.
    "full": {"postgresql": (100_000, 1_000_000), "sqlite": (10_000, 100_000), "small": 10_000,
             "duration": 10.0, "warmup": 2.0, "isso": 3000, "renders": 5, "profile": 100},
    "quick": {"postgresql": (5_000, 50_000), "sqlite": (2_000, 20_000), "small": 10_000,
              "duration": 3.0, "warmup": 1.0, "isso": 200, "renders": 3, "profile": 30},
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line; every size and duration has a full and a --quick default."""
    p = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="small database, 3 s per test")
    p.add_argument("--db", choices=("postgresql", "sqlite"), default="postgresql")
    p.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/comments_bench",
                   help="the benchmark's own PostgreSQL database (created when missing)")
    p.add_argument("--threads", type=int)
    p.add_argument("--comments", type=int)
    p.add_argument("--small-comments", type=int, help="comments of the small database")
    p.add_argument("--workers", default="1,2,4", help="gunicorn worker counts, comma-separated")
    p.add_argument("--duration", type=float, help="seconds per measurement")
    p.add_argument("--warmup", type=float, help="seconds of load before each warm measurement")
    p.add_argument("--connections", type=int, default=16, help="wrk's open connections")
    p.add_argument("--isso-extra", type=int, help="comments seeded into Isso besides the hot threads")
    p.add_argument("--skip-isso", action="store_true")
    p.add_argument("--skip-browser", action="store_true")
    p.add_argument("--reseed", action="store_true", help="rebuild the databases even if they match")
    p.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                   help="a setting for our servers (repeatable), e.g. COMMENTS_LOG_LEVEL=WARNING")
    p.add_argument("--cache-off-env", action="append", default=[], metavar="KEY=VALUE",
                   help="the settings of the cache-off thread read (the one compared with Isso); "
                        "default COMMENTS_THREAD_CACHE_MB=0")
    p.add_argument("--max-minutes", type=float, default=30.0,
                   help="start no new test after this long (the report says what was skipped)")
    p.add_argument("--out", type=Path, default=ROOT / "docs")
    args = p.parse_args(argv)
    mode = SIZES["quick" if args.quick else "full"]
    args.threads = args.threads or mode[args.db][0]
    args.comments = args.comments or mode[args.db][1]
    args.small_comments = args.small_comments or mode["small"]
    args.duration = args.duration or mode["duration"]
    args.warmup = args.warmup if args.warmup is not None else mode["warmup"]
    args.isso_extra = args.isso_extra if args.isso_extra is not None else mode["isso"]
    args.renders, args.profile_requests = mode["renders"], mode["profile"]
    args.worker_counts = [int(w) for w in args.workers.split(",") if w.strip()]
    return args


def _pairs(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"expected KEY=VALUE, got {item!r}")
        out[key] = value
    return out


def database_urls(args: argparse.Namespace) -> tuple[str, str]:
    """The big and the small database of this backend (never the tests' schemas)."""
    if args.db == "sqlite":
        DATA.mkdir(exist_ok=True)
        return f"sqlite:///{DATA / 'bench.sqlite3'}", f"sqlite:///{DATA / 'bench-small.sqlite3'}"
    return schema_url(args.pg_url, "bench"), schema_url(args.pg_url, "bench_small")


def write_texts(directory: Path, count: int = 60) -> Path:
    """Comment texts for the posting test, one a line, escaped for a JSON string."""
    from .texts import body_text

    rng = random.Random(11)
    path = directory / "texts.txt"
    path.write_text("\n".join(json.dumps(body_text(rng))[1:-1] for _ in range(count)) + "\n")
    return path


def attempt(result: Run, what: str, step: Callable[..., None], *args: Any) -> bool:
    """Run one step; a failure is noted in the report and the run goes on with the next."""
    try:
        step(*args)
        return True
    except Exception as e:  # noqa: BLE001 (any failure of one step; Ctrl-C still stops the run)
        result.failed(what, e)
        return False


def sqlite_plans(args: argparse.Namespace, rounds: Studies, result: Run) -> None:
    """SQLite's plans too, on a database of its own (SQLite's size of the issue; reused)."""
    comments = SIZES["quick" if args.quick else "full"]["sqlite"][1]
    DATA.mkdir(exist_ok=True)
    url = f"sqlite:///{DATA / 'explain.sqlite3'}"
    manifest = seed.prepare(url, comments // 10, comments, args.reseed, result.say)
    rounds.explain(url, manifest)


def run(args: argparse.Namespace, fleet: Fleet, tmp: Path) -> Run:
    """Every phase in order; returns what the report shows."""
    started = time.monotonic()
    big_url, small_url = database_urls(args)
    result = Run(quick=args.quick, argv=sys.argv[1:], settings={
        "backend": args.db, "duration_s": args.duration, "warmup_s": args.warmup,
        "connections": args.connections, "workers": args.worker_counts,
        "env": _pairs(args.env), "cache_off_env": _pairs(args.cache_off_env or ["COMMENTS_THREAD_CACHE_MB=0"])})
    say = result.say
    say(f"machine load average {machine.load_average()}; working in {tmp}")
    result.manifest = seed.prepare(big_url, args.threads, args.comments, args.reseed, say)
    result.small = seed.prepare(small_url, args.small_comments // 10, args.small_comments,
                                args.reseed, say)
    result.phase("seed", started)
    secret = f"bench-{random.getrandbits(64):016x}"
    ours_env = clean_env(DATABASE_URL=big_url, COMMENTS_SECRET_KEY=secret,
                         COMMENTS_RATELIMIT_ENABLED="false", COMMENTS_SPAM_ENABLED="true",
                         **_pairs(args.env))
    rounds = Studies(args, fleet, tmp, result, ours_env, write_texts(tmp),
                    deadline=started + args.max_minutes * 60)
    isso = not args.skip_isso and isso_ref.available()
    if not isso:
        result.notes.append("Isso was not measured: " + ("--skip-isso was given." if args.skip_isso
                            else f"its virtualenv {isso_ref.VENV} is missing (make bench makes it)."))
    else:
        phase = time.monotonic()
        isso = attempt(result, "Isso set-up and seeding", rounds.seed_isso, big_url)
        result.phase("Isso set-up and seeding", phase)
    for workers in args.worker_counts:
        phase = time.monotonic()
        attempt(result, f"our app with {workers} worker(s)", rounds.ours, workers)
        attempt(result, f"bare Flask with {workers} worker(s)", rounds.bare, workers)
        if isso:
            attempt(result, f"Isso with {workers} worker(s)", rounds.isso, workers)
        result.phase(f"load with {workers} worker(s)", phase)
    phase = time.monotonic()
    attempt(result, "thread read latency by database size", rounds.size_latency, small_url)
    attempt(result, "EXPLAIN", rounds.explain, big_url)
    if args.db == "postgresql":
        attempt(result, "EXPLAIN QUERY PLAN on SQLite", sqlite_plans, args, rounds, result)
    attempt(result, "profile", rounds.profile, big_url)
    result.phase("latency by size, EXPLAIN, profile", phase)
    if not args.skip_browser:
        phase = time.monotonic()
        attempt(result, "widget sizes and first render", rounds.widget, big_url)
        result.phase("widget sizes and first render", phase)
    result.info = machine.info({
        "load average at end (1/5/15 min)": machine.load_average(),
        "database": machine.database_version(big_url), "wrk": wrk_version(),
        "Isso": isso_ref.version() if isso else "not measured",
        "Chromium": browser.chromium_version() if not args.skip_browser else "not used"})
    result.info["load average at start (1/5/15 min)"] = result.start_load
    result.total_seconds = round(time.monotonic() - started)
    return result


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; stop everything it started, whatever happens."""
    args = parse_args(argv)
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: `make bench` installs it (apt-get install wrk)")
    tmp = Path(tempfile.mkdtemp(prefix="comments-bench-"))
    fleet = Fleet(tmp)
    # A plain `kill` ends the run through the same `finally` as Ctrl-C does.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    finished = False
    try:
        result = run(args, fleet, tmp)
        paths = report.write(result, args.out)
        print("wrote " + ", ".join(str(p.relative_to(ROOT)) if p.is_relative_to(ROOT) else str(p)
                                   for p in paths))
        finished = True
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        fleet.stop_all()
        if finished:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"server logs kept in {tmp}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
