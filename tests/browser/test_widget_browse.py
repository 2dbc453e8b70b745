"""Finding one's way in a thread: order, pages, folded replies, featured comments, deep links."""
from __future__ import annotations

import re

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from .widget import change_comment, comment, posted, replies_of, seed_thread, top_level_texts, widget

SELECTED = "() => document.querySelector('#comments').shadowRoot.querySelector('select').value"


@pytest.mark.browser
def test_the_order_changes_and_is_remembered(page: Page, app: Flask, demo_origin: str) -> None:
    ids = seed_thread(app, 3)
    change_comment(app, ids[1], score=5)
    page.goto(f"{demo_origin}/")
    expect(widget(page).locator(".count")).to_have_text("3 comments")
    assert top_level_texts(page) == ["Comment 1", "Comment 2", "Comment 3"]
    order = widget(page).get_by_role("combobox", name="Sort by")
    expect(order).to_have_value("oldest")

    with page.expect_request(lambda r: "sort=newest" in r.url):
        order.select_option(label="Newest first")
    expect(widget(page).locator(".thread > li.comment").first).to_contain_text("Comment 3")
    assert top_level_texts(page) == ["Comment 3", "Comment 2", "Comment 1"]

    page.reload()
    expect(widget(page).locator(".count")).to_have_text("3 comments")
    assert page.evaluate(SELECTED) == "newest"
    assert top_level_texts(page) == ["Comment 3", "Comment 2", "Comment 1"]

    order.select_option("top")
    expect(widget(page).locator(".thread > li.comment").first).to_contain_text("Comment 2")
    assert top_level_texts(page) == ["Comment 2", "Comment 1", "Comment 3"]


@pytest.mark.browser
def test_a_thousand_comments_come_in_pages(page: Page, app: Flask, demo_origin: str) -> None:
    seed_thread(app, 1000)
    page.goto(f"{demo_origin}/")
    tops = widget(page).locator(".thread > li.comment")
    expect(widget(page).locator(".count")).to_have_text("1,000 comments")
    expect(tops).to_have_count(50)
    more = widget(page).get_by_role("button", name="Show more comments")
    with page.expect_request(lambda r: "cursor=" in r.url) as request:
        more.click()
    assert "limit=50" in request.value.url
    expect(tops).to_have_count(100)
    # The first comment of the new page has the focus, so a keyboard reader goes on from there.
    expect(tops.nth(50)).to_be_focused()
    texts = top_level_texts(page)
    assert texts == [f"Comment {i}" for i in range(1, 101)]
    more.focus()
    page.keyboard.press("Enter")
    expect(tops).to_have_count(150)


@pytest.mark.browser
def test_a_deep_link_opens_a_folded_reply_on_a_later_page(page: Page, app: Flask, demo_origin: str) -> None:
    ids = seed_thread(app, 120, replies=lambda i: 5 if i == 90 else 0)
    target = posted(app, demo_origin, "The one the link is about.", parent_id=ids[89])["comment"]["id"]
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url) if "/api/v1/" in r.url else None)
    page.goto(f"{demo_origin}/#comment-{target}")

    linked = widget(page).locator(f"#comment-{target}")
    expect(linked).to_be_focused()
    expect(linked).to_have_class(re.compile(r"\bhighlight\b"))
    expect(linked).to_be_in_viewport()
    expect(linked.locator(".body")).to_have_text("The one the link is about.")
    assert replies_of(page, "Comment 90")[-1] == "The one the link is about."
    # Page one, then where the comment lives, then its branch alone.
    assert any(url.endswith(f"/api/v1/comments/{target}") for url in requests)
    assert any(f"root={ids[89]}" in url for url in requests)
    expect(widget(page).locator(".thread > li.comment")).to_have_count(51)

    # The later page that holds the branch does not show it twice.
    widget(page).get_by_role("button", name="Show more comments").click()
    expect(widget(page).locator(".thread > li.comment")).to_have_count(100)
    expect(widget(page).locator(f"#comment-{ids[89]}")).to_have_count(1)


