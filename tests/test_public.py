"""The Atom feeds and the no-script thread page."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from comments.extensions import db
from comments.models import Comment, CommentStatus, Moderation, Site
from comments.services import moderation
from comments.services.accounts import create_moderator
from comments.services.sites import create_site
from comments.views import public

from .conftest import make_app
from .helpers import post
from .test_api_threads import counted_queries

ATOM = "{http://www.w3.org/2005/Atom}"
EMAIL = "ada@example.org"


def posted(client: FlaskClient, **overrides: Any) -> int:
    """Post a comment on the `news` site; its id."""
    res = post(client, **overrides)
    assert res.status_code == 201, res.get_json()
    return res.get_json()["comment"]["id"]


def feed(client: FlaskClient, path: str, **headers: str) -> tuple[TestResponse, ET.Element]:
    """GET a feed and parse it as XML, which fails the test when it is not well-formed."""
    res = client.get(path, headers=headers)
    assert res.status_code == 200
    assert res.mimetype == "application/atom+xml"
    return res, ET.fromstring(res.get_data())


def entry_ids(root: ET.Element) -> list[int]:
    """The comment ids of a feed's entries, in order."""
    return [int(e.findtext(f"{ATOM}id", "").rsplit("/", 1)[1]) for e in root.iter(f"{ATOM}entry")]


def moderate(app: Flask, action: str, *comment_ids: int) -> None:
    """Apply a moderator's action to comments, as an admin would."""
    with app.app_context():
        admin = create_moderator("admin@example.net", "correct horse battery", "admin")
        moderation.apply(admin, list(comment_ids), action)


def set_site_moderation(app: Flask, mode: Moderation) -> None:
    """Switch the `news` site to pre- or post-moderation."""
    with app.app_context():
        db.session.scalar(db.select(Site)).moderation = mode
        db.session.commit()


