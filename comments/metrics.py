"""Prometheus metrics: requests and latencies, comments posted by outcome, the queue's length.

Each app gets a registry of its own in `init_app`, never prometheus_client's global REGISTRY:
importing this module creates nothing, and the many apps a test run builds never register a
name twice. Under gunicorn with several workers, `PROMETHEUS_MULTIPROC_DIR` makes
prometheus_client keep each worker's values in files there, and a scrape sums them all. Any other
process (`flask db upgrade`, every CLI command, `flask run`) neither needs nor writes that
directory: with the variable set, it counts no requests at all.
"""
from __future__ import annotations

import ipaddress
import logging
import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from flask import Flask, Response, current_app, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from . import health
from .extensions import db
from .models import Comment
from .services.queue import WAITING

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
EXTENSION = "comments.metrics"
# Label values stay a bounded set: endpoint names (not raw paths), known methods, three outcomes.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
OUTCOMES = ("approved", "pending", "spam")
UNMATCHED = "unmatched"

log = logging.getLogger(__name__)


@dataclass
class Metrics:
    """One app's metrics, who may read them, and where workers' files are (multiprocess mode)."""

    registry: CollectorRegistry
    requests: Counter
    latency: Histogram
    posted: Counter
    allow: tuple[Network, ...]
    multiproc_dir: str | None


def _waiting(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(select(func.count(Comment.id)).where(WAITING)) or 0


class QueueCollector(Collector):
    """`comments_queue_length`, counted at scrape time; left out (and logged) if the DB fails."""

    def _family(self) -> GaugeMetricFamily:
        return GaugeMetricFamily("comments_queue_length",
                                 "Comments waiting for a moderator (held or reported), all sites.")

    def describe(self) -> Iterable[Metric]:
        """The family's name, without a query (the registry asks when the collector is added)."""
        return [self._family()]

    def collect(self) -> Iterator[Metric]:
        """The current count, or nothing: a database outage must not fail the whole scrape."""
        try:
            engine = db.engine
            count = health.within(health.TIMEOUT, lambda: _waiting(engine))
        except Exception as exc:
            log.warning("queue length not counted: %s: %s", type(exc).__name__, exc)
            return
        family = self._family()
        family.add_metric([], count)
        yield family


def _networks(value: object) -> tuple[Network, ...]:
    """METRICS_ALLOW as networks: a list, or a comma-separated string, of addresses and CIDRs."""
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        raise RuntimeError(f"setting METRICS_ALLOW must be a list of networks, got {value!r}")
    try:
        return tuple(ipaddress.ip_network(str(item).strip(), strict=False)
                     for item in items if str(item).strip())
    except ValueError as exc:
        raise RuntimeError(f"setting METRICS_ALLOW: {exc}") from None


def allowed(address: str) -> bool:
    """Whether a client address may read /metrics."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return any(ip in network for network in current_app.extensions[EXTENSION].allow)


def exposition() -> tuple[bytes, str]:
    """This app's metrics (every worker's, in multiprocess mode) in the text format."""
    metrics: Metrics = current_app.extensions[EXTENSION]
    registry = metrics.registry
    if metrics.multiproc_dir:
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=metrics.multiproc_dir)
        registry.register(QueueCollector())
    return generate_latest(registry), CONTENT_TYPE_LATEST


def _start() -> None:
    g.metrics_started = time.perf_counter()


def _observe(response: Response) -> Response:
    """Count the request and its latency, and a posted comment by what became of it."""
    metrics: Metrics = current_app.extensions[EXTENSION]
    endpoint = request.endpoint or UNMATCHED
    method = request.method if request.method in METHODS else "other"
    metrics.requests.labels(endpoint, method, str(response.status_code)).inc()
    started = g.get("metrics_started")
    if started is not None:
        metrics.latency.labels(endpoint, method).observe(time.perf_counter() - started)
    outcome = g.get("post_outcome")
    if outcome in OUTCOMES and response.status_code == 201:
        metrics.posted.labels(outcome).inc()
    return response


def _under_gunicorn() -> bool:
    """Whether this process is gunicorn's (its arbiter sets SERVER_SOFTWARE before forking)."""
    return os.environ.get("SERVER_SOFTWARE", "").startswith("gunicorn/")


def init_app(app: Flask) -> None:
    """Make this app's metrics and observe every request (bound early, so refusals count too)."""
    registry = CollectorRegistry()
    # prometheus_client itself switches to files on this variable, at import and in every process,
    # so the scrape must follow it; outside gunicorn no value is ever made, so no file is written.
    files = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
    multiproc_dir = os.environ["PROMETHEUS_MULTIPROC_DIR"] if files and _under_gunicorn() else None
    metrics = Metrics(
        registry=registry,
        requests=Counter("comments_http_requests", "HTTP requests answered.",
                         ("endpoint", "method", "status"), registry=registry),
        latency=Histogram("comments_http_request_duration_seconds",
                          "Time from reading a request to its response.", ("endpoint", "method"),
                          registry=registry),
        posted=Counter("comments_posted", "Comments stored, by the status they got.", ("outcome",),
                       registry=registry),
        allow=_networks(app.config["METRICS_ALLOW"]),
        multiproc_dir=multiproc_dir,
    )
    if multiproc_dir is None:
        # Per-process figures mean nothing summed over workers, so only a single process has them.
        ProcessCollector(registry=registry)
        PlatformCollector(registry=registry)
        registry.register(QueueCollector())
    app.extensions[EXTENSION] = metrics
    if files and multiproc_dir is None:
        # A CLI command or `flask run`: prometheus_client would put every value in that directory.
        return
    for outcome in OUTCOMES:
        metrics.posted.labels(outcome)
    app.before_request(_start)
    app.after_request(_observe)
