"""What readers reach without the widget: Atom feeds and the server-rendered thread page."""
from __future__ import annotations

from urllib.parse import quote, urlsplit

from flask import Blueprint, Response, abort, current_app, render_template, request, url_for

from ..errors import Invalid, NotFound
from ..models import Comment, Site
from ..services import feeds, reading
from ..services.fields import MAX_ID
from ..services.sites import get_site
from .payload import iso

bp = Blueprint("public", __name__)

ATOM = "application/atom+xml"
# Feed readers poll; five minutes of caching spares the database without making a feed stale.
FEED_MAX_AGE = 300
# Top-level comments on one page of the no-script thread page.
PAGE_SIZE = 50


@bp.get("/feeds/<slug>.atom")
def site_feed(slug: str) -> Response:
    """The newest approved comments on every article of a site, as Atom."""
    site = _site(slug)
    return _atom("feeds/site.atom", feeds.site_feed(site), feed_id=f"{_tag(site)}:comments")


@bp.get("/feeds/<slug>/thread.atom")
def thread_feed(slug: str) -> Response:
    """The newest approved comments under one article, as Atom (empty before the first one)."""
    site = _site(slug)
    article = _article()
    return _atom("feeds/thread.atom", feeds.thread_feed(site, article), article=article,
                 feed_id=f"{_tag(site)}:thread/{quote(article, safe='')}")


@bp.get("/t/<slug>")
def thread_page(slug: str) -> str:
    """A thread for readers without JavaScript, for search engines and for links from emails."""
    site = _site(slug)
    article = _article()
    cursor = request.args.get("cursor") or None
    root = request.args.get("root", type=int)
    if root is not None and not 1 <= root <= MAX_ID:
        abort(404)
    try:
        view = reading.thread_tree(site, article, limit=PAGE_SIZE, cursor=cursor, root=root)
    except Invalid:
        abort(400)
    except NotFound:
        abort(404)
    return render_template("public/thread.html", site=site, article=article, view=view,
                           cursor=cursor, root=root, iso=iso)


def _site(slug: str) -> Site:
    """The site, or the HTML 404 page (the service's NotFound would answer JSON)."""
    try:
        return get_site(slug)
    except NotFound:
        abort(404)


def _article() -> str:
    """The `article` argument, or the HTML 400 page."""
    article = request.args.get("article", "")
    if not article or len(article) > 512:
        abort(400)
    return article


def _tag(site: Site) -> str:
    """The start of a tag: URI (RFC 4151) for this server and site, stable across requests."""
    # PUBLIC_URL, when set, keeps ids the same whichever host name a feed reader used.
    host = urlsplit(current_app.config.get("PUBLIC_URL") or f"//{request.host}").hostname
    return f"tag:{host},{site.created_at:%Y-%m-%d}:{site.slug}"


def permalink(site: Site, comment: Comment) -> str:
    """A comment on its article's page, or on the no-script page when the thread has no URL."""
    fragment = f"#comment-{comment.id}"
    if comment.thread.url:
        return comment.thread.url.split("#")[0] + fragment
    return url_for(".thread_page", slug=site.slug, article=comment.thread.article_key,
                   root=comment.root_id or comment.id, _external=True) + fragment


def _atom(template: str, feed: feeds.Feed, **context: object) -> Response:
    """Render a feed as a cacheable, conditional Atom response."""
    body = render_template(template, feed=feed, site=feed.site, tag=_tag(feed.site), iso=iso,
                           updated=feeds.updated, permalink=permalink, **context)
    response = Response(body, mimetype=ATOM)
    response.cache_control.public = True
    response.cache_control.max_age = FEED_MAX_AGE
    response.add_etag()
    return response.make_conditional(request)
