"""`make torture`'s results as docs/benchmarks.md's "Torture results" section, replaced in place.

tests/test_torture.py appends each passing run's numbers to a JSON file (TORTURE_REPORT); this
writes them between the markers below, leaving the rest of the file (bench/run.py's) as it is.
A run that is missing from the file failed its assertions, and the section says so.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

START, END = "<!-- torture:start -->", "<!-- torture:end -->"
RUNS = [("concurrency", "sqlite"), ("concurrency", "postgresql"), ("crash", "sqlite"),
        ("crash", "postgresql")]
WHAT = {
    "concurrency": "posters on gunicorn: each 201 stored once, in its thread, under its parent",
    "crash": "the same load, the server SIGKILLed and restarted twice: every 201 survives",
}


def _row(name: str, database: str, result: dict[str, Any] | None) -> str:
    if result is None:
        return f"| {name} | {database} | **failed or not run** | | | | | | | |"
    crash = name == "crash"
    extra = (f"{result['kills']} kills; {result['unacknowledged']} stored without an answer; "
             f"{result['connection_errors']} refused while down; "
             f"integrity_check {result['integrity_check']}") if crash else "none"
    return (f"| {name} | {database} | {result['posters']} × {result['workers']} workers × "
            f"{result['seconds']:g} s | {result['accepted']:,} ({result['replies']:,} replies) | "
            f"{result['per_second']:g} | {result['p50_ms']:g} / {result['p95_ms']:g} | "
            f"{result['server_errors']} | {extra} | {result.get('load_average', '')} |")


def section(results: dict[str, dict[str, Any]], when: datetime) -> str:
    """The Markdown between the markers."""
    lines = [
        START,
        "## Torture results",
        "",
        f"`make torture`, {when:%Y-%m-%d %H:%M} UTC, on {os.cpu_count()} cores "
        f"({platform.system()} {platform.release()}, Python {platform.python_version()}). "
        "Posters post new comments and replies to their own accepted ones through the HTTP API of "
        "gunicorn as `gunicorn.conf.py` sets it up by default, rate limits and the spam filter "
        "off; then every accepted post is looked up in the database. A run passes with no 5xx, "
        "no other refusal, no \"database is locked\" or traceback in the server's log, each 201 "
        "stored exactly once as answered, and threads' counts equal to their rows "
        "(`tests/test_torture.py`).",
        "",
        "| run | database | load | accepted (201) | per second | p50 / p95 ms | 5xx | "
        "crash | load average |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | --- | ---: |",
    ]
    lines += [_row(name, database, results.get(f"{name}/{database}")) for name, database in RUNS]
    lines += ["", *(f"- **{name}**: {what}." for name, what in WHAT.items()), END]
    return "\n".join(lines)


def replace_section(document: str, text: str) -> str:
    """`document` with its torture section replaced by `text`, or `text` appended."""
    pattern = re.compile(re.escape(START) + r".*?" + re.escape(END), re.DOTALL)
    if pattern.search(document):
        return pattern.sub(lambda _: text, document, count=1)
    return (document.rstrip() + "\n\n" if document.strip() else "") + text + "\n"


def main() -> None:
    """Read the results JSON and rewrite the section of the Markdown file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path, help="the JSON file TORTURE_REPORT named")
    parser.add_argument("document", type=Path, nargs="?", default=Path("docs/benchmarks.md"))
    args = parser.parse_args()
    results = json.loads(args.results.read_text()) if args.results.exists() else {}
    document = args.document.read_text() if args.document.exists() else ""
    args.document.parent.mkdir(parents=True, exist_ok=True)
    args.document.write_text(replace_section(document, section(results, datetime.now(UTC))))


if __name__ == "__main__":
    main()