@pytest.mark.browser
def test_long_reply_lists_are_folded_after_three(page: Page, app: Flask, demo_origin: str) -> None:
    seed_thread(app, 2, replies=lambda i: 6 if i == 1 else 2)
    page.goto(f"{demo_origin}/")
    expect(widget(page).locator(".count")).to_have_text("10 comments")
    assert replies_of(page, "Comment 1") == ["Reply 1.1", "Reply 1.2", "Reply 1.3"]
    assert replies_of(page, "Comment 2") == ["Reply 2.1", "Reply 2.2"]
    more = comment(page, "Comment 1").get_by_role("button", name="Show 3 more replies")
    more.focus()
    page.keyboard.press("Enter")
    expect(more).to_have_count(0)
    expect(comment(page, "Reply 1.4")).to_be_focused()
    assert replies_of(page, "Comment 1") == [f"Reply 1.{j}" for j in range(1, 7)]


@pytest.mark.browser
def test_featured_comments_come_first_and_are_marked(page: Page, app: Flask, demo_origin: str) -> None:
    ids = seed_thread(app, 3)
    change_comment(app, ids[2], featured=True)
    page.goto(f"{demo_origin}/")
    expect(widget(page).locator(".count")).to_have_text("3 comments")
    assert top_level_texts(page) == ["Comment 3", "Comment 1", "Comment 2"]
    expect(comment(page, "Comment 3").locator(".badge")).to_have_text("Featured")
    expect(widget(page).locator(".badge")).to_have_count(1)


@pytest.mark.browser
def test_replies_the_server_folded_come_in_place_with_their_branch(
    page: Page, app: Flask, demo_origin: str
) -> None:
    top = posted(app, demo_origin, "The question.")["comment"]["id"]
    first = posted(app, demo_origin, "First answer.", parent_id=top)["comment"]["id"]
    for n in range(1, 5):
        posted(app, demo_origin, f"Follow-up {n}.", parent_id=first)
    posted(app, demo_origin, "Second answer.", parent_id=top)
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url) if "/api/v1/threads" in r.url else None)
    page.goto(f"{demo_origin}/")
    expect(widget(page).locator(".count")).to_have_text("7 comments")
    # The page carries three replies, depth-first; each cut is counted where it was made.
    assert replies_of(page, "First answer.") == ["Follow-up 1.", "Follow-up 2."]
    assert replies_of(page, "The question.") == ["First answer."]
    folded = comment(page, "First answer.").get_by_role("button", name="Show 2 more replies")
    expect(comment(page, "The question.").locator(":scope > .replies > .more button")) \
        .to_have_text("Show 1 more reply")

    folded.focus()
    with page.expect_request(lambda r: f"root={top}" in r.url):
        page.keyboard.press("Enter")
    expect(comment(page, "Follow-up 3.")).to_be_focused()
    assert replies_of(page, "First answer.") == [f"Follow-up {n}." for n in range(1, 5)]
    assert replies_of(page, "The question.") == ["First answer.", "Second answer."]
    expect(widget(page).get_by_role("button", name=re.compile("more repl"))).to_have_count(0)
    expect(widget(page).locator("li.comment")).to_have_count(7)
    assert sum(f"root={top}" in url for url in requests) == 1


@pytest.mark.browser
def test_a_deep_link_opens_a_reply_folded_off_the_first_page(
    page: Page, app: Flask, demo_origin: str
) -> None:
    ids = seed_thread(app, 3, replies=lambda i: 5 if i == 2 else 0)
    target = posted(app, demo_origin, "Linked reply.", parent_id=ids[1])["comment"]["id"]
    page.goto(f"{demo_origin}/#comment-{target}")
    linked = widget(page).locator(f"#comment-{target}")
    expect(linked).to_be_focused()
    expect(linked).to_have_class(re.compile(r"\bhighlight\b"))
    assert replies_of(page, "Comment 2") == [f"Reply 2.{j}" for j in range(1, 6)] + ["Linked reply."]
    # The branch took the folded one's place: no top-level comment twice, the order kept.
    assert top_level_texts(page) == ["Comment 1", "Comment 2", "Comment 3"]
    expect(widget(page).get_by_role("button", name=re.compile("more repl"))).to_have_count(0)
