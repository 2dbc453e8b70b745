"""Issue 7's targets, each judged from one run's numbers (ratios at every worker count)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .charts import _find

if TYPE_CHECKING:
    from .report import Run

# "As fast as": the first page of the 1,000-comment thread within 10% of the 200-comment read.
AS_FAST = 0.9
WIDGET_GZ = 15_000
COUNT_GZ = 2_000
MEMORY_MB = 60.0
GROWTH = 0.25


def rate(value: float) -> str:
    """Requests per second: whole numbers, one decimal below 10."""
    return f"{value:,.0f}" if value >= 10 else f"{value:.1f}"


@dataclass
class Target:
    """A goal, what was measured, and whether it was met (None: not measured)."""

    name: str
    goal: str
    measured: str
    ok: bool | None


def _ratio(run: Run, name: str, goal: str, minimum: float, ours: tuple[str, str],
           other: tuple[str, str], fmt: Callable[[float], str] = lambda v: f"{v:.2f}×") -> Target:
    """ours / other requests per second at each worker count; met when every ratio is enough."""
    parts, oks = [], []
    for w in sorted({r.workers for r in run.results}):
        a, b = _find(run.results, *ours, w), _find(run.results, *other, w)
        if a and b and b.rps > 0:
            ratio = a.rps / b.rps
            oks.append(ratio >= minimum)
            parts.append(f"{w}w: {fmt(ratio)} ({rate(a.rps)} vs {rate(b.rps)} req/s)")
    return Target(name, goal, "; ".join(parts) or "not measured", all(oks) if oks else None)


def evaluate(run: Run) -> list[Target]:
    """Every target of the issue, in its order."""
    cache_off = "thread-200 (cache off)" if any(r.test == "thread-200 (cache off)"
                                                for r in run.results) else "thread-200 (warm)"
    out = [
        _ratio(run, "warm 200-comment read vs the floor", "≥ 60% of bare Flask's prebuilt response",
               0.6, ("ours", "thread-200 (warm)"), ("bare", "prebuilt thread-200"),
               lambda v: f"{v:.0%}"),
        _ratio(run, "200-comment read with the cache off vs Isso" + (
            "" if cache_off.endswith("(cache off)") else " (the warm read: the app has no cache)"),
            "≥ 20× Isso", 20.0, ("ours", cache_off), ("isso", "thread-200")),
        _ratio(run, "first page of the 1,000-comment thread", f"≥ {AS_FAST:.0%} of the "
               "200-comment read's req/s", AS_FAST, ("ours", "thread-1000 p1 (warm)"),
               ("ours", "thread-200 (warm)"), lambda v: f"{v:.0%}"),
        _ratio(run, "counts of 20 vs Isso", "≥ 10× Isso", 10.0, ("ours", "counts of 20"),
               ("isso", "counts of 20")),
        _ratio(run, "posting vs Isso", "≥ 2× Isso", 2.0, ("ours", "post a comment"),
               ("isso", "post a comment")),
    ]
    peaks = {w: mb for (server, w, phase), mb in run.memory.items()
             if server == "ours" and phase == "after reads"}
    out.append(Target("worker peak memory after the read tests", f"< {MEMORY_MB:.0f} MB (VmHWM)",
                      "; ".join(f"{w}w: {mb:.1f} MB" for w, mb in sorted(peaks.items()))
                      or "not measured",
                      all(mb < MEMORY_MB for mb in peaks.values()) if peaks else None))
    if run.size_latency:
        (small_n, small_ms), (big_n, big_ms) = run.size_latency["small"], run.size_latency["big"]
        growth = big_ms / small_ms - 1 if small_ms else 0.0
        out.append(Target("thread-read latency, small vs big database", "within 25%",
                          f"p50 {small_ms:.1f} ms at {small_n:,} comments, {big_ms:.1f} ms at "
                          f"{big_n:,} ({growth:+.0%})", abs(growth) <= GROWTH))
    else:
        out.append(Target("thread-read latency, small vs big database", "within 25%",
                          "not measured", None))
    if run.sizes:
        gz = run.sizes.total_gz
        out.append(Target("widget, gzipped", f"< {WIDGET_GZ / 1000:.0f} KB",
                          f"{gz:,} bytes in {len(run.sizes.files)} files", gz < WIDGET_GZ))
        out.append(Target("count.js, gzipped", f"< {COUNT_GZ / 1000:.0f} KB",
                          f"{run.sizes.count_js[1]:,} bytes", run.sizes.count_js[1] < COUNT_GZ))
    return out
