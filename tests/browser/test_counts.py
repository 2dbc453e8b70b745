"""count.js on listing pages: every count filled, with as few requests to the counts API as it can."""
from __future__ import annotations

import gzip
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import Page, expect

from comments.services.sites import create_site

from .conftest import WSGIApp, serving
from .test_widget_cross_origin import BASELINE, NEW_GLOBALS

COUNT_JS = Path(__file__).resolve().parents[2] / "comments" / "static" / "widget" / "count.js"
COUNTS_API = "/api/v1/counts"
# Comments posted before the listing opens, per demo article; every other teaser has none.
POSTED = {"night-bus-line": 3, "county-cup-final": 1, "mill-lane-flats": 2, "college-results": 12}


def post_comments(client: FlaskClient, origin: str, site: str, counts: dict[str, int]) -> None:
    """Post `counts[article]` approved comments under each article, as that site's page would."""
    for article, n in counts.items():
        for i in range(n):
            res = client.post("/api/v1/comments", headers={"Origin": origin}, json={
                "site": site, "article": article, "author": {"name": "Reader"},
                "text": f"Comment {i} on {article}",
            })
            assert res.status_code == 201, res.get_json()


def words(n: int) -> str:
    """The English text of a count."""
    return f"{n} comment" if n == 1 else f"{n} comments"


def counts_requests(requested: list[str]) -> list[str]:
    """The requested URLs that went to the counts API."""
    return [url for url in requested if COUNTS_API in url]


ELEMENTS = """() => [...document.querySelectorAll("[data-comments-count]")].map((el) =>
  [el.dataset.site || "", el.dataset.article, el.dataset.commentsCount, el.textContent])"""


def test_count_js_is_small_and_served_for_other_sites(client: FlaskClient) -> None:
    assert len(gzip.compress(COUNT_JS.read_bytes(), 9)) < 2048
    with client.get("/count.js") as res:
        assert res.status_code == 200
        assert res.mimetype == "text/javascript"
        assert res.headers["Access-Control-Allow-Origin"] == "*"
        assert res.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
        assert "public" in res.headers["Cache-Control"]


@pytest.mark.browser
def test_listing_shows_every_count_after_one_request(page: Page, app: Flask,
                                                     demo_origin: str) -> None:
    post_comments(app.test_client(), demo_origin, "demo", POSTED)
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.add_init_script(BASELINE)

    page.goto(f"{demo_origin}/listing")
    expect(page.locator("[data-comments-count]").first).to_have_text("3 comments")
    expect(page.locator("[data-article='college-results']")).to_have_text("12 comments")
    expect(page.locator("[data-article='letters-bins-cinema']")).to_have_text("0 comments")
    page.wait_for_load_state("networkidle")

    elements = page.evaluate(ELEMENTS)
    assert len({article for _, article, _, _ in elements}) == 20
    for _, article, mode, text in elements:
        n = POSTED.get(article, 0)
        assert text == (str(n) if mode == "number" else words(n)), article
    (request,) = counts_requests(requested)
    assert request.startswith(f"{demo_origin}{COUNTS_API}?site=demo&article=night-bus-line&")
    assert request.count("&article=") == 20
    assert all(url.startswith(f"{demo_origin}/") for url in requested)
    assert page.evaluate(NEW_GLOBALS) == []


def listing_page(script_url: str, articles: dict[str, list[str]]) -> WSGIApp:
    """A partner's German listing with a count element per (site, article), count.js from elsewhere."""
    spans = "".join(
        f'<li><span data-comments-count data-site="{site}" data-article="{article}">…</span></li>'
        for site, names in articles.items() for article in names
    )

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        html = (
            '<!doctype html><html lang="de-DE"><head><meta charset="utf-8"><title>Startseite</title>'
            '<link rel="icon" href="data:,"></head><body><h1>Partnerblatt</h1><ul>'
            f'{spans}<li><b data-comments-count="number" data-article="a2">…</b></li></ul>'
            f'<script src="{script_url}" data-site="partner" async></script></body></html>'
        ).encode()
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8"),
                                  ("Content-Length", str(len(html)))])
        return [html]

    return app


