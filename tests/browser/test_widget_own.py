"""A reader's own comments: editing and deleting them within the site's window, and held ones."""
from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, Request, expect

from comments.extensions import db
from comments.models import Comment, CommentStatus, Moderation, Moderator, Site
from comments.services.accounts import create_moderator
from comments.services.moderation import apply
from comments.services.sites import create_site

from .widget import age_comment, comment, own_article, post, posted, set_site_settings, widget

ORIGINAL = "The N7 is *late* again."
EDITED = "The N7 was on time tonight."


def is_write(method: str, path: str) -> Callable[[Request], bool]:
    """A predicate for the widget's request with this method on this API path."""
    return lambda request: request.method == method and request.url.endswith(f"/api/v1/{path}")


def own_id(item_id: str | None) -> int:
    """The comment id in a list item's id attribute ("comment-12")."""
    assert item_id and item_id.startswith("comment-"), item_id
    return int(item_id.removeprefix("comment-"))


@pytest.mark.browser
def test_an_edit_starts_from_the_source_text_and_is_marked(page: Page, app: Flask, demo_origin: str) -> None:
    page.goto(f"{demo_origin}/")
    post(widget(page).locator("form").first, "Ada", ORIGINAL)
    item = comment(page, "late again")
    expect(item.locator(".body em")).to_have_text("late")
    edit = item.get_by_role("button", name="Edit")
    edit.click()
    form = item.get_by_role("form", name="Edit your comment")
    text = form.get_by_role("textbox", name="Comment", exact=True)
    # The Markdown the reader wrote, kept in the browser: the API only ever answers HTML.
    expect(text).to_have_value(ORIGINAL)
    expect(text).to_be_focused()
    form.get_by_role("button", name="Cancel").click()
    expect(form).to_have_count(0)
    expect(edit).to_be_focused()

    edit.click()
    item.get_by_role("textbox", name="Comment", exact=True).fill(EDITED)
    with page.expect_request(lambda r: r.method == "PATCH") as request:
        item.get_by_role("button", name="Save").click()
    token = request.value.header_value("Authorization") or ""
    assert re.fullmatch(r"Bearer \S{20,}", token) and request.value.post_data_json == {"text": EDITED}
    item = comment(page, EDITED)
    expect(own_article(item).locator(".edited")).to_have_text("edited")
    expect(item.get_by_role("button", name="Edit")).to_be_focused()
    with app.app_context():
        stored = db.session.get(Comment, own_id(item.get_attribute("id")))
        assert stored.text == EDITED and stored.edited_at is not None

    page.reload()
    item = comment(page, EDITED)
    expect(own_article(item).locator(".edited")).to_have_text("edited")
    expect(own_article(item).locator(".edited")).to_have_attribute("title", re.compile(r"\d{4}"))
    item.get_by_role("button", name="Edit").click()
    expect(item.get_by_role("textbox", name="Comment", exact=True)).to_have_value(EDITED)


@pytest.mark.browser
def test_after_the_window_an_edit_is_refused_and_the_buttons_go(
    page: Page, app: Flask, demo_origin: str
) -> None:
    set_site_settings(app, "demo", edit_window_minutes=1)
    page.goto(f"{demo_origin}/")
    post(widget(page).locator("form").first, "Ada", ORIGINAL)
    item = comment(page, "late again")
    comment_id = own_id(item.get_attribute("id"))
    item.get_by_role("button", name="Edit").click()
    item.get_by_role("textbox", name="Comment", exact=True).fill(EDITED)
    # The window closes while the form is open: the server says no, and the text stays.
    age_comment(app, comment_id, 120)
    item.get_by_role("button", name="Save").click()
    notice = item.get_by_role("form", name="Edit your comment").locator("[aria-live]")
    # The server's own words (services/editing.py), shown as they come.
    expect(notice).to_have_text(
        re.compile(r"^Comments can be changed for 1 minutes? after posting; that time has passed\.$"))
    expect(item.get_by_role("textbox", name="Comment", exact=True)).to_have_value(EDITED)

    page.reload()
    expect(comment(page, "late again").locator(".body")).to_be_visible()
    expect(widget(page).get_by_role("button", name="Edit")).to_have_count(0)
    expect(widget(page).get_by_role("button", name="Delete")).to_have_count(0)

    # A window that closes while the page is open takes the buttons with it, without a reload.
    post(widget(page).locator("form").first, "Ada", "Closing soon.")
    item = comment(page, "Closing soon")
    age_comment(app, own_id(item.get_attribute("id")), 57)
    page.reload()
    item = comment(page, "Closing soon")
    expect(item.get_by_role("button", name="Edit")).to_be_visible()
    expect(item.get_by_role("button", name="Edit")).to_have_count(0, timeout=8_000)
    expect(item.get_by_role("button", name="Delete")).to_have_count(0)


