"""The reader-facing widget's assets and the demo article page that embeds it."""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, render_template, send_from_directory

bp = Blueprint("widget", __name__)

WIDGET_DIR = Path(__file__).resolve().parent.parent / "static" / "widget"
# Short enough that a deploy reaches every reader within minutes; ETags make revalidation cheap.
MAX_AGE = 300
MIMETYPES = {".js": "text/javascript", ".css": "text/css", ".json": "application/json"}


@bp.get("/widget.js")
def widget_js() -> Response:
    """The embed script a site includes with one script tag."""
    return _asset("widget.js")


@bp.get("/widget/<path:filename>")
def widget_asset(filename: str) -> Response:
    """The modules, stylesheet and message catalogs that widget.js loads."""
    return _asset(filename)


@bp.get("/")
def demo() -> str:
    """A demo news article with the widget embedded as a site would embed it."""
    return render_template("public/demo.html")


def _asset(filename: str) -> Response:
    """A widget file, cacheable by anyone and readable from any page that embeds the widget."""
    response = send_from_directory(WIDGET_DIR, filename, max_age=MAX_AGE)
    response.cache_control.public = True
    mimetype = MIMETYPES.get(Path(filename).suffix)
    if mimetype:
        response.mimetype = mimetype
    # The modules and the stylesheet are fetched in CORS mode from other sites' pages.
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response