@pytest.fixture
def listing_origin(app: Flask, live_server: str) -> Iterator[str]:
    """A German listing on a second origin: 150 articles of `partner`, two of `other`, and one of
    `stranger`, a site that does not list the page's origin."""
    articles = {"partner": [f"a{i}" for i in range(1, 151)], "other": ["x", "y"],
                "stranger": ["z"]}
    with serving(listing_page(f"{live_server}/count.js", articles)) as origin:
        with app.app_context():
            create_site("partner", "Partner", [origin])
            create_site("other", "Other", [origin])
            create_site("stranger", "Stranger", ["https://stranger.example"])
        yield origin


@pytest.mark.browser
def test_counts_across_origins_per_site_and_hundred(page: Page, app: Flask, live_server: str,
                                                    listing_origin: str) -> None:
    client = app.test_client()
    post_comments(client, listing_origin, "partner", {"a1": 1, "a2": 2, "a150": 1})
    post_comments(client, listing_origin, "other", {"x": 3})
    post_comments(client, "https://stranger.example", "stranger", {"z": 1})
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.add_init_script(BASELINE)

    page.goto(f"{listing_origin}/")
    expect(page.locator("[data-article='a150']")).to_have_text("1 Kommentar")
    expect(page.locator("[data-site='partner'][data-article='a2']")).to_have_text("2 Kommentare")
    expect(page.locator("[data-comments-count='number']")).to_have_text("2")
    expect(page.locator("[data-article='x']")).to_have_text("3 Kommentare")
    page.wait_for_load_state("networkidle")

    texts = {(site, article): text for site, article, _, text in page.evaluate(ELEMENTS) if site}
    assert texts[("partner", "a1")] == "1 Kommentar"
    assert texts[("partner", "a3")] == texts[("partner", "a149")] == "0 Kommentare"
    assert texts[("other", "y")] == "0 Kommentare"
    # The site that does not list this page's origin is refused; its element keeps the page's text.
    assert texts[("stranger", "z")] == "…"
    calls = counts_requests(requested)
    assert sorted(url.split("?site=")[1].split("&")[0] for url in calls) == [
        "other", "partner", "partner", "stranger"]
    assert sorted(url.count("&article=") for url in calls) == [1, 2, 50, 100]
    assert all(url.startswith(f"{live_server}{COUNTS_API}?") for url in calls)
    assert page.evaluate(NEW_GLOBALS) == []


@pytest.mark.browser
def test_long_article_ids_split_the_request_before_the_url_gets_too_long(
    page: Page, app: Flask, live_server: str
) -> None:
    articles = [f"https://partner.example/2026/11/a-rather-long-headline-made-into-a-slug-{i}"
                for i in range(60)]
    with serving(listing_page(f"{live_server}/count.js", {"partner": articles})) as origin:
        with app.app_context():
            create_site("partner", "Partner", [origin])
        post_comments(app.test_client(), origin, "partner", {articles[0]: 1, articles[-1]: 2})
        requested: list[str] = []
        page.on("request", lambda request: requested.append(request.url))
        page.goto(f"{origin}/")
        expect(page.locator(f"[data-article='{articles[-1]}']")).to_have_text("2 Kommentare")
        expect(page.locator(f"[data-article='{articles[0]}']")).to_have_text("1 Kommentar")
        expect(page.locator(f"[data-article='{articles[30]}']")).to_have_text("0 Kommentare")
        page.wait_for_load_state("networkidle")
    calls = counts_requests(requested)
    assert len(calls) > 1 and all(len(url) <= 4000 for url in calls)
    asked = [unquote(part) for url in calls for part in url.split("&article=")[1:]]
    # Each id once, plus the page's bare-number element (article a2).
    assert sorted(asked) == sorted([*articles, "a2"])