@pytest.mark.browser
def test_delete_asks_first_and_leaves_a_placeholder_only_above_replies(
    page: Page, app: Flask, demo_origin: str
) -> None:
    page.goto(f"{demo_origin}/")
    form = widget(page).locator("form").first
    post(form, "Ada", "A lonely remark.")
    expect(comment(page, "lonely")).to_be_visible()
    post(form, "Ada", "A remark with an answer.")
    answered = comment(page, "with an answer")
    answered_id = own_id(answered.get_attribute("id"))
    posted(app, demo_origin, "An answer from Grace.", parent_id=answered_id)
    page.reload()
    count = widget(page).locator(".count")
    expect(count).to_have_text("3 comments")

    lonely = comment(page, "lonely")
    delete = lonely.get_by_role("button", name="Delete")
    delete.click()
    confirm = lonely.get_by_role("group", name="Delete this comment for good?")
    # The safe answer has the focus; the reader's own window.confirm is never used.
    expect(confirm.get_by_role("button", name="Cancel")).to_be_focused()
    page.keyboard.press("Enter")
    expect(confirm).to_have_count(0)
    expect(delete).to_be_focused()
    page.keyboard.press("Enter")
    with page.expect_request(is_write("DELETE", f"comments/{own_id(lonely.get_attribute('id'))}")) as request:
        lonely.get_by_role("button", name="Yes, delete").click()
    assert (request.value.header_value("Authorization") or "").startswith("Bearer ")
    expect(widget(page).locator(".body", has_text="lonely")).to_have_count(0)
    expect(count).to_have_text("2 comments")

    answered = widget(page).locator(f"#comment-{answered_id}")
    answered.get_by_role("button", name="Delete").first.click()
    answered.get_by_role("button", name="Yes, delete").click()
    expect(answered.locator(":scope > .placeholder")).to_have_text("This comment was deleted.")
    expect(answered).to_be_focused()
    expect(answered.locator(".replies .body")).to_have_text("An answer from Grace.")
    expect(count).to_have_text("1 comment")

    page.reload()
    expect(widget(page).locator(f"#comment-{answered_id} > .placeholder")).to_have_text("This comment was deleted.")
    expect(comment(page, "An answer from Grace")).to_be_visible()
    with app.app_context():
        assert db.session.get(Comment, answered_id).status is CommentStatus.DELETED


