"""Reading a request's JSON body once, for the views and for the rate-limit keys that run first."""
from __future__ import annotations

import json
from typing import Any

from flask import g, request

from .errors import ApiError, Malformed, UnsupportedMediaType


def json_body() -> dict[str, Any]:
    """The request's JSON object, read whole and checked against its declared length (once)."""
    if "json_body" not in g:
        try:
            g.json_body = _read_json()
        except ApiError as e:
            g.json_body = e
    if isinstance(g.json_body, ApiError):
        raise g.json_body
    return g.json_body


def cached_json() -> dict[str, Any]:
    """The body for rate-limit keys, which run before the view: empty when it is not valid."""
    try:
        return json_body()
    except ApiError:
        return {}


def _read_json() -> dict[str, Any]:
    if request.mimetype != "application/json":
        raise UnsupportedMediaType("Send the body as application/json.")
    data = request.get_data(cache=False)
    if request.content_length is not None and len(data) != request.content_length:
        raise Malformed("The body is shorter than its Content-Length.")
    try:
        payload = json.loads(data)
    except (ValueError, RecursionError):
        raise Malformed("The body is not valid JSON.") from None
    if not isinstance(payload, dict):
        raise Malformed("The body must be a JSON object.")
    return payload
