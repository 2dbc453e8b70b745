"""docs/benchmarks.md from one run: targets, tables, charts, plans, profile, machine, commands."""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import charts
from .browser import Render, Sizes
from .databases import Manifest
from .load import Result
from .machine import load_average
from .profiling import Profile
from .sections import body
from .targets import Target, evaluate, rate


# Sections other tools keep in the same file between `<!-- NAME:start -->` and `<!-- NAME:end -->`
# (bench/torture_report.py's): carried over as they are, after ours.
KEPT = re.compile(r"<!-- ([\w-]+):start -->.*?<!-- \1:end -->", re.DOTALL)


@dataclass
class Run:
    """Everything one run measured, filled in as it goes."""

    quick: bool
    argv: list[str]
    settings: dict[str, Any]
    manifest: Manifest | None = None
    small: Manifest | None = None
    results: list[Result] = field(default_factory=list)
    first_requests: dict[tuple[str, int], float] = field(default_factory=dict)
    memory: dict[tuple[str, int, str], float] = field(default_factory=dict)
    size_latency: dict[str, tuple[int, float]] = field(default_factory=dict)
    # (database, [(request, [(SQL, plan)])]): the big database's plans, and SQLite's too.
    explains: list[tuple[str, list[tuple[str, list[tuple[str, str]]]]]] = field(
        default_factory=list)
    profiles: list[Profile] = field(default_factory=list)
    import_memory: list[tuple[str, float, float]] = field(default_factory=list)
    render: Render | None = None
    sizes: Sizes | None = None
    isso_comments: int = 0
    notes: list[str] = field(default_factory=list)
    phases: list[tuple[str, float]] = field(default_factory=list)
    info: dict[str, str] = field(default_factory=dict)
    total_seconds: float = 0.0
    start_load: str = field(default_factory=load_average)

    def say(self, line: str) -> None:
        """Progress on the terminal."""
        print(line, flush=True)

    def phase(self, name: str, started: float) -> None:
        """Note how long a phase took."""
        self.phases.append((name, round(time.monotonic() - started, 1)))
        self.say(f"-- {name}: {self.phases[-1][1]:.0f} s")

    def failed(self, what: str, error: BaseException) -> None:
        """A test or phase that failed: noted, and the run goes on."""
        self.notes.append(f"Failed: {what}: {type(error).__name__}: {str(error)[:300]}")
        self.say(f"FAILED: {what}: {error}")

    def skip(self, what: str) -> None:
        """A test not run because the run's time was up."""
        self.notes.append(f"Skipped (time limit reached): {what}.")
        self.say(f"skipped: {what}")


def _row(cells: list[Any]) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def _table(head: list[str], rows: list[list[Any]]) -> list[str]:
    return [_row(head), _row(["---"] * len(head)), *(_row(r) for r in rows), ""]


def _num(value: float, digits: int = 0) -> str:
    return f"{value:,.{digits}f}"


def _results_table(run: Run) -> list[str]:
    rows = [[r.server, r.test, r.workers, _num(r.rps, 1), _num(r.p50_ms, 1), _num(r.p99_ms, 1),
             _num(r.max_ms, 0), f"{r.requests:,}", r.seconds, r.connections, r.errors, r.probe]
            for r in run.results]
    return _table(["server", "test", "workers", "req/s", "p50 ms", "p99 ms", "max ms", "requests",
                   "seconds", "connections", "errors", "checked answer"], rows)


def _comparison(run: Run, workers: list[int]) -> list[str]:
    def cell(server: str, test: str | None, w: int) -> str:
        r = charts._find(run.results, server, test, w)
        return f"{rate(r.rps)} ({_num(r.p50_ms, 1)} / {_num(r.p99_ms, 1)})" if r else "—"

    head = ["endpoint"] + [f"{s} {w}w" for w in workers for s in ("ours", "Isso")]
    rows = []
    for label, ours, isso in charts.PAIRS:
        rows.append([label] + [cell(s, t, w) for w in workers
                               for s, t in (("ours", ours), ("isso", isso))])
    for label, test, _ in charts.FLOORS:
        rows.append([label] + [c for w in workers for c in (cell("bare", test, w), "")])
    for cold, name in (("thread-200 (cold)", "thread-200 cold"),
                       ("thread-1000 p1 (cold)", "thread-1000 page 1 cold")):
        rows.append([name] + [c for w in workers for c in (cell("ours", cold, w), "")])
    return _table(head, rows)


def _targets(targets: list[Target]) -> list[str]:
    rows = [[t.name, t.goal, t.measured, {True: "**pass**", False: "**FAIL**", None: "n/a"}[t.ok]]
            for t in targets]
    return _table(["target", "goal", "measured", "result"], rows)


def write(run: Run, out: Path) -> list[Path]:
    """Write the markdown report and the two charts into `out`."""
    out.mkdir(parents=True, exist_ok=True)
    workers = sorted({r.workers for r in run.results}) or run.settings["workers"]
    note = " — QUICK RUN, busy machine" if run.quick else ""
    paths = [charts.throughput(run.results, workers, out / "bench-throughput.png", note),
             charts.latency(run.results, workers, out / "bench-latency.png", note)]
    md = body(run, workers, _targets(evaluate(run)), _comparison(run, workers),
              _results_table(run), _table)
    path = out / "benchmarks.md"
    kept = [m.group(0) for m in KEPT.finditer(path.read_text())] if path.exists() else []
    path.write_text("\n".join([*md, *kept]).rstrip() + "\n")
    return [path, *paths]
