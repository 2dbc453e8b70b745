"""Gunicorn in production: `gunicorn wsgi:app` reads this file from the working directory.

A wheel carries it as comments/gunicorn.conf.py (comments.paths.GUNICORN_CONF says where), for
`gunicorn -c PATH 'comments:create_app()'`. It imports nothing of the service: with the app loaded
only in the workers, gunicorn's HUP starts workers on the code installed since.
Every value can be overridden on the command line; the ones read from the environment are named.
"""
from __future__ import annotations

import os
import re
from typing import Any

from prometheus_client import multiprocess

# Where to listen: COMMENTS_BIND (e.g. "unix:/run/comments.sock" or "0.0.0.0:8000"), else
# 0.0.0.0:$PORT where a platform assigns the port (gunicorn's own rule), else loopback only.
bind = [os.environ.get("COMMENTS_BIND")
        or (f"0.0.0.0:{os.environ['PORT']}" if os.environ.get("PORT") else "127.0.0.1:8000")]

# Worker processes: WEB_CONCURRENCY, else 2 per core plus one, at most 8. Every worker has its own
# database pool, so past a few per machine PostgreSQL's connection limit is the real ceiling.
workers = int(os.environ.get("WEB_CONCURRENCY") or min(2 * (os.cpu_count() or 1) + 1, 8))

# Threads per worker (COMMENTS_THREADS). 1 keeps sync workers: one request per process, behind the
# buffering proxy every deployment needs (docs/nginx.conf): without it, a client that sends half a
# request holds a worker until `timeout`. More switch to gthread workers, worth it when requests
# mostly wait on PostgreSQL or Redis, and safe only if everything a request calls is thread-safe.
threads = int(os.environ.get("COMMENTS_THREADS") or 1)
worker_class = "gthread" if threads > 1 else "sync"

# A worker silent this long is killed and replaced; no request of ours should come near it.
timeout = 30
# On a restart or stop, workers get this long to finish the requests they are serving.
graceful_timeout = 20
# Seconds an idle keep-alive connection (from the proxy) stays open.
keepalive = 5

# Each worker is replaced after about this many requests (a bound on slow leaks); the jitter keeps
# the workers from all restarting at once.
max_requests = 1000
max_requests_jitter = 100

# Each worker builds the app itself after the fork, so no database connection or Redis client is
# ever shared between processes.
preload_app = False

# Gunicorn's access log stays off: the app writes one JSON line per request (comments/logs.py).
# Gunicorn's own messages (start, stop, worker deaths) go to stderr.
accesslog = None
errorlog = "-"
loglevel = "info"

# Trust no client's X-Forwarded-* here: the app's ProxyFix believes exactly COMMENTS_PROXY_COUNT
# proxies (comments/security.py), and one rule in one place is easier to get right than two.
forwarded_allow_ips = ""

# The worker heartbeat on a memory-backed file system: a disk-backed /tmp can stall it under load.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None


# prometheus_client's files in PROMETHEUS_MULTIPROC_DIR (one directory per gunicorn master).
METRICS_FILE = re.compile(r"(counter|gauge|histogram|summary)_.+\.db")


def _multiproc_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def on_starting(server: Any) -> None:
    """Make the metrics directory, or empty it of a previous run's files (their counts would be
    added to this run's)."""
    if path := _multiproc_dir():
        os.makedirs(path, exist_ok=True)
        for name in os.listdir(path):
            if METRICS_FILE.fullmatch(name):
                os.remove(os.path.join(path, name))


def child_exit(server: Any, worker: Any) -> None:
    """Tell prometheus_client a worker is gone, so its live gauges stop being reported."""
    if _multiproc_dir():
        multiprocess.mark_process_dead(worker.pid)
