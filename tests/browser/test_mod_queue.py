"""The moderator queue in Chromium: context, keyboard actions, removal, bans, and inert markup."""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from comments.extensions import db
from comments.models import Comment, CommentStatus, Moderator
from comments.services import moderation
from comments.services.accounts import create_moderator
from comments.services.sites import create_site

from ..conftest import make_app
from ..test_sanitize import UNSAFE_HREFS

ORIGIN = "https://news.example"
EMAIL, PASSWORD = "desk@news.example", "correct horse battery staple"
EVIL_NAME = "<b onmouseover=window.__xss=1>Eve</b>"
EVIL_TITLE = '<img src=x onerror="window.__xss=1"> Budget'
PAYLOADS = [
    '<img src=x onerror="window.__xss=1">',
    "<script>window.__xss=1</script>",
    '<svg onload="window.__xss=1">',
    "[x](javascript:window.__xss=1)",
    '<a href="javascript:window.__xss=1">x</a>',
    '<iframe src="javascript:window.__xss=1">',
    # The sanitizer tests' unsafe link targets, in the spellings the API accepts (no controls).
    "\n".join(f"[link {n}](<{href}>)" for n, href in enumerate(UNSAFE_HREFS)
              if all(unicodedata.category(c) != "Cc" for c in href)),
]
# Anything parsed from a comment into markup would show up as one of these.
PARSED = "main script, main img, main svg, main iframe, main object, main embed, .author b, h2 b"


@dataclass
class Queue:
    """The seeded queue: ids of the comments the tests act on."""

    parent: int
    reply: int
    ada: int
    eve: int
    evil_reply: int
    mallory: int
    payloads: list[int]


@pytest.fixture
def app(tmp_path: Path, _postgres_schema: None) -> Iterator[Flask]:
    """The app over plain http: the session cookie must travel without TLS."""
    app = make_app(tmp_path, SESSION_COOKIE_SECURE=False)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def post(app: Flask, name: str, email: str, text: str, article: str = "story-1",
         title: str = "Council vote", parent_id: int | None = None) -> Any:
    """POST a comment through the public API, as the site's pages would."""
    payload = {"site": "news", "article": article, "url": f"{ORIGIN}/{article}", "title": title,
               "author": {"name": name, "email": email}, "text": text, "parent_id": parent_id}
    return app.test_client().post("/api/v1/comments", json=payload, headers={"Origin": ORIGIN})


def posted(app: Flask, *args: Any, **kwargs: Any) -> int:
    """Post a comment that must be accepted and held; return its id."""
    response = post(app, *args, **kwargs)
    assert response.status_code == 201, response.json
    assert response.json["status"] == "pending"
    return response.json["comment"]["id"]


def approve(app: Flask, comment_id: int) -> None:
    """Approve a comment through the service, as the desk's account."""
    with app.app_context():
        desk = db.session.scalar(db.select(Moderator).filter_by(email=EMAIL))
        moderation.apply(desk, [comment_id], "approve")


def thread_ids(app: Flask, article: str = "story-1") -> list[int]:
    """The ids of the comments a reader sees in an article's thread."""
    response = app.test_client().get("/api/v1/threads", query_string={"site": "news", "article": article})
    assert response.status_code == 200

    def walk(nodes: list[dict[str, Any]]) -> Iterator[int]:
        for node in nodes:
            if node["html"] is not None:
                yield node["id"]
            yield from walk(node["replies"])

    return list(walk(response.json["comments"]))


@pytest.fixture
def queue(app: Flask) -> Queue:
    """A pre-moderated site with a published comment, replies to it and payloads in the queue."""
    with app.app_context():
        create_site("news", "News Example", [ORIGIN], moderation="pre")
        create_moderator(EMAIL, PASSWORD, role="admin")
    parent = posted(app, "Ada", "ada@example.org", "The council vote was on *Tuesday*, not Monday.")
    approve(app, parent)
    eve = posted(app, EVIL_NAME, "eve@example.org", PAYLOADS[0], article="story-2", title=EVIL_TITLE)
    approve(app, eve)
    reply = posted(app, "Bob", "bob@example.org", "Thanks, corrected in the live blog.", parent_id=parent)
    ada = posted(app, "Ada", "ada@example.org", "And the motion passed 31 to 12.")
    payloads = [posted(app, EVIL_NAME, "eve@example.org", text, article="story-2", title=EVIL_TITLE)
                for text in PAYLOADS]
    evil_reply = posted(app, "Carol", "carol@example.org", "Is this safe?", article="story-2",
                        title=EVIL_TITLE, parent_id=eve)
    mallory = posted(app, "Mallory", "mallory@example.org", "You are all paid shills.")
    return Queue(parent, reply, ada, eve, evil_reply, mallory, payloads)