@pytest.mark.browser
def test_a_held_comment_stays_visible_to_its_author_only(
    page: Page, browser: Browser, app: Flask, live_server: str
) -> None:
    with app.app_context():
        create_site("demo", "Demo", [live_server], moderation="pre")
    page.goto(f"{live_server}/")
    form = widget(page).locator("form").first
    post(form, "Ada", "Waiting for a moderator.")
    expect(form.locator("[aria-live]")).to_have_text(
        "Thank you! Your comment will appear once a moderator has approved it.")
    held = comment(page, "Waiting for a moderator")
    expect(held.locator(".badge")).to_have_text("awaiting moderation")
    expect(held.get_by_role("button", name="Reply")).to_have_count(0)
    expect(held.get_by_role("button", name="Up-vote")).to_have_count(0)
    expect(widget(page).locator(".count")).to_have_text("No comments yet")

    with page.expect_response(re.compile(r"/api/v1/comments/\d+$")) as response:
        page.reload()
    assert response.value.request.header_value("Authorization")
    expect(comment(page, "Waiting for a moderator").locator(".badge")).to_have_text("awaiting moderation")
    expect(widget(page).locator(".count")).to_have_text("No comments yet")

    other = browser.new_context().new_page()
    other.goto(f"{live_server}/")
    expect(widget(other).locator(".count")).to_have_text("No comments yet")
    expect(widget(other).locator("li.comment")).to_have_count(0)
    other.context.close()

    # A site that does not show held comments to their authors: the widget stops asking.
    set_site_settings(app, "demo", show_own_pending=False)
    page.reload()
    expect(widget(page).locator(".count")).to_have_text("No comments yet")
    expect(widget(page).locator("li.comment")).to_have_count(0)
    page.wait_for_function(f"localStorage.getItem('comments:{live_server}:pending') === '[]'")


@pytest.mark.browser
def test_an_edit_on_a_premoderated_site_is_held_and_shown_only_to_its_author(
    page: Page, browser: Browser, app: Flask, live_server: str
) -> None:
    with app.app_context():
        create_site("demo", "Demo", [live_server], moderation="pre")
        create_moderator("boss@example.org", "long enough password", "admin")
    page.goto(f"{live_server}/")
    post(widget(page).locator("form").first, "Ada", ORIGINAL)
    cid = own_id(comment(page, "late again").get_attribute("id"))
    with app.app_context():
        apply(db.session.scalar(db.select(Moderator)), [cid], "approve")
    page.reload()
    item = comment(page, "late again")
    expect(item.locator(".badge")).to_have_count(0)
    expect(widget(page).locator(".count")).to_have_text("1 comment")

    item.get_by_role("button", name="Edit").click()
    item.get_by_role("textbox", name="Comment", exact=True).fill(EDITED)
    item.get_by_role("button", name="Save").click()
    held = comment(page, EDITED)
    expect(held.locator(".badge")).to_have_text("awaiting moderation")
    expect(widget(page).locator(".count")).to_have_text("No comments yet")
    page.reload()
    expect(comment(page, EDITED).locator(".badge")).to_have_text("awaiting moderation")

    other = browser.new_context().new_page()
    other.goto(f"{live_server}/")
    expect(widget(other).locator(".count")).to_have_text("No comments yet")
    expect(widget(other).locator("li.comment")).to_have_count(0)
    other.context.close()


@pytest.mark.browser
def test_a_held_reply_stays_when_the_folded_branch_is_fetched(
    page: Page, app: Flask, live_server: str
) -> None:
    with app.app_context():
        create_site("demo", "Demo", [live_server], moderation="post")
    top = posted(app, live_server, "Busy one.")["comment"]["id"]
    for n in range(1, 6):
        posted(app, live_server, f"Answer {n}.", parent_id=top)
    with app.app_context():
        db.session.scalar(db.select(Site).filter_by(slug="demo")).moderation = Moderation.PRE
        db.session.commit()
    page.goto(f"{live_server}/")
    busy = comment(page, "Busy one.")
    folded = busy.get_by_role("button", name="Show 2 more replies")
    expect(folded).to_be_visible()
    busy.get_by_role("button", name="Reply").first.click()
    post(busy.locator("form"), "Ada", "My held reply.")
    expect(comment(page, "My held reply.").locator(".badge")).to_have_text("awaiting moderation")

    folded.click()
    expect(comment(page, "Answer 4.")).to_be_focused()
    expect(comment(page, "Answer 5.")).to_be_visible()
    expect(comment(page, "My held reply.").locator(".badge")).to_have_text("awaiting moderation")
    expect(widget(page).locator("li.comment")).to_have_count(7)
