"""The widget on a partner's page, loaded from the comment server on another origin."""
from __future__ import annotations

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from .widget import PARTNER_PATH, comment, post, widget

# Remember the window's own names before any page script runs, to find the widget's additions.
BASELINE = """Object.defineProperty(window, "__baseline",
  { value: new Set(Object.getOwnPropertyNames(window)), enumerable: false })"""
NEW_GLOBALS = """Object.getOwnPropertyNames(window)
  .filter((name) => !window.__baseline.has(name) && name !== "__baseline")"""


@pytest.mark.browser
def test_thread_loads_and_posting_works_across_origins(
    page: Page, app: Flask, live_server: str, partner_origin: str
) -> None:
    article = f"{partner_origin}{PARTNER_PATH}"
    earlier = app.test_client().post("/api/v1/comments", headers={"Origin": partner_origin}, json={
        "site": "partner", "article": article, "author": {"name": "Grace"},
        "text": "Posted before the page was opened.",
    })
    assert earlier.status_code == 201
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.add_init_script(BASELINE)

    page.goto(f"{partner_origin}/posts/hello?utm_source=feed#comments")
    expect(comment(page, "Posted before").locator(".author")).to_have_text("Grace")
    expect(widget(page).locator(".count")).to_have_text("1 comment")

    with page.expect_response(f"{live_server}/api/v1/comments") as response:
        post(widget(page).locator("form").first, "Linus", "Hello from the partner page.")
    assert response.value.status == 201
    assert response.value.request.post_data_json["url"] == article
    assert response.value.request.post_data_json["title"] == "Partner blog"
    expect(comment(page, "Hello from the partner page").locator(".author")).to_have_text("Linus")
    expect(widget(page).locator(".count")).to_have_text("2 comments")

    page.reload()
    expect(widget(page).locator(".count")).to_have_text("2 comments")
    assert page.evaluate(NEW_GLOBALS) == ["CommentsWidget"]
    assert {url.split("/")[2] for url in requested} == {
        partner_origin.split("/")[2], live_server.split("/")[2],
    }
