"""The error hierarchy, and the one place that turns errors into responses."""
from __future__ import annotations

import time

from flask import Flask, Response, jsonify, render_template, request
from jinja2 import TemplateNotFound
from werkzeug.exceptions import HTTPException

from .extensions import db, limiter


class ApiError(Exception):
    """A refusal a client can act on: HTTP status, machine code, human message, offending field."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code


class Malformed(ApiError):
    """The request could not be read at all."""

    status, code = 400, "malformed"


class Unauthorized(ApiError):
    """The request carries no valid credentials."""

    status, code = 401, "unauthorized"


class Forbidden(ApiError):
    """The request is understood and refused."""

    status, code = 403, "forbidden"


class NotFound(ApiError):
    """Something the request names does not exist."""

    status, code = 404, "not_found"


class Conflict(ApiError):
    """The request clashes with what exists."""

    status, code = 409, "conflict"


class UnsupportedMediaType(ApiError):
    """The body is not JSON."""

    status, code = 415, "unsupported_media_type"


class Invalid(ApiError):
    """A field has a value we refuse."""

    status, code = 422, "invalid"


def error_body(code: str, message: str, field: str | None = None) -> dict[str, dict[str, str | None]]:
    """The JSON error shape every API refusal uses."""
    return {"error": {"code": code, "message": message, "field": field}}


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def _api_error(e: ApiError) -> tuple[Response, int]:
    db.session.rollback()
    return jsonify(error_body(e.code, e.message, e.field)), e.status


def _http_error(e: HTTPException) -> Response:
    """JSON under /api/ (keeping headers such as Retry-After), a template elsewhere."""
    response = e.get_response()
    if _wants_json():
        code = (e.name or "error").lower().replace(" ", "_")
        message = e.description or e.name
        if e.code == 429:
            # The limiter adds Retry-After after this handler, so the wait is read from the limit.
            current = limiter.current_limit
            wait = max(1, int(current.reset_at - time.time())) if current else 60
            message = f"Too many requests (the limit is {e.description}). Try again in {wait} seconds."
        response.set_data(jsonify(error_body(code, message)).get_data())
        response.content_type = "application/json"
        return response
    try:
        response.set_data(render_template(f"errors/{e.code}.html", error=e))
        response.content_type = "text/html; charset=utf-8"
    except TemplateNotFound:
        pass
    return response


def _server_error(e: Exception) -> Response | tuple[Response, int] | tuple[str, int]:
    db.session.rollback()
    if _wants_json():
        return jsonify(error_body("internal", "Something went wrong on our side.")), 500
    return render_template("errors/500.html"), 500


def init_app(app: Flask) -> None:
    """Register the handlers."""
    app.register_error_handler(ApiError, _api_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(500, _server_error)
