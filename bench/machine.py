"""What the numbers were measured on: machine, load, versions, and the commit."""
from __future__ import annotations

import importlib.metadata
import os
import platform
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("Flask", "Werkzeug", "Flask-SQLAlchemy", "SQLAlchemy", "psycopg", "gunicorn", "bleach",
            "markdown-it-py", "matplotlib", "pyinstrument", "playwright")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory() -> str:
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        return f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        return "unknown"


def load_average() -> str:
    """The 1, 5 and 15 minute load averages."""
    one, five, fifteen = os.getloadavg()
    return f"{one:.1f} / {five:.1f} / {fifteen:.1f}"


def _git() -> str:
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                             text=True, timeout=30).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True, timeout=30).stdout.strip()
        return f"{rev} (with uncommitted changes)" if dirty else rev
    except OSError:
        return "unknown"


def _version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def database_version(url: str) -> str:
    """The database server's version string."""
    if url.startswith("sqlite"):
        return f"SQLite {sqlite3.sqlite_version}"
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return str(conn.scalar(text("SHOW server_version")))
    finally:
        engine.dispose()


def info(extra: dict[str, str]) -> dict[str, str]:
    """Everything the report's machine section lists."""
    out = {
        "CPU cores (nproc)": str(os.cpu_count()),
        "CPU model": _cpu_model(),
        "memory": _memory(),
        "kernel": platform.release(),
        "load average at start (1/5/15 min)": load_average(),
        "Python": platform.python_version(),
        "commit": _git(),
    }
    out.update({name: _version(name) for name in PACKAGES})
    out.update(extra)
    return out
