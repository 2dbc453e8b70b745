"""The prose and tables of docs/benchmarks.md, section by section."""
from __future__ import annotations

import shlex
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from .charts import FLOORS, PAIRS, _find
from .isso_ref import CONFIG
from .servers import SETTINGS

if TYPE_CHECKING:
    from .report import Run

Table = Callable[[list[str], list[list[Any]]], list[str]]


def _head(run: Run) -> list[str]:
    m = run.manifest
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = ["# Benchmarks", ""]
    if run.quick:
        lines += [f"> **Quick run** (`make bench QUICK=1`, {stamp}): a small database and "
                  f"{run.settings['duration_s']:.0f} s per measurement on a machine that was busy "
                  f"with other work (load average {run.start_load} at the start, "
                  f"{run.info.get('load average at end (1/5/15 min)', '?')} at the end, on "
                  f"{run.info.get('CPU cores (nproc)', '?')} cores). It shows that the pipeline "
                  "works end to end; its numbers are noisy and only indicative. "
                  "The full `make bench` on a quiet machine replaces this file.", ""]
    else:
        lines += [f"Full run, {stamp}.", ""]
    if m:
        lines += [f"Our app (gunicorn, {m.backend}, {m.comments:,} comments in {m.threads:,} "
                  "threads) against two references on the same gunicorn settings: a bare Flask app "
                  "(the floor of any Flask service here) and Isso, the closest peer. Absolute "
                  "numbers on a shared machine mean little; the ratios are the point.", ""]
    return lines


def _reproduce(run: Run) -> list[str]:
    return ["## Reproduce", "", "```sh",
            "make bench            # full: the sizes of issue 7, 10 s per measurement (~20 min)",
            "make bench QUICK=1    # small and short: checks the pipeline in a few minutes",
            "make bench BENCH_ARGS='--db sqlite'   # the same on SQLite (100,000 comments)",
            "```", "", "This report was made by:", "", "```sh",
            "python -m bench.run " + " ".join(shlex.quote(a) for a in run.argv), "```", ""]


def _ratios(run: Run, workers: list[int], table: Table) -> list[str]:
    rows = []
    prebuilt = {w: _find(run.results, "bare", "prebuilt thread-200", w) for w in workers}
    constant = {w: _find(run.results, "bare", "constant JSON", w) for w in workers}
    for label, ours, isso in PAIRS:
        row: list[Any] = [label]
        for w in workers:
            a, b = _find(run.results, "ours", ours, w), _find(run.results, "isso", isso, w)
            row.append(f"{a.rps / b.rps:.1f}×" if a and b and b.rps else "—")
            floor = prebuilt[w] if label.startswith("thread-200") else constant[w]
            row.append(f"{a.rps / floor.rps:.0%}" if a and floor and floor.rps else "—")
        rows.append(row)
    head = ["endpoint"] + [c for w in workers for c in (f"ours/Isso {w}w", f"ours/floor {w}w")]
    return ["## Ratios", "", "Requests per second of ours divided by Isso's, and by the floor (the "
            "bare app's prebuilt thread for the 200-comment read, its constant JSON otherwise).",
            "", *table(head, rows)]


def _cold(run: Run, table: Table) -> list[str]:
    rows = [[name, w, f"{ms:,.1f}"] for (name, w), ms in sorted(run.first_requests.items())]
    return ["## Cold and warm", "", "*Cold*: a freshly started server, measured without warm-up "
            "(only its very first request, timed on its own below, and one checked request come "
            "before): each worker's first requests open its database connections, fill "
            "SQLAlchemy's statement cache and render the page into the worker's thread cache. "
            f"*Warm*: the same load after {run.settings['warmup_s']:.0f} s of load, served from "
            "that cache (one query: the thread's version). *Cache off*: a server started with "
            f"`{' '.join(f'{k}={v}' for k, v in run.settings['cache_off_env'].items())}`, every "
            "read rendered from the database (four queries).",
            "", "The very first request of a fresh server:", "",
            *table(["request", "workers", "ms"], rows)]


PHASES = ("after start", "after reads", "end", "RSS after reads")


