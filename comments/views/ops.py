"""Operations: the health check for load balancers, and the metrics for Prometheus."""
from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, jsonify

from .. import __version__, health, metrics
from ..extensions import db
from ..security import client_ip

bp = Blueprint("ops", __name__)


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    """200 when the database (and Redis, when configured) answers; else 503 naming what did not.
    Either way the answer names the release running (so a deploy can be checked)."""
    parts = health.check(db.engine, current_app.config.get("REDIS_URL"))
    ok = health.healthy(parts)
    response = jsonify(status="ok" if ok else "error", version=__version__, **parts)
    response.cache_control.no_store = True
    return response, 200 if ok else 503


@bp.get("/metrics", endpoint="metrics")
def scrape() -> Response:
    """The metrics in Prometheus' text format, for the addresses in METRICS_ALLOW."""
    if not metrics.allowed(client_ip()):
        abort(403)
    body, content_type = metrics.exposition()
    response = Response(body, content_type=content_type)
    response.cache_control.no_store = True
    return response
