"""Votes: one per reader and comment, undone by pressing again, remembered, down-votes by site."""
from __future__ import annotations

import pytest
from flask import Flask
from playwright.sync_api import Page, Request, expect

from comments.extensions import db
from comments.models import Comment

from .widget import comment, posted, set_site_settings, widget


def is_vote(request: Request) -> bool:
    """The widget's POST of a vote."""
    return request.method == "POST" and request.url.endswith("/votes")


def score(app: Flask, comment_id: int) -> int:
    """The score the server keeps for a comment."""
    with app.app_context():
        return db.session.get(Comment, comment_id).score


@pytest.mark.browser
def test_a_vote_is_counted_undone_and_remembered(page: Page, app: Flask, demo_origin: str) -> None:
    comment_id = posted(app, demo_origin, "Ten past midnight is a good first bus.")["comment"]["id"]
    page.goto(f"{demo_origin}/")
    item = comment(page, "good first bus")
    up = item.get_by_role("button", name="Up-vote")
    points = item.locator(".score")
    expect(up).to_have_attribute("aria-pressed", "false")
    expect(points).to_have_text("0 points")
    # The site has no down-votes.
    expect(item.get_by_role("button", name="Down-vote")).to_have_count(0)

    with page.expect_request(is_vote) as request:
        up.click()
    assert request.value.post_data_json == {"value": 1}
    assert request.value.header_value("X-Comments-Reader")
    expect(up).to_have_attribute("aria-pressed", "true")
    expect(points).to_have_text("1 point")
    assert score(app, comment_id) == 1

    page.reload()
    item = comment(page, "good first bus")
    up = item.get_by_role("button", name="Up-vote")
    expect(up).to_have_attribute("aria-pressed", "true")
    expect(item.locator(".score")).to_have_text("1 point")
    # By keyboard: the button keeps the focus, and pressing it again takes the vote back.
    up.focus()
    with page.expect_request(is_vote) as request:
        page.keyboard.press("Enter")
    assert request.value.post_data_json == {"value": 0}
    expect(up).to_have_attribute("aria-pressed", "false")
    expect(item.locator(".score")).to_have_text("0 points")
    expect(up).to_be_focused()
    assert score(app, comment_id) == 0


@pytest.mark.browser
def test_down_votes_where_the_site_has_them(page: Page, app: Flask, demo_origin: str) -> None:
    comment_id = posted(app, demo_origin, "Buses at night are a waste of money.")["comment"]["id"]
    set_site_settings(app, "demo", downvotes=True)
    page.goto(f"{demo_origin}/")
    item = comment(page, "waste of money")
    up, down = item.get_by_role("button", name="Up-vote"), item.get_by_role("button", name="Down-vote")
    expect(item.get_by_role("group", name="Votes")).to_be_visible()
    down.click()
    expect(down).to_have_attribute("aria-pressed", "true")
    expect(up).to_have_attribute("aria-pressed", "false")
    expect(item.locator(".score")).to_have_text("-1 point")
    up.click()
    expect(up).to_have_attribute("aria-pressed", "true")
    expect(down).to_have_attribute("aria-pressed", "false")
    expect(item.locator(".score")).to_have_text("1 point")
    assert score(app, comment_id) == 1

    # Down-votes switched off while the page is open: the server's refusal is told in words.
    set_site_settings(app, "demo", downvotes=False)
    down.click()
    expect(item.get_by_role("alert")).to_have_text("This site does not take down-votes.")
    expect(up).to_have_attribute("aria-pressed", "true")
    assert score(app, comment_id) == 1
