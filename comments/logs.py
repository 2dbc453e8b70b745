"""Logging: one JSON line per request, under a request id that is also sent as X-Request-ID."""
from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, current_app, g, has_request_context, request
from flask.logging import default_handler

from .security import client_ip

HEADER = "X-Request-ID"
# A client's id is taken only when trusted and of this shape: it goes into logs and headers as is.
WELL_FORMED = re.compile(r"[A-Za-z0-9._-]{1,64}")
USER_AGENT_MAX = 200
PATH_MAX = 512
# A route argument named like this is a secret (a signed link): the route's pattern is logged instead.
SECRET_ARG = re.compile(r"token|secret|signature", re.IGNORECASE)
# Escaped in plain lines: C0 and C1 controls, Unicode's line and paragraph separators, backslash.
UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\\]")

request_log = logging.getLogger("comments.request")


class RequestIdFilter(logging.Filter):
    """Give a record logged during a request that request's id, as `request_id`."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Add the id; never drop a record."""
        if getattr(record, "request_id", None) is None and has_request_context():
            record.request_id = g.get("request_id")
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, request id, the record's `fields`."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as a line of JSON (a traceback included, escaped onto the same line)."""
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if getattr(record, "request_id", None):
            line["request_id"] = record.request_id
        line.update(getattr(record, "fields", {}))
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def _escape(text: str) -> str:
    """`text` with control characters, line separators and backslashes written as Python escapes."""
    return UNPRINTABLE.sub(lambda match: repr(match.group())[1:-1], text)


class TextFormatter(logging.Formatter):
    """For people at a terminal: the usual line, then the request id and the fields as key=value.

    A client's text (a path with %0A) must not start a line of its own that reads like a record:
    the line is escaped, and the lines of a traceback below it are indented.
    """

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 (logging's API)
        """The record's line, escaped."""
        return _escape(super().formatMessage(record))

    def format(self, record: logging.LogRecord) -> str:
        """The record on one line, its traceback (if any) below, indented."""
        extra = {"request_id": getattr(record, "request_id", None), **getattr(record, "fields", {})}
        pairs = " ".join(f"{key}={json.dumps(value, default=str)}"
                         for key, value in extra.items() if value is not None)
        head, _, rest = super().format(record).partition("\n")
        below = "".join(f"\n  {_escape(line)}" for line in rest.splitlines())
        return f"{head} {pairs}{below}"


class _Handler(logging.StreamHandler):  # type: ignore[type-arg]
    """Ours, told apart from an operator's so that a new app replaces it instead of adding one."""


def _level(value: object) -> int:
    level = value if isinstance(value, int) else logging.getLevelName(str(value).upper())
    if isinstance(value, bool) or not isinstance(level, int):
        raise RuntimeError(f"setting LOG_LEVEL must be a level such as INFO, got {value!r}")
    return level


def _configure(app: Flask) -> None:
    """Level the `comments` loggers; unless logging is set up elsewhere, send every record
    (ours and the libraries', such as Flask-Limiter's Redis warnings) to stderr in our format."""
    for key in ("LOG_JSON", "TRUST_REQUEST_ID"):
        if not isinstance(app.config[key], bool):
            raise RuntimeError(f"setting {key} must be true or false, got {app.config[key]!r}")
    logger, root = app.logger, logging.getLogger()  # app.logger is "comments", the package's parent
    logger.setLevel(_level(app.config["LOG_LEVEL"]))
    if not any(isinstance(f, RequestIdFilter) for f in logger.filters):
        logger.addFilter(RequestIdFilter())
    for handler in [h for h in root.handlers if isinstance(h, _Handler)]:
        root.removeHandler(handler)
    # An operator's handlers (a dictConfig, gunicorn's --log-config) stay in charge.
    if root.handlers or [h for h in logger.handlers if h is not default_handler]:
        return
    handler = _Handler(sys.stderr)
    handler.setFormatter(JsonFormatter() if app.config["LOG_JSON"] else TextFormatter())
    handler.addFilter(RequestIdFilter())
    logger.removeHandler(default_handler)
    root.addHandler(handler)


def _request_id() -> str:
    """The client's id when trusted and well-formed, else a new one."""
    given = request.headers.get(HEADER, "")
    if current_app.config["TRUST_REQUEST_ID"] and WELL_FORMED.fullmatch(given):
        return given
    return uuid.uuid4().hex


def _begin() -> None:
    g.request_id = _request_id()
    g.log_started = time.perf_counter()


def _path() -> str:
    """The path without its query string (which may carry emails or tokens), secrets masked."""
    rule, args = request.url_rule, request.view_args or {}
    if rule is not None and any(SECRET_ARG.search(name) for name in args):
        return rule.rule
    return request.path[:PATH_MAX]


def _finish(response: Response) -> Response:
    """Send the id back and log the request: what, how it ended, how long, from where."""
    request_id = g.setdefault("request_id", uuid.uuid4().hex)
    response.headers[HEADER] = request_id
    started = g.get("log_started")
    fields = {
        "method": request.method,
        "path": _path(),
        "endpoint": request.endpoint,
        "status": response.status_code,
        "duration_ms": round((time.perf_counter() - started) * 1000, 1) if started else None,
        "size": response.content_length,
        "ip": client_ip(),
        "user_agent": (request.user_agent.string or "")[:USER_AGENT_MAX],
    }
    request_log.info("%s %s %s", fields["method"], fields["path"], fields["status"],
                     extra={"request_id": request_id, "fields": fields})
    return response


def init_app(app: Flask) -> None:
    """Set up logging and the request id; bound first, so even a request the limiter refuses is
    logged with its id, and its line is written last, with the final status and headers."""
    _configure(app)
    app.before_request(_begin)
    app.after_request(_finish)
