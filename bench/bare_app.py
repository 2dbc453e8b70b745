"""The floor: a minimal Flask app on the same gunicorn settings as ours.

`gunicorn 'bench.bare_app:create_app("/path/thread.json")'`: GET /constant answers a small constant
JSON object (the least any Flask service does per request), GET /prebuilt the bytes of a real
200-comment thread read, saved by bench/run.py (what a perfect cache of that read would serve).
"""
from __future__ import annotations

from pathlib import Path

from flask import Flask, Response, jsonify


def create_app(prebuilt: str | None = None) -> Flask:
    """The reference app; `prebuilt` names the file whose bytes /prebuilt returns."""
    app = Flask(__name__)
    body = Path(prebuilt).read_bytes() if prebuilt else b"{}"

    @app.get("/constant")
    def constant() -> Response:
        """A small JSON object, serialized per request like any JSON view."""
        return jsonify(counts={"a": 3, "b": 0}, ok=True)

    @app.get("/prebuilt")
    def prebuilt_response() -> Response:
        """A response built once: bytes the size of the 200-comment thread."""
        return Response(body, mimetype="application/json")

    return app
