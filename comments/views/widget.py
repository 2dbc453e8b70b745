"""The reader-facing widget's assets, the counts script, and the demo pages that embed them."""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, current_app, render_template, send_from_directory

from ..paths import PACKAGE

bp = Blueprint("widget", __name__)

WIDGET_DIR = PACKAGE / "static" / "widget"
# The widget as readers get it: its modules bundled and minified by `make widget` (esbuild); a
# wheel carries the bundle (the build runs `make widget`, or fails).
WIDGET_BUILD = WIDGET_DIR / "dist"
# Short enough that a deploy reaches every reader within minutes; ETags make revalidation cheap.
MAX_AGE = 300
MIMETYPES = {".js": "text/javascript", ".css": "text/css", ".json": "application/json"}


@bp.get("/widget.js")
def widget_js() -> Response:
    """The embed script a site includes with one script tag (the bundle `make widget` builds)."""
    if not (WIDGET_BUILD / "widget.js").is_file():
        current_app.logger.error("The widget is not built: run `make widget` (see the Makefile).")
    return _asset("widget.js", WIDGET_BUILD)


@bp.get("/count.js")
def count_js() -> Response:
    """The script a listing page includes to show each teaser's comment count."""
    return _asset("count.js")


@bp.get("/widget/<path:filename>")
def widget_asset(filename: str) -> Response:
    """The stylesheet that widget.js loads, from the build."""
    return _asset(filename, WIDGET_BUILD)


@bp.get("/")
def demo() -> str:
    """A demo news article with the widget embedded as a site would embed it."""
    return render_template("public/demo.html")


@bp.get("/listing")
def listing() -> str:
    """A demo front page whose teasers show their comment counts through count.js."""
    return render_template("public/listing.html")


def _asset(filename: str, directory: Path = WIDGET_DIR) -> Response:
    """A widget file, cacheable by anyone and readable from any page that embeds the widget."""
    response = send_from_directory(directory, filename, max_age=MAX_AGE)
    response.cache_control.public = True
    mimetype = MIMETYPES.get(Path(filename).suffix)
    if mimetype:
        response.mimetype = mimetype
    # The stylesheet is fetched in CORS mode from other sites' pages.
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response
