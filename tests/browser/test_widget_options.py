"""The embed's options and the thread's state: closed threads, languages, themes, reply emails."""
from __future__ import annotations

import re

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from comments.extensions import db
from comments.models import Comment, Thread

from .conftest import serving
from .widget import ARTICLE, close_thread, comment, embedding_pages, post, posted, widget

# The colours of the widget's text and background, and of its submit button.
COLOURS = """() => {
  const root = document.querySelector("#comments").shadowRoot;
  const style = (element) => getComputedStyle(element);
  const host = style(document.querySelector("#comments"));
  return { text: host.color, background: host.backgroundColor,
           button: style(root.querySelector("button[type=submit]")).backgroundColor };
}"""
LIGHT = {"text": "rgb(29, 35, 43)", "background": "rgba(0, 0, 0, 0)", "button": "rgb(10, 88, 184)"}


@pytest.mark.browser
def test_a_closed_thread_shows_no_form_and_a_late_post_is_told(
    page: Page, app: Flask, demo_origin: str
) -> None:
    posted(app, demo_origin, "Said before the close.")
    page.goto(f"{demo_origin}/")
    form = widget(page).locator("form").first
    expect(form).to_be_visible()
    close_thread(app)
    post(form, "Ada", "Too late, as it turns out.")
    expect(form.locator("[aria-live]")).to_have_text("Comments are closed on this article.")
    expect(form.locator("textarea[name=text]")).to_have_value("Too late, as it turns out.")

    page.reload()
    expect(comment(page, "Said before the close")).to_be_visible()
    expect(widget(page).locator(".closed")).to_have_text("Comments are closed.")
    expect(widget(page).locator("form")).to_have_count(0)
    expect(widget(page).get_by_role("button", name="Reply")).to_have_count(0)


@pytest.mark.browser
def test_german_from_data_lang_or_the_page_and_english_otherwise(
    page: Page, app: Flask, live_server: str
) -> None:
    pages = {
        "/de": ("en", {"article": ARTICLE, "lang": "de"}),
        "/at": ("de-AT", {"article": ARTICLE}),
        "/fr": ("fr", {"article": ARTICLE}),
    }
    with embedding_pages(app, serving, f"{live_server}/widget.js", pages) as origin:
        page.goto(f"{origin}/de")
        expect(widget(page).locator(".count")).to_have_text("Noch keine Kommentare")
        form = widget(page).locator("form").first
        expect(form.get_by_role("textbox", name="Kommentar")).to_be_visible()
        expect(widget(page).get_by_role("combobox", name="Sortieren")).to_have_value("oldest")
        post(form, "Ada", "Endlich ein Nachtbus.")
        item = comment(page, "Endlich ein Nachtbus")
        expect(item.locator("time")).to_have_text(re.compile(r"^(jetzt|vor \d+ Sekunden?)$"))
        expect(item.locator("time")).to_have_attribute("title", re.compile(r"^\d{1,2}\. \w+ \d{4} um \d"))
        expect(item.get_by_role("button", name="Antworten")).to_be_visible()
        expect(item.get_by_role("button", name="Positiv bewerten")).to_be_visible()
        expect(widget(page).locator(".count")).to_have_text("1 Kommentar")

        page.goto(f"{origin}/at")
        expect(widget(page).locator(".count")).to_have_text("1 Kommentar")
        expect(widget(page).get_by_role("button", name="Bearbeiten")).to_be_visible()

        page.goto(f"{origin}/fr")
        expect(widget(page).locator(".count")).to_have_text("1 comment")
        expect(widget(page).get_by_role("button", name="Edit")).to_be_visible()


@pytest.mark.browser
def test_dark_theme_by_attribute_or_by_the_readers_system(page: Page, app: Flask, live_server: str) -> None:
    pages = {
        "/light": ("en", {"article": ARTICLE, "theme": "light"}),
        "/dark": ("en", {"article": ARTICLE, "theme": "dark"}),
        "/auto": ("en", {"article": ARTICLE}),
    }
    with embedding_pages(app, serving, f"{live_server}/widget.js", pages) as origin:
        colours = {}
        for path in pages:
            page.goto(f"{origin}{path}")
            expect(widget(page).locator("form")).to_be_visible()
            colours[path] = page.evaluate(COLOURS)
        assert colours["/light"] == colours["/auto"] == LIGHT
        dark = colours["/dark"]
        assert all(dark[part] != LIGHT[part] for part in LIGHT), dark

        page.emulate_media(color_scheme="dark")
        for path, expected in (("/auto", dark), ("/light", LIGHT), ("/dark", dark)):
            page.goto(f"{origin}{path}")
            expect(widget(page).locator("form")).to_be_visible()
            assert page.evaluate(COLOURS) == expected, path