def log_in(page: Page, live_server: str, path: str = "/mod/queue") -> None:
    """Log in through the form, landing on `path`, with the keyboard helpers running."""
    page.goto(f"{live_server}/mod/login?next={path}")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(re.escape(path) + "$"))
    expect(page.locator("html")).to_have_class(re.compile(r"\bhas-keys\b"))


def assert_inert(page: Page) -> None:
    """Nothing from a comment became markup, a script link, or ran.

    The CSP alone would stop an inline handler (and the `page` fixture fails on its report),
    so the element and link checks are what prove the pages escape what they show.
    """
    assert page.locator(PARSED).count() == 0
    hrefs = page.eval_on_selector_all("a[href]", "links => links.map((a) => a.getAttribute('href'))")
    assert not [h for h in hrefs if not h.startswith(("/", "http://", "https://"))], hrefs
    for link in page.locator(".body").get_by_text("x", exact=True).all():
        link.click()
    for name in page.locator(".author dd", has_text="Eve").all():
        name.hover()
    assert page.evaluate("typeof window.__xss") == "undefined"


@pytest.mark.browser
def test_the_queue_shows_each_comment_in_its_context(page: Page, live_server: str, queue: Queue) -> None:
    log_in(page, live_server)
    waiting = len(PAYLOADS) + 4
    expect(page.locator("#queue-count")).to_have_text(str(waiting))
    expect(page.locator("li.item")).to_have_count(waiting)
    reply = page.locator(f"#c{queue.reply}")
    expect(reply.locator("h2 .article")).to_have_text("Council vote")
    expect(reply.locator("blockquote.parent")).to_have_text(
        re.compile(r"In reply to\s+Ada: The council vote was on Tuesday, not Monday\."))
    expect(reply.locator(".reasons")).to_have_text("site is pre-moderated")
    expect(reply.locator(".badge.status")).to_have_text("pending")
    expect(reply.locator("dl.author")).to_contain_text("bob@example.org")
    expect(reply.locator("dl.author")).to_contain_text("127.0.0.1")
    expect(page.locator(f"#c{queue.ada} .history")).to_contain_text("1 approved · 0 removed · 0 spam")
    # Without a hash in the URL the first comment is the current one.
    expect(reply).to_have_class(re.compile(r"\bcurrent\b"))

    page.keyboard.press("x")
    expect(reply).to_have_class(re.compile(r"\bselected\b"))
    expect(reply.locator("input[name=ids]")).to_be_checked()
    page.keyboard.press("x")
    expect(reply).not_to_have_class(re.compile(r"\bselected\b"))

    page.keyboard.press("?")
    help_dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(help_dialog).to_be_visible()
    expect(help_dialog).to_contain_text("approve the selected comments")
    page.keyboard.press("Escape")
    expect(help_dialog).to_be_hidden()
    page.screenshot(path="/tmp/queue.png", full_page=True)


@pytest.mark.browser
def test_comment_markup_is_shown_as_text_in_every_moderator_page(
        page: Page, live_server: str, queue: Queue) -> None:
    log_in(page, live_server)
    for comment_id, text in zip(queue.payloads, PAYLOADS):
        first_line = text.splitlines()[0]
        if "](" not in first_line:
            expect(page.locator(f"#c{comment_id} .body")).to_contain_text(first_line)
        expect(page.locator(f"#c{comment_id} dl.author dd").first).to_have_text(EVIL_NAME)
    expect(page.locator(f"#c{queue.evil_reply} h2 .article")).to_have_text(EVIL_TITLE)
    expect(page.locator(f"#c{queue.evil_reply} blockquote.parent")).to_contain_text(
        f"{EVIL_NAME}: {PAYLOADS[0]}")
    assert_inert(page)
    for path in ("/mod/comments", f"/mod/comments/{queue.payloads[0]}",
                 f"/mod/comments/{queue.eve}/ban", "/mod/comments?q=script"):
        page.goto(f"{live_server}{path}")
        expect(page.locator("main")).to_contain_text(EVIL_NAME)
        assert_inert(page)


