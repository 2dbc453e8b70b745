"""An article's title and URL: taken from the site's own pages, cleaned, kept current, logged."""
from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from comments.extensions import db
from comments.models import AuditEntry, Thread

from .helpers import post

pytestmark = pytest.mark.usefixtures("site")


def thread_of(app: Flask, article: str = "story-1") -> tuple[str | None, str | None]:
    """The stored (url, title) of an article's thread."""
    with app.app_context():
        found = db.session.scalar(db.select(Thread).filter_by(article_key=article))
        return found.url, found.title


def meta_log(app: Flask) -> list[dict[str, Any]]:
    """The details of every logged change of an article's title or URL, oldest first."""
    with app.app_context():
        return [entry.detail for entry in db.session.scalars(
            db.select(AuditEntry).filter_by(action="article_update").order_by(AuditEntry.id))]


@pytest.mark.parametrize(("sent", "kept"), [
    ("https://news.example/story?id=3&next=//evil.example", "https://news.example/story?id=3"),
    ("https://news.example/story?go=https://evil.example/x&id=3", "https://news.example/story?id=3"),
    ("https://news.example/story?r=%2F%2Fevil.example&to=%5C%5Cevil.example",
     "https://news.example/story"),
    ("https://news.example/story?to=/%5Cevil.example&x=javascript:alert(1)",
     "https://news.example/story"),
    ("https://news.example/story?page=2&at=10:30&q=a+b", "https://news.example/story?page=2&at=10:30&q=a+b"),
    ("https://news.example/story#comment-4", "https://news.example/story"),
    ("https://someone:secret@news.example/story", "https://news.example/story"),
    ("HTTPS://NEWS.example:443/story", "https://news.example/story"),
    ("https://news.example", "https://news.example/"),
])
def test_an_article_url_keeps_only_scheme_host_path_and_a_safe_query(
    app: Flask, client: FlaskClient, sent: str, kept: str
) -> None:
    assert post(client, url=sent).status_code == 201
    assert thread_of(app)[0] == kept


def test_an_article_url_a_browser_reads_as_another_host_is_stored_on_the_sites_host(
    app: Flask, client: FlaskClient
) -> None:
    # Python reads the host after the "@"; a browser ends the host at the backslash.
    assert post(client, url="https://evil.example\\@news.example/story").status_code == 201
    assert thread_of(app)[0] == "https://news.example/story"


@pytest.mark.parametrize("url", [
    "https://news.example:8443/story", "http://news.example/story",
    "https://news.example.evil.example/story", "javascript://news.example/%0aalert(1)",
])
def test_an_article_url_off_the_sites_origins_is_refused(client: FlaskClient, url: str) -> None:
    res = post(client, url=url)
    assert res.status_code == 422
    assert res.get_json()["error"]["field"] == "url"


def test_invisible_and_bidirectional_characters_are_stripped_from_the_title(
    app: Flask, client: FlaskClient
) -> None:
    assert post(client, title="Story\u202e\u200b one\u2066  \u00a0 told").status_code == 201
    assert thread_of(app)[1] == "Story one told"


def test_a_later_post_from_the_page_updates_title_and_url_and_logs_the_change(
    app: Flask, client: FlaskClient
) -> None:
    assert post(client, title="Story one", url="https://news.example/draft/story").status_code == 201
    assert post(client, title="Story one, updated", url="https://news.example/2026/story").status_code == 201
    assert thread_of(app) == ("https://news.example/2026/story", "Story one, updated")
    assert meta_log(app) == [{"article": "story-1", "thread": 1,
                              "title": ["Story one", "Story one, updated"],
                              "url": ["https://news.example/draft/story", "https://news.example/2026/story"]}]
    body = client.get("/api/v1/threads", query_string={"site": "news", "article": "story-1"}).get_json()
    assert (body["thread"]["title"], body["thread"]["url"]) == (
        "Story one, updated", "https://news.example/2026/story")


def test_a_post_with_the_same_or_no_title_and_url_changes_and_logs_nothing(
    app: Flask, client: FlaskClient
) -> None:
    assert post(client).status_code == 201
    before = thread_of(app)
    assert post(client, url="https://news.example/2026/story-1#c1").status_code == 201
    assert post(client, url=None, title=None).status_code == 201
    assert thread_of(app) == before
    assert meta_log(app) == []