def _memory(run: Run, table: Table) -> list[str]:
    keys = sorted({(s, w) for s, w, _ in run.memory}, key=lambda k: (k[0] != "ours", k))
    rows = [[s, w, *(f"{run.memory[(s, w, p)]:.1f}" if (s, w, p) in run.memory else "—"
                     for p in PHASES)] for s, w in keys]
    lines = ["## Worker memory", "", "The largest VmHWM (peak resident set, from "
             "`/proc/PID/status`, sampled every 0.2 s) of any worker, in MB (10^6 bytes): once all "
             "workers are up, after the warm thread reads, and after every test on that server; and "
             "the largest resident size (VmRSS) right after the reads, for comparison.",
             "", *table(["server", "workers", *PHASES], rows)]
    if run.import_memory:
        rows, last = [], (0.0, 0.0)
        for name, rss, hwm in run.import_memory:
            rows.append([f"`{name}`", f"{rss:.1f}", f"{rss - last[0]:+.1f}", f"{hwm:.1f}",
                         f"{hwm - last[1]:+.1f}"])
            last = (rss, hwm)
        lines += ["Where it goes: a fresh interpreter importing the app's dependencies one after "
                  "another, then `comments` and `create_app()`, as a worker does before its first "
                  "request (a peak above the resident size is memory used for a moment at "
                  "import):", "", *table(["after importing", "RSS MB", "change", "peak MB",
                                          "change"], rows)]
    return lines


def _widget(run: Run, table: Table) -> list[str]:
    lines = ["## The widget", ""]
    if run.sizes:
        s = run.sizes
        rows = [[url, f"{raw:,}", f"{gz:,}"] for url, (raw, gz) in s.files.items()]
        rows.append(["**all the widget loads**", f"{sum(r for r, _ in s.files.values()):,}",
                     f"**{s.total_gz:,}**"])
        rows.append(["/count.js", f"{s.count_js[0]:,}", f"{s.count_js[1]:,}"])
        lines += ["What a reader's browser fetches from us for the widget besides the API (seen in "
                  "Chromium during the first render), as served, and gzipped at level 9:", "",
                  *table(["file", "bytes", "gzipped"], rows),
                  f"For comparison, the {s.sources[0]} source modules, stylesheet and catalogs "
                  f"(`comments/static/widget/`, without count.js) weigh {s.sources[1]:,} bytes, "
                  f"{s.sources[2]:,} gzipped one by one.", ""]
    if run.render:
        r = run.render
        lines += [f"First render of the 200-comment thread in headless Chromium, from navigation "
                  f"to the 200th comment element in the widget's shadow root, {len(r.times)} runs "
                  f"each in a new browser context (nothing cached): median **{r.median:,.0f} ms** "
                  f"(runs: {', '.join(f'{t:,.0f}' for t in r.times)} ms); {r.comments} comments "
                  "shown. The host page comes from a loopback server of its own (another origin, as "
                  "a news site's would be), the widget from ours with 2 workers.", ""]
    return lines


def _size(run: Run, table: Table) -> list[str]:
    if not run.size_latency:
        return []
    rows = [[f"{n:,}", f"{ms:.1f}"] for n, ms in run.size_latency.values()]
    return ["## Thread read and database size", "", "The 200-comment read, one connection (so the "
            "latency is the service time), 1 worker, the median p50 of two alternating runs on "
            "each database:", "", *table(["comments in the database", "p50 ms"], rows)]


def _profiles(run: Run, table: Table) -> list[str]:
    if not run.profiles:
        return []
    rows = [[p.name, p.requests, f"{p.ms:.1f}", f"{p.cpu_ms:.1f}", f"{p.sql_ms:.1f}",
             f"{p.sql_ms / p.ms:.0%}" if p.ms else "—", f"{p.queries:g}"] for p in run.profiles]
    lines = ["## Where the time goes", "", "Each request kind through Flask's test client in one "
             "process over the big database (the same code a worker runs, without gunicorn's "
             "HTTP parsing); SQL time is measured around each cursor execute (so it includes waiting "
             "for PostgreSQL), CPU time is this process's alone. Then pyinstrument over as many "
             "requests again: the functions with the most time of their own, and "
             "the call tree.", "",
             *table(["request", "requests", "wall ms/request", "CPU ms/request (this process)",
                     "SQL ms (wall)", "SQL share of wall", "queries"], rows)]
    for p in run.profiles:
        lines += [f"<details><summary>{p.name}: pyinstrument</summary>", "", "```", p.flat, "",
                  p.tree, "```", "", "</details>", ""]
    return lines


def _explains(run: Run) -> list[str]:
    if not run.explains:
        return []
    lines = ["## Query plans", "", "Every SELECT of each request, with its values: "
             "`EXPLAIN (ANALYZE, BUFFERS)` on PostgreSQL, `EXPLAIN QUERY PLAN` on SQLite.", ""]
    for database, requests in run.explains:
        lines += [f"### {database}", ""]
        for name, plans in requests:
            lines += [f"<details><summary>{name}: {len(plans)} queries</summary>", ""]
            for sql, plan in plans:
                lines += ["```sql", sql.strip(), "```", "```", plan, "```", ""]
            lines += ["</details>", ""]
    return lines


