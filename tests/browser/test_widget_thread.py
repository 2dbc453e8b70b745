"""The widget on the demo page: a comment, a reply to it, and the nested thread after a reload."""
from __future__ import annotations

import re

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from comments.extensions import db
from comments.models import Moderator
from comments.services.accounts import create_moderator
from comments.services.moderation import apply
from comments.services.sites import create_site

from .widget import comment, post, widget

PARENT = "Finally a way home after the late shift."
REPLY = "Same here, the N7 stops right outside the hospital."

NESTING = """() => {
  const root = document.querySelector("#comments").shadowRoot;
  const text = (item) => item.querySelector(":scope > article .body").textContent.trim();
  return [...root.querySelectorAll(".thread > li.comment")].map((item) => ({
    text: text(item),
    replies: [...item.querySelectorAll(":scope > .replies > li.comment")].map(text),
  }));
}"""


@pytest.mark.browser
def test_post_reply_and_reload_keep_the_reply_nested(page: Page, demo_origin: str) -> None:
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{demo_origin}/")
    count = widget(page).locator(".count")
    expect(count).to_have_text("No comments yet")

    post(widget(page).locator("form").first, "Ada", PARENT)
    parent = comment(page, PARENT)
    expect(parent.locator(".author")).to_have_text("Ada")
    expect(parent.locator("time")).to_have_attribute("datetime", re.compile(r"Z$"))
    expect(count).to_have_text("1 comment")

    parent.get_by_role("button", name="Reply").click()
    reply_form = parent.locator("form")
    expect(reply_form.locator("input[name=name]")).to_have_value("Ada")
    post(reply_form, "Ben", REPLY)
    expect(parent.locator(".replies li.comment .body")).to_have_text(REPLY)
    expect(reply_form).to_be_hidden()
    expect(count).to_have_text("2 comments")

    page.reload()
    expect(count).to_have_text("2 comments")
    assert page.evaluate(NESTING) == [{"text": PARENT, "replies": [REPLY]}]
    expect(comment(page, REPLY).locator(".author")).to_have_text("Ben")

    tokens = page.evaluate("Object.keys(localStorage).filter((key) => key.includes(':edit:'))")
    assert len(tokens) == 2 and all(key.startswith(f"comments:{demo_origin}:edit:") for key in tokens)
    assert requested and all(url.startswith(f"{demo_origin}/") for url in requested)


DEPTHS = """() => [...document.querySelector("#comments").shadowRoot.querySelectorAll("li.comment")]
  .map((item) => {
    let depth = 0;
    for (let list = item.parentElement; list.matches(".replies"); list = list.parentElement.parentElement) depth++;
    const text = (selector) => item.querySelector(`:scope > article ${selector}, :scope > ${selector}`)?.textContent.trim() ?? null;
    return [text(".body") ?? text(".placeholder"), depth, text(".in-reply-to")];
  })"""


@pytest.mark.browser
def test_deep_replies_stop_indenting_and_removed_ones_keep_their_place(
    page: Page, app: Flask, demo_origin: str
) -> None:
    client = app.test_client()
    ids: list[int] = []
    for level in range(7):
        response = client.post("/api/v1/comments", headers={"Origin": demo_origin}, json={
            "site": "demo", "article": "night-bus-line", "author": {"name": f"Reader {level}"},
            "text": f"Level {level}", **({"parent_id": ids[-1]} if ids else {}),
        })
        assert response.status_code == 201, response.json
        ids.append(response.json["comment"]["id"])
    with app.app_context():
        create_moderator("mod@example.org", "long enough password", "admin")
        apply(db.session.scalar(db.select(Moderator)), [ids[1]], "remove")

    page.goto(f"{demo_origin}/")
    # The page carries the chain's first three replies; the rest of the branch comes on demand.
    expect(widget(page).locator(".body", has_text="Level 3")).to_be_visible()
    expect(widget(page).locator(".body", has_text="Level 4")).to_have_count(0)
    widget(page).get_by_role("button", name="Show 3 more replies").click()
    expect(widget(page).locator(".body", has_text="Level 6")).to_be_visible()
    assert page.evaluate(DEPTHS) == [
        ["Level 0", 0, None],
        ["This comment was removed.", 1, None],
        ["Level 2", 2, None],
        ["Level 3", 3, None],
        ["Level 4", 4, None],
        ["Level 5", 4, "in reply to Reader 4"],
        ["Level 6", 4, "in reply to Reader 5"],
    ]
    expect(widget(page).get_by_role("button", name="Reply")).to_have_count(6)
