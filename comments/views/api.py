"""The public JSON API, version 1: the only interface the widget uses."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request

from .. import limits
from ..errors import Forbidden, Invalid
from ..extensions import limiter
from ..models import Comment, Site
from ..security import client_ip
from ..services import posting, reading, reports
from ..services.reading import Node
from ..services.sites import any_site_allows, get_site
from .payload import iso, json_body

bp = Blueprint("api", __name__, url_prefix="/api/v1")

READER_HEADER = "X-Comments-Reader"
CORS_HEADERS = f"Content-Type, Authorization, {READER_HEADER}"
CORS_EXPOSE = "ETag, Retry-After, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset"


@bp.get("/threads")
def thread() -> Response:
    """The visible, nested thread of an article (an empty one when nobody has commented yet)."""
    site = _site(request.args.get("site"))
    article = _article_arg()
    sort = request.args.get("sort", "oldest")
    if sort not in reading.SORTS:
        raise Invalid(f"'sort' must be one of: {', '.join(reading.SORTS)}.", "sort")
    view = reading.thread_tree(site, article, sort)
    thread = view.thread
    return jsonify(
        thread={
            "article": article,
            "url": thread.url if thread else None,
            "title": thread.title if thread else None,
            "count": view.count,
        },
        comments=[_node_json(node) for node in view.roots],
        form_token=posting.form_token(site),
    )


@bp.post("/comments")
@limiter.limit(limits.post_ip, key_func=limits.ip_key)
@limiter.limit(limits.post_email, key_func=limits.email_key, exempt_when=limits.no_email)
@limiter.limit(limits.post_thread, key_func=limits.thread_key)
def create_comment() -> tuple[Response, int]:
    """Post a comment or a reply."""
    payload = json_body()
    _site(payload.get("site"))
    posted = posting.post_comment(payload, client_ip(), request.headers.get(READER_HEADER))
    return jsonify(
        comment=_comment_json(posted.comment),
        status=posted.public_status,
        edit_token=posted.edit_token,
    ), 201


@bp.post("/comments/<id:comment_id>/reports")
@limiter.limit(limits.report, key_func=limits.ip_key)
def report_comment(comment_id: int) -> tuple[Response, int]:
    """Report a published comment to the moderators (once per reader)."""
    payload = json_body()
    comment_site = reports.site_of(comment_id)
    _site(comment_site.slug)
    created = reports.report(comment_site, comment_id, payload, request.headers.get(READER_HEADER),
                             client_ip())
    return jsonify(reported=True), 201 if created else 200


@bp.get("/counts")
def counts() -> Response:
    """Approved-comment counts of up to MAX_COUNT_ARTICLES articles of one site."""
    site = _site(request.args.get("site"))
    articles = list(dict.fromkeys(request.args.getlist("article")))
    limit = current_app.config["MAX_COUNT_ARTICLES"]
    if not articles:
        raise Invalid("Name at least one 'article'.", "article")
    if len(articles) > limit:
        raise Invalid(f"At most {limit} articles a request.", "article")
    if any(not a or len(a) > 512 for a in articles):
        raise Invalid("An 'article' is 1-512 characters.", "article")
    return jsonify(counts=reading.counts(site, articles))


def _site(slug: object) -> Site:
    """The requested site, refusing browsers on pages outside its origins."""
    if not isinstance(slug, str) or not slug:
        raise Invalid("'site' is required: the slug of your site.", "site")
    site = get_site(slug)
    origin = request.headers.get("Origin")
    if origin is not None and not site.allows_origin(origin):
        raise Forbidden(f"This site does not accept requests from {origin}.", "site",
                        code="origin_not_allowed")
    g.cors_origin = origin
    return site


def _article_arg() -> str:
    article = request.args.get("article", "")
    if not article or len(article) > 512:
        raise Invalid("'article' is required, 1-512 characters.", "article")
    return article


def _comment_json(comment: Comment, replies: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A comment as readers may see it: never the email, IP or source text."""
    return {
        "id": comment.id,
        "parent_id": comment.parent_id,
        "author": {"name": comment.author_name, "website": comment.author_website},
        "html": comment.html,
        "created_at": iso(comment.created_at),
        "status": comment.status.value,
        "featured": comment.featured,
        "replies": replies or [],
    }


def _node_json(node: Node) -> dict[str, Any]:
    replies = [_node_json(child) for child in node.replies]
    if node.visible and node.comment is not None:
        return _comment_json(node.comment, replies)
    return {
        "id": node.id,
        "parent_id": node.comment.parent_id if node.comment else None,
        "author": None,
        "html": None,
        "created_at": iso(node.created_at),
        "status": "deleted" if node.status.value == "deleted" else "removed",
        "featured": False,
        "replies": replies,
    }


@bp.after_request
def cors(response: Response) -> Response:
    """Let browsers read answers only on pages of a configured origin."""
    response.vary.add("Origin")
    origin = request.headers.get("Origin")
    if origin and (g.get("cors_origin") == origin or any_site_allows(origin)):
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Expose-Headers"] = CORS_EXPOSE
        if request.method == "OPTIONS":
            response.headers["Access-Control-Allow-Methods"] = "GET, POST, PATCH, DELETE"
            response.headers["Access-Control-Allow-Headers"] = CORS_HEADERS
            response.headers["Access-Control-Max-Age"] = "600"
    return response
