"""The public JSON API, version 1: the only interface the widget uses."""
from __future__ import annotations

import hashlib
import json
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request

from .. import limits, thread_cache
from ..errors import Forbidden, Invalid, NotFound
from ..extensions import db, limiter
from ..models import Comment, CommentStatus, Site, SiteSnapshot
from ..security import client_ip
from ..services import editing, posting, reading, reports, votes
from ..services import fields
from ..services.fields import MAX_ID
from ..services.reading import Node
from ..services.sites import any_site_allows, get_site
from .payload import iso, json_body

bp = Blueprint("api", __name__, url_prefix="/api/v1")

READER_HEADER = "X-Comments-Reader"
CORS_HEADERS = f"Content-Type, Authorization, If-None-Match, {READER_HEADER}"
CORS_EXPOSE = "ETag, Retry-After, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset"


@bp.get("/threads")
def thread() -> Response:
    """A page of an article's visible, nested thread (empty when nobody has commented yet)."""
    slug = _slug(request.args.get("site"))
    article = _article_arg()
    sort = request.args.get("sort", "oldest")
    if sort not in reading.SORTS:
        raise Invalid(f"'sort' must be one of: {', '.join(reading.SORTS)}.", "sort")
    limit = _int_arg("limit", 50, 1, 100)
    root = _int_arg("root", None, 1, MAX_ID)
    cursor = request.args.get("cursor") or None
    site, found = reading.locate(slug, article)
    _check_origin(site)
    # The version moves with every write that changes what readers see: a cheap revalidation,
    # and the key of the rendered page in this worker's cache.
    key = found and (found.id, found.created_at, found.version)
    fold = current_app.config["THREAD_FOLD_REPLIES"]
    page = (sort, limit, cursor, root, fold)
    digest = hashlib.sha256(repr((key, page)).encode()).hexdigest()[:20]
    etag = f"t{found.id}.{found.version}.{digest}" if found else f"none.{digest}"
    if request.if_none_match.contains_weak(etag):
        response = Response(status=304)
    else:
        cache = thread_cache.current()
        comments = cache.get(key, page) if key and cache.enabled else None
        if comments is None:
            view = reading.thread_tree(site, article, sort, limit=limit, cursor=cursor, root=root,
                                       thread=found, fold=fold)
            comments = _compact({"comments": [_node_json(node) for node in view.roots],
                                 "next_cursor": view.next_cursor})
            if key and cache.enabled:
                cache.put(key, page, comments)
        meta = {
            "article": article,
            "url": found.url if found else None,
            "title": found.title if found else None,
            "count": found.comment_count if found else 0,
            "closed": reading.is_closed(found),
            "downvotes": site.setting("downvotes"),
            "edit_window": site.setting("edit_window_minutes") * 60,
        }
        # The page is an object that ends in "}", so the live fields join it without re-encoding.
        response = Response(b"".join((
            comments[:-1], b',"thread":', _compact(meta),
            b',"form_token":', _compact(posting.form_token(site)), b"}",
        )), mimetype="application/json")
    response.set_etag(etag, weak=True)
    return _shared(response)


@bp.post("/comments")
@limiter.limit(limits.post_ip, key_func=limits.ip_key, deduct_when=limits.spent_by_the_view)
@limiter.limit(limits.post_email, key_func=limits.email_key, exempt_when=limits.no_email,
               deduct_when=limits.spent_by_the_view)
@limiter.limit(limits.post_thread, key_func=limits.thread_key, deduct_when=limits.spent_by_the_view)
@limits.spend_in_order(limits.ip_key, limits.email_key, limits.thread_key)
def create_comment() -> tuple[Response, int]:
    """Post a comment or a reply."""
    payload = json_body()
    site = _site(payload.get("site"))
    posted = posting.post_comment(payload, client_ip(), request.headers.get(READER_HEADER), site)
    g.post_outcome = posted.comment.status.value
    return jsonify(
        comment=_comment_json(posted.comment),
        status=posted.public_status,
        edit_token=posted.edit_token,
    ), 201


@bp.get("/comments/<id:comment_id>")
def comment(comment_id: int) -> Response:
    """One comment and its place (thread, ancestors) for deep links; the owner sees it pending."""
    found = reading_comment(comment_id, _bearer())
    _site(found.thread.site.slug)
    ancestors, root_id = reading.place(found)
    return jsonify(comment=_comment_json(found), ancestors=ancestors, root_id=root_id,
                   thread={"article": found.thread.article_key, "url": found.thread.url,
                           "title": found.thread.title})


@bp.patch("/comments/<id:comment_id>")
def edit_comment(comment_id: int) -> Response:
    """Change an own comment's text within the edit window."""
    payload = json_body()
    _site(reports.site_of(comment_id).slug)
    edited = editing.edit_comment(comment_id, _bearer(), payload, client_ip(),
                                  request.headers.get(READER_HEADER))
    status = "pending" if edited.status is CommentStatus.SPAM else edited.status.value
    return jsonify(comment=_comment_json(edited), status=status)