@pytest.mark.browser
def test_reply_emails_need_an_email_and_are_asked_for(page: Page, app: Flask, demo_origin: str) -> None:
    page.goto(f"{demo_origin}/")
    form = widget(page).locator("form").first
    notify = form.get_by_role("checkbox", name="Email me when someone replies")
    email = form.get_by_role("textbox", name="Email (optional, never shown)")
    expect(notify).to_be_disabled()
    expect(notify).to_have_accessible_description("(fill in your email above first)")
    email.fill("ada@example.org")
    expect(notify).to_be_enabled()
    expect(form.locator(".hint")).to_be_hidden()
    notify.check()
    email.fill("")
    expect(notify).to_be_disabled()
    expect(notify).not_to_be_checked()
    email.fill("ada@example.org")
    notify.check()

    with page.expect_request(lambda r: r.method == "POST" and r.url.endswith("/api/v1/comments")) as request:
        post(form, "Ada", "Tell me when someone answers.")
    body = request.value.post_data_json
    assert body["notify"] is True and body["author"] == {"name": "Ada", "email": "ada@example.org"}
    expect(comment(page, "Tell me when someone answers")).to_be_visible()

    # Without the box ticked, nothing is asked for.
    notify.uncheck()
    with page.expect_request(lambda r: r.method == "POST" and r.url.endswith("/api/v1/comments")) as request:
        post(form, "Ada", "No emails for this one.")
    assert "notify" not in request.value.post_data_json
    expect(comment(page, "No emails for this one")).to_be_visible()
    with app.app_context():
        wanted = dict(db.session.execute(db.select(Comment.text, Comment.notify_replies)).all())
    assert wanted == {"Tell me when someone answers.": True, "No emails for this one.": False}


@pytest.mark.browser
def test_data_title_and_the_pages_address_name_the_article(page: Page, app: Flask, live_server: str) -> None:
    pages = {
        "/posts/headline": ("en", {"article": ARTICLE, "title": "The night bus returns"}),
        "/posts/plain": ("en", {"article": "plain"}),
    }
    with embedding_pages(app, serving, f"{live_server}/widget.js", pages) as origin:
        page.goto(f"{origin}/posts/headline?ref=home#comments")
        with page.expect_request(lambda r: r.method == "POST" and r.url.endswith("/api/v1/comments")) as request:
            post(widget(page).locator("form").first, "Ada", "Good news.")
        body = request.value.post_data_json
        assert (body["title"], body["url"]) == ("The night bus returns", f"{origin}/posts/headline?ref=home")
        expect(comment(page, "Good news")).to_be_visible()

        page.goto(f"{origin}/posts/plain")
        with page.expect_request(lambda r: r.method == "POST" and r.url.endswith("/api/v1/comments")) as request:
            post(widget(page).locator("form").first, "Ada", "Plain news.")
        assert request.value.post_data_json["title"] == "Partner"
        expect(comment(page, "Plain news")).to_be_visible()
    with app.app_context():
        named = dict(db.session.execute(db.select(Thread.article_key, Thread.title)).all())
    assert named == {ARTICLE: "The night bus returns", "plain": "Partner"}


@pytest.mark.browser
def test_a_title_longer_than_the_server_keeps_does_not_block_posting(
    page: Page, app: Flask, live_server: str
) -> None:
    pages = {"/posts/long": ("en", {"article": ARTICLE, "title": "Night bus 🚌. " * 40})}
    with embedding_pages(app, serving, f"{live_server}/widget.js", pages) as origin:
        page.goto(f"{origin}/posts/long")
        post(widget(page).locator("form").first, "Ada", "Long story.")
        expect(comment(page, "Long story")).to_be_visible()
    with app.app_context():
        title = db.session.scalar(db.select(Thread.title))
    assert len(title) == 300 and title.startswith("Night bus 🚌. Night bus")