def _data(run: Run) -> list[str]:
    m, s = run.manifest, run.small
    if not m:
        return []
    counts = m.extra.get("front_page_counts", [])
    return ["## The data", "", f"`bench/seed.py` built {m.comments:,} comments in {m.threads:,} "
            f"threads ({m.seconds:.0f} s; reused on later runs while the sizes match): thread sizes "
            "heavy-tailed (most threads a few comments, a few hundreds), replies under recent "
            "comments more often than old ones, bodies of one to six paragraphs of Markdown "
            f"(emphasis, links, bare URLs, quotes, lists, code) from a pool of "
            f"{m.extra.get('body_pool', '?'):,} rendered once by `comments.sanitize.render`; "
            "93.5% approved, 0.6% held, 3% spam, 2% removed, 0.4% deleted, 0.1% reported; "
            f"{m.pending:,} comments waiting in the moderation queue. Two hot articles: "
            f"`{m.hot['hot200']}` (200 approved comments, at most three direct replies each, so "
            f"the widget shows them all) and `{m.hot['hot1000']}` (1,000). The counts test asks "
            f"for the 20 newest articles ({sum(counts):,} comments between them), and the posting "
            "test writes to them. "
            + (f"The small database has {s.comments:,} comments in {s.threads:,} threads. "
               if s else "")
            + f"Isso was given {run.isso_comments:,} of the same comments through its API "
            "(`POST /new?uri=...`): both hot threads, the front page and further threads.", ""]


def _method(run: Run) -> list[str]:
    st = run.settings
    env = ", ".join(f"`{k}={v}`" for k, v in st["env"].items()) or "none"
    return ["## Method", "",
            f"- Load: `wrk` with 1 thread and {st['connections']} connections on 127.0.0.1, "
            f"{st['duration_s']:.0f} s per measurement after {st['warmup_s']:.0f} s of warm-up "
            "(none for cold reads), latency from wrk's histogram; `bench/wrk.lua` builds one new "
            "comment per request for the posting tests. wrk shares the machine's cores with the "
            "servers.",
            f"- Our app: `gunicorn wsgi:app` with `COMMENTS_RATELIMIT_ENABLED=false` and the spam "
            f"filter on (each post carries a form token and a reader key); extra settings: {env}. "
            "Reads send `Origin: http://bench.example` as the widget does.",
            "- Thread reads: the 200-comment thread in one page (`limit=100`), the first page of "
            "the 1,000-comment thread (the default 50 top-level comments with their replies); "
            "Isso: `GET /?uri=` (every comment) and `GET /?uri=&limit=50`. Counts: ours "
            "`GET /api/v1/counts` with 20 articles, Isso `POST /count` with the same 20. Queue: "
            "`GET /mod/queue` (50 items) with the session cookie of one login.",
            "- Isso's reads hash each commenter's email or address (its default), and its "
            "comments table has no index on the thread: its database here is much smaller than "
            "ours, which flatters Isso, so the ratios to Isso are on the low side.",
            "- Every server ran with these gunicorn settings (`bench/servers.py`):", "", "```python",
            SETTINGS.rstrip(), "```", "", "- Isso's configuration:", "", "```ini",
            CONFIG.rstrip(), "```", ""]


def _machine(run: Run, table: Table) -> list[str]:
    rows = [[k, v] for k, v in run.info.items()]
    return ["## Machine", "", *table(["", ""], rows)]


def _notes(run: Run) -> list[str]:
    phases = ", ".join(f"{name} {secs:.0f} s" for name, secs in run.phases)
    lines = ["## Notes", ""]
    lines += [f"- {n}" for n in run.notes]
    lines += [f"- Phases: {phases}; {run.total_seconds:.0f} s in all.", ""]
    return lines


def body(run: Run, workers: list[int], targets: list[str], comparison: list[str],
         results: list[str], table: Table) -> list[str]:
    """The whole report, top to bottom."""
    floors = ", ".join(label for label, _, _ in FLOORS)
    return [*_head(run), "## Targets", "", *targets,
            "![Requests per second](bench-throughput.png)", "",
            "![Latency](bench-latency.png)", "",
            "## Requests per second (p50 / p99 ms)", "",
            f"Warm reads; the floor rows are the bare Flask app ({floors}).", "", *comparison,
            *_ratios(run, workers, table), *_cold(run, table), *_memory(run, table),
            *_widget(run, table), *_size(run, table), *_profiles(run, table), *_explains(run),
            *_data(run), *_method(run), *_reproduce(run), *_machine(run, table),
            "## Every measurement", "", *results, *_notes(run)]