@bp.delete("/comments/<id:comment_id>")
def delete_comment(comment_id: int) -> Response:
    """Delete an own comment within the edit window."""
    _site(reports.site_of(comment_id).slug)
    editing.delete_comment(comment_id, _bearer())
    return jsonify(deleted=True)


@bp.post("/comments/<id:comment_id>/votes")
@limiter.limit(limits.vote, key_func=limits.ip_key)
def vote(comment_id: int) -> Response:
    """Vote a comment up (1), down (-1, where the site allows it), or take the vote back (0)."""
    payload = json_body()
    _site(reports.site_of(comment_id).slug)
    score, value = votes.vote(comment_id, payload, request.headers.get(READER_HEADER), client_ip())
    return jsonify(score=score, value=value)


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
    slug = _slug(request.args.get("site"))
    articles = list(dict.fromkeys(
        fields.string({"article": a}, "article", "article", max_len=512, required=True) or ""
        for a in request.args.getlist("article")))
    limit = current_app.config["MAX_COUNT_ARTICLES"]
    if not articles:
        raise Invalid("Name at least one 'article'.", "article")
    if len(articles) > limit:
        raise Invalid(f"At most {limit} articles a request.", "article")
    site, found = reading.counts(slug, articles)
    _check_origin(site)
    return _shared(jsonify(counts=found))


def _site(slug: object) -> Site:
    """The requested site, refusing browsers on pages outside its origins."""
    site = get_site(_slug(slug))
    _check_origin(site)
    return site


def _slug(slug: object) -> str:
    if not isinstance(slug, str) or not slug:
        raise Invalid("'site' is required: the slug of your site.", "site")
    return slug


def _check_origin(site: Site | SiteSnapshot) -> None:
    """Refuse a browser on a page outside the site's origins (and answer CORS to the others)."""
    origin = request.headers.get("Origin")
    if origin is not None and not site.allows_origin(origin):
        raise Forbidden(f"This site does not accept requests from {origin}.", "site",
                        code="origin_not_allowed")
    g.cors_origin = origin


def _shared(response: Response) -> Response:
    """Anonymous reads: any cache may keep them, browsers revalidate (ETag), proxies may wait."""
    seconds = current_app.config["SHARED_CACHE_SECONDS"]
    response.headers["Cache-Control"] = \
        f"public, max-age=0, s-maxage={seconds}" if seconds else "public, no-cache"
    return response


def _compact(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def _bearer() -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def _int_arg(name: str, default: int | None, low: int, high: int) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 10 or not low <= int(raw) <= high:
        raise Invalid(f"'{name}' is a whole number from {low} to {high}.", name)
    return int(raw)


def reading_comment(comment_id: int, token: str | None) -> Comment:
    """A published comment, or the caller's own held one when the site shows those."""
    found = db.session.get(Comment, comment_id)
    if found is None:
        raise NotFound("There is no such comment.", "comment")
    if found.status is CommentStatus.APPROVED:
        return found
    own = found.status in (CommentStatus.PENDING, CommentStatus.SPAM) and token is not None \
        and found.thread.site.setting("show_own_pending")
    if own:
        try:
            return editing.owned(comment_id, token)
        except Forbidden:
            pass
    raise NotFound("There is no such comment.", "comment")


def _article_arg() -> str:
    """The article key, checked as a post's is (so a read finds what a post stored)."""
    return fields.string(request.args, "article", "article", max_len=512, required=True) or ""


def _comment_json(comment: Comment, replies: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A comment as readers may see it: never the email, IP or source text."""
    return {
        "id": comment.id,
        "parent_id": comment.parent_id,
        "author": {"name": comment.author_name, "website": comment.author_website,
                   "verified": comment.sso_id is not None, "avatar": comment.author_avatar},
        "html": comment.html,
        "created_at": iso(comment.created_at),
        # Spam is never named to the public: its poster is told only that it awaits review.
        "status": "pending" if comment.status is CommentStatus.SPAM else comment.status.value,
        "featured": comment.featured,
        "score": comment.score,
        "edited_at": iso(comment.edited_at),
        "replies": replies or [],
    }


def _node_json(node: Node) -> dict[str, Any]:
    shown = _shown_json(node)
    if node.more:
        shown["more_replies"] = node.more
    return shown


def _shown_json(node: Node) -> dict[str, Any]:
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
        "score": 0,
        "edited_at": None,
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


@bp.get("/openapi.json")
def openapi() -> Response:
    """This API described in OpenAPI 3.1 (kept true by tests/test_openapi.py)."""
    with current_app.open_resource("static/openapi.json") as document:
        return Response(document.read(), mimetype="application/json")