class Anchors(HTMLParser):
    """For each `comment-ID` anchor in a page, the comment anchor that encloses it (or None)."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
            "track", "wbr"}

    def __init__(self, html: str) -> None:
        super().__init__()
        self.stack: list[tuple[str, int | None]] = []
        self.parents: dict[int, int | None] = {}
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.VOID:
            return
        ident = dict(attrs).get("id") or ""
        cid = int(ident.removeprefix("comment-")) if ident.startswith("comment-") else None
        if cid is not None:
            self.parents[cid] = next((c for _, c in reversed(self.stack) if c is not None), None)
        self.stack.append((tag, cid))

    def handle_endtag(self, tag: str) -> None:
        while self.stack and self.stack.pop()[0] != tag:
            pass


# Feeds


def test_site_feed_is_atom_with_the_newest_approved_comments_first(app: Flask, client: FlaskClient,
                                                                     site: Site) -> None:
    first = posted(client, text="First")
    other = posted(client, article="story-2", title="Story two",
                   url="https://news.example/2026/story-2", text="Elsewhere")
    removed = posted(client, text="Taken down")
    moderate(app, "remove", removed)
    set_site_moderation(app, Moderation.PRE)
    posted(client, text="Waiting")

    res, root = feed(client, "/feeds/news.atom")
    assert root.tag == f"{ATOM}feed"
    assert root.findtext(f"{ATOM}title") == "Comments on News Example"
    assert root.findtext(f"{ATOM}id", "").startswith("tag:localhost,")
    assert root.findtext(f"{ATOM}updated")
    assert entry_ids(root) == [other, first]
    entry = root.find(f"{ATOM}entry")
    assert entry is not None
    assert entry.findtext(f"{ATOM}title") == "Ada on Story two"
    assert entry.findtext(f"{ATOM}author/{ATOM}name") == "Ada"
    assert entry.findtext(f"{ATOM}published") and entry.findtext(f"{ATOM}updated")
    link = entry.find(f"{ATOM}link[@rel='alternate']")
    assert link is not None and link.get("href") == f"https://news.example/2026/story-2#comment-{other}"
    content = entry.find(f"{ATOM}content")
    assert content is not None and content.get("type") == "html"
    assert content.text and content.text.strip() == "<p>Elsewhere</p>"
    assert res.headers["Cache-Control"] == "public, max-age=300"


def test_thread_feed_holds_only_its_thread(client: FlaskClient, site: Site) -> None:
    mine = [posted(client, text=f"Mine {i}") for i in range(3)]
    posted(client, article="story-2", text="Not mine")
    _, root = feed(client, "/feeds/news/thread.atom?article=story-1")
    assert entry_ids(root) == mine[::-1]
    assert root.findtext(f"{ATOM}title") == "Comments on Story one"
    alternate = root.find(f"{ATOM}link[@rel='alternate']")
    assert alternate is not None and alternate.get("href") == "https://news.example/2026/story-1"


def test_unknown_article_is_an_empty_valid_feed(client: FlaskClient, site: Site) -> None:
    _, root = feed(client, "/feeds/news/thread.atom?article=never-commented")
    assert root.tag == f"{ATOM}feed"
    assert entry_ids(root) == []
    assert root.findtext(f"{ATOM}id") and root.findtext(f"{ATOM}updated")


def test_feeds_never_show_an_email(client: FlaskClient, site: Site) -> None:
    posted(client, author={"name": "Ada", "email": EMAIL})
    for path in ("/feeds/news.atom", "/feeds/news/thread.atom?article=story-1"):
        res, root = feed(client, path)
        assert "example.org" not in res.get_data(as_text=True)
        assert not list(root.iter(f"{ATOM}email"))


def test_feeds_escape_names_and_html(app: Flask, client: FlaskClient, site: Site) -> None:
    cid = posted(client, author={"name": "<script>alert(1)</script>"}, text="Hi")
    stored = '<p>ok</p><script>alert(2)</script><img src=x onerror="alert(3)">'
    with app.app_context():
        db.session.get(Comment, cid).html = stored
        db.session.commit()
    for path in ("/feeds/news.atom", "/feeds/news/thread.atom?article=story-1"):
        res, root = feed(client, path)
        body = res.get_data(as_text=True)
        assert "<script" not in body and "<img" not in body and "<p>" not in body
        entry = root.find(f"{ATOM}entry")
        assert entry is not None
        assert entry.findtext(f"{ATOM}content") == stored
        assert entry.findtext(f"{ATOM}author/{ATOM}name") == "<script>alert(1)</script>"


def test_feed_answers_304_while_unchanged(client: FlaskClient, site: Site) -> None:
    posted(client)
    for path in ("/feeds/news.atom", "/feeds/news/thread.atom?article=story-1"):
        res, _ = feed(client, path)
        etag = res.headers["ETag"]
        again = client.get(path, headers={"If-None-Match": etag})
        assert again.status_code == 304
        assert again.get_data() == b""
    res, _ = feed(client, "/feeds/news.atom")
    posted(client, text="Something new")
    changed = client.get("/feeds/news.atom", headers={"If-None-Match": res.headers["ETag"]})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != res.headers["ETag"]


def test_feeds_cost_the_same_queries_for_any_size(app: Flask, client: FlaskClient,
                                                  site: Site) -> None:
    paths = ("/feeds/news.atom", "/feeds/news/thread.atom?article=story-1")

    def cost() -> list[int]:
        counts = []
        for path in paths:
            with counted_queries(app) as statements:
                feed(client, path)
            counts.append(len(statements))
        return counts

    for i in range(5):
        posted(client, article=f"story-{i % 2 + 1}", text=f"Comment {i}")
    small = cost()
    for i in range(55):
        posted(client, article=f"story-{i % 3 + 1}", text=f"More {i}")
    big = cost()
    assert small == big
    assert small[0] <= 2 and small[1] <= 3
    _, root = feed(client, "/feeds/news.atom")
    assert len(entry_ids(root)) == 50


def test_feed_links_to_the_no_script_page_without_an_article_url(client: FlaskClient,
                                                                 site: Site) -> None:
    top = posted(client, article="no-url", url=None, title=None)
    reply = posted(client, article="no-url", url=None, title=None, parent_id=top)
    _, root = feed(client, "/feeds/news/thread.atom?article=no-url")
    links = [e.find(f"{ATOM}link").get("href") for e in root.iter(f"{ATOM}entry")]  # type: ignore[union-attr]
    assert links == [f"http://localhost/t/news?article=no-url&root={top}#comment-{reply}",
                     f"http://localhost/t/news?article=no-url&root={top}#comment-{top}"]
    assert root.findtext(f"{ATOM}entry/{ATOM}title") == "Ada on no-url"
    page = client.get(links[0].split("#")[0])
    assert page.status_code == 200
    assert Anchors(page.get_data(as_text=True)).parents == {top: None, reply: top}


@pytest.mark.parametrize("path", ["/feeds/nope.atom", "/feeds/nope/thread.atom?article=a",
                                  "/t/nope?article=a"])
def test_unknown_site_is_a_404_page(client: FlaskClient, site: Site, path: str) -> None:
    res = client.get(path)
    assert res.status_code == 404
    assert res.mimetype == "text/html"


@pytest.mark.parametrize("path", ["/feeds/news/thread.atom", "/t/news", "/t/news?article=",
                                  f"/t/news?article={'x' * 513}"])
def test_a_missing_article_is_a_400_page(client: FlaskClient, site: Site, path: str) -> None:
    res = client.get(path)
    assert res.status_code == 400
    assert res.mimetype == "text/html"


# The no-script thread page


def test_thread_page_nests_replies_under_anchors(client: FlaskClient, site: Site) -> None:
    a = posted(client, text="Top one")
    b = posted(client, text="Reply to one", parent_id=a)
    c = posted(client, text="Reply to the reply", parent_id=b)
    d = posted(client, text="Top two")
    res = client.get("/t/news?article=story-1")
    assert res.status_code == 200
    html = res.get_data(as_text=True)
    assert Anchors(html).parents == {a: None, b: a, c: b, d: None}
    assert '<a href="https://news.example/2026/story-1">Story one</a>' in html
    assert '<p class="count">4 comments</p>' in html
    assert '<meta name="robots" content="index">' in html
    assert ('<link rel="alternate" type="application/atom+xml" title="Comments on Story one" '
            'href="/feeds/news/thread.atom?article=story-1">') in html
    assert "<script" not in html and "style=" not in html and "<style" not in html
    assert "script-src 'self'" in res.headers["Content-Security-Policy"]


def test_thread_page_keeps_placeholders_and_hides_the_rest(app: Flask, client: FlaskClient,
                                                           site: Site) -> None:
    removed = posted(client, text="Removed with a reply")
    reply = posted(client, text="The reply stays", parent_id=removed)
    deleted = posted(client, text="Deleted with a reply")
    reply2 = posted(client, text="Another reply stays", parent_id=deleted)
    alone = posted(client, text="Removed alone")
    moderate(app, "remove", removed, alone)
    with app.app_context():
        # What the author's own delete leaves behind: no text, a placeholder for the replies.
        comment = db.session.get(Comment, deleted)
        comment.status, comment.text, comment.html = CommentStatus.DELETED, "", ""
        db.session.commit()
    set_site_moderation(app, Moderation.PRE)
    posted(client, text="Pending comment")

    html = client.get("/t/news?article=story-1").get_data(as_text=True)
    assert Anchors(html).parents == {removed: None, reply: removed, deleted: None, reply2: deleted}
    assert "This comment was removed." in html and "This comment was deleted." in html
    for hidden in ("Removed with a reply", "Removed alone", "Pending comment", "Deleted with"):
        assert hidden not in html
    assert "The reply stays" in html and "Another reply stays" in html


def test_thread_page_escapes_names_and_never_shows_emails(app: Flask, client: FlaskClient,
                                                          site: Site) -> None:
    cid = posted(client, author={"name": "<em>Eve</em>", "email": EMAIL}, text="Hello")
    with app.app_context():
        db.session.get(Comment, cid).html = "<p>stored <strong>html</strong></p>"
        db.session.commit()
    html = client.get("/t/news?article=story-1").get_data(as_text=True)
    assert "&lt;em&gt;Eve&lt;/em&gt;" in html and "<em>Eve" not in html
    assert "<p>stored <strong>html</strong></p>" in html
    assert EMAIL not in html and "example.org" not in html


def test_thread_page_pages_through_top_level_comments(client: FlaskClient, site: Site,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(public, "PAGE_SIZE", 2)
    tops = [posted(client, text=f"Top {i}") for i in range(5)]
    replies = {top: posted(client, text=f"Reply to {top}", parent_id=top) for top in tops}
    seen: list[int] = []
    url: str | None = "/t/news?article=story-1"
    pages = 0
    while url:
        html = client.get(url).get_data(as_text=True)
        parents = Anchors(html).parents
        page_tops = [cid for cid, parent in parents.items() if parent is None]
        assert all(parents[replies[top]] == top for top in page_tops)
        assert '<p class="count">10 comments</p>' in html
        seen += page_tops
        pages += 1
        assert (pages > 1) == ('>First page</a>' in html)
        start = html.find('rel="next" href="')
        url = html[start + 17:html.index('"', start + 17)].replace("&amp;", "&") if start > 0 else None
    assert seen == tops and pages == 3


def test_thread_page_refuses_a_foreign_cursor_and_root(client: FlaskClient, site: Site) -> None:
    posted(client)
    assert client.get("/t/news?article=story-1&cursor=not-ours").status_code == 400
    assert client.get("/t/news?article=story-1&root=999").status_code == 404
    assert client.get(f"/t/news?article=story-1&root={2**40}").status_code == 404


def test_thread_page_of_an_uncommented_article(client: FlaskClient, site: Site) -> None:
    res = client.get("/t/news?article=never-commented")
    assert res.status_code == 200
    html = res.get_data(as_text=True)
    assert "No comments yet" in html and "Comments on never-commented" in html
    # Any article id makes such a page: search engines need not index them.
    assert '<meta name="robots" content="noindex">' in html


def test_demo_page_links_to_the_no_script_page(client: FlaskClient) -> None:
    html = client.get("/").get_data(as_text=True)
    noscript = html[html.index("<noscript>"):html.index("</noscript>")]
    assert 'href="/t/demo?article=night-bus-line"' in noscript


def test_feed_ids_use_the_public_url_when_set(tmp_path: Path, _postgres_schema: None) -> None:
    app = make_app(tmp_path, PUBLIC_URL="https://comments.example")
    with app.app_context():
        create_site("news", "News Example", ["https://news.example"])
    client = app.test_client()
    cid = posted(client)
    _, root = feed(client, "/feeds/news.atom", Host="127.0.0.1:8000")
    assert root.findtext(f"{ATOM}id", "").startswith("tag:comments.example,")
    assert root.findtext(f"{ATOM}entry/{ATOM}id", "").endswith(f":news:comment/{cid}")
    with app.app_context():
        db.engine.dispose()


@pytest.mark.parametrize("path", ["/t/news?article=%00", "/feeds/news/thread.atom?article=%00",
                                  "/t/news?article=a%00b&cursor=%00", "/feeds/news.atom?x=%00"])
def test_a_nul_in_the_query_is_a_400_page(client: FlaskClient, site: Site, path: str) -> None:
    res = client.get(path)
    assert res.status_code == 400
    assert res.mimetype == "text/html"