@pytest.mark.browser
def test_a_moderator_approves_removes_and_bans(
        page: Page, app: Flask, live_server: str, queue: Queue) -> None:
    log_in(page, live_server)
    reply, ada = page.locator(f"#c{queue.reply}"), page.locator(f"#c{queue.ada}")

    # j and k move the current comment; a approves it and the next one takes the focus.
    page.keyboard.press("j")
    expect(ada).to_be_focused()
    page.keyboard.press("k")
    expect(reply).to_be_focused()
    expect(ada).not_to_have_class(re.compile(r"\bcurrent\b"))
    page.keyboard.press("a")
    expect(page).to_have_url(re.compile(rf"/mod/queue#c{queue.ada}$"))
    expect(page.locator(".flash")).to_have_text("Approved 1 comment.")
    expect(ada).to_be_focused()
    expect(ada).to_have_class(re.compile(r"\bcurrent\b"))
    expect(page.locator(f"#c{queue.reply}")).to_have_count(0)
    assert thread_ids(app) == [queue.parent, queue.reply]
    page.keyboard.press("a")
    expect(page).to_have_url(re.compile(rf"/mod/queue#c{queue.payloads[0]}$"))
    expect(page.locator(f"#c{queue.payloads[0]}")).to_be_focused()
    assert thread_ids(app) == [queue.parent, queue.reply, queue.ada]

    # Remove a published comment with a reason typed into its own field.
    page.goto(f"{live_server}/mod/comments/{queue.ada}")
    card = page.locator(f"#c{queue.ada}")
    card.get_by_label("Reason").fill("Off topic: keep to the story")
    card.get_by_role("button", name="Remove").click()
    expect(page.locator(".flash")).to_have_text("Removed 1 comment.")
    expect(card.locator(".badge.status")).to_have_text("removed")
    history = page.locator("table.log tbody tr").first
    expect(history).to_contain_text("remove")
    expect(history).to_contain_text("approved → removed")
    expect(history).to_contain_text("Off topic: keep to the story")
    assert thread_ids(app) == [queue.parent, queue.reply]

    # Ban Mallory by email for a week: b on her card opens the form.
    page.goto(f"{live_server}/mod/queue")
    page.locator(f"#c{queue.mallory} .body").click()
    page.keyboard.press("b")
    expect(page).to_have_url(re.compile(rf"/mod/comments/{queue.mallory}/ban$"))
    expect(page.locator("input[name=by_email]")).to_be_checked()
    expect(page.locator("input[name=email]")).to_have_value("mallory@example.org")
    page.locator("select[name=days]").select_option("7")
    page.get_by_label("Reason").fill("Insults other readers")
    expect(page.get_by_label("Also remove their comments waiting in the queue")).to_be_checked()
    page.get_by_role("button", name="Ban", exact=True).click()
    expect(page).to_have_url(re.compile(r"/mod/bans$"))
    expect(page.locator(".flash")).to_have_text("Banned mallory@example.org on News Example.")
    expect(page.locator("table.log")).to_contain_text("Insults other readers")

    refused = post(app, "Mallory", "mallory@example.org", "Again.")
    assert refused.status_code == 403
    assert refused.json["error"]["code"] == "banned"
    assert post(app, "Dan", "dan@example.org", "Still open to others.").status_code == 201
    with app.app_context():
        assert db.session.get(Comment, queue.mallory).status is CommentStatus.REMOVED
    page.goto(f"{live_server}/mod/comments/{queue.mallory}")
    expect(page.locator("table.log tbody")).to_contain_text("author banned")
    page.goto(f"{live_server}/mod/queue")
    expect(page.locator(f"#c{queue.mallory}")).to_have_count(0)


@pytest.mark.browser
def test_keys_remove_with_a_reason_approve_a_selection_and_open_a_comment(
        page: Page, app: Flask, live_server: str, queue: Queue) -> None:
    log_in(page, live_server)
    reply = page.locator(f"#c{queue.reply}")

    # Shift+R puts the caret in the reason field; the keys then type instead of acting.
    page.keyboard.press("Shift+R")
    reason = reply.get_by_label("Reason")
    expect(reason).to_be_focused()
    page.keyboard.type("Just a joke, asked to resubmit")
    expect(reason).to_have_value("Just a joke, asked to resubmit")
    expect(page).to_have_url(re.compile(r"/mod/queue$"))
    reply.locator(".body").click()
    page.keyboard.press("r")
    expect(page.locator(".flash")).to_have_text("Removed 1 comment.")
    expect(page.locator(f"#c{queue.ada}")).to_be_focused()

    # x selects the current comment, Shift+A approves every selected one.
    page.keyboard.press("x")
    page.keyboard.press("j")
    page.keyboard.press("x")
    expect(page.locator("li.item.selected")).to_have_count(2)
    page.keyboard.press("Shift+A")
    expect(page.locator(".flash")).to_have_text("Approved 2 comments.")
    expect(page.locator(f"#c{queue.payloads[1]}")).to_be_focused()
    assert thread_ids(app) == [queue.parent, queue.ada]
    assert queue.payloads[0] in thread_ids(app, "story-2")

    # o and Enter open the current comment's own page, with the reasons of what was done.
    page.keyboard.press("o")
    expect(page).to_have_url(re.compile(rf"/mod/comments/{queue.payloads[1]}$"))
    page.go_back()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/mod/comments/{queue.payloads[1]}$"))
    page.goto(f"{live_server}/mod/comments/{queue.reply}")
    expect(page.locator("table.log tbody")).to_contain_text("Just a joke, asked to resubmit")
