"""Single sign-on in the widget: a reader the site signed in posts under the verified identity."""
from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from comments.extensions import db
from comments.models import Comment, Site
from comments.services.sso import rotate_secret

from .conftest import serving
from .widget import comment, embedding_pages, posted, widget

ARTICLE = "members-only"
# Markup in a name must reach the page as text; the ë checks that the token is read as UTF-8.
NAME = "Zoë <b>Member</b>"
# The submit button's colour is the theme's accent, which the badge shares.
COLOURS = """() => {
  const root = document.querySelector("#comments").shadowRoot;
  return [getComputedStyle(root.querySelector(".verified")).color,
          getComputedStyle(root.querySelector("button[type=submit]")).backgroundColor];
}"""

Pages = dict[str, tuple[str, dict[str, str]]]


def token(secret: str, **claims: Any) -> str:
    """A sign-in token as the site makes it."""
    payload = {"sub": "member-7", "name": NAME, "email": "zoe@example.org",
               "exp": int(time.time()) + 600} | claims
    return jwt.encode(payload, secret, algorithm="HS256")


@pytest.fixture
def signed(app: Flask, live_server: str) -> Iterator[tuple[str, str, Pages]]:
    """The partner's pages on a second origin, with an SSO secret: (origin, secret, pages), where
    a test adds the pages it opens."""
    pages: Pages = {}
    with embedding_pages(app, serving, f"{live_server}/widget.js", pages) as origin:
        with app.app_context():
            secret = rotate_secret(db.session.scalar(db.select(Site).filter_by(slug="partner")))
        yield origin, secret, pages


def stored(app: Flask) -> list[tuple[str, str | None, str]]:
    """Every stored comment: (author name, SSO id, text)."""
    with app.app_context():
        return [(c.author_name, c.sso_id, c.text)
                for c in db.session.scalars(db.select(Comment).order_by(Comment.id))]


@pytest.mark.browser
def test_a_signed_in_reader_posts_and_replies_with_the_badge(
    page: Page, app: Flask, live_server: str, signed: tuple[str, str, Pages]
) -> None:
    origin, secret, pages = signed
    good = token(secret)
    pages["/post"] = ("en", {"article": ARTICLE, "sso": good})
    pages["/de"] = ("de", {"article": ARTICLE, "sso": good, "theme": "dark"})
    posted(app, origin, "An unsigned comment first.", name="Guest", site="partner", article=ARTICLE)

    page.goto(f"{origin}/post")
    guest = comment(page, "An unsigned comment first")
    expect(guest.locator(".author")).to_have_text("Guest")
    expect(guest.locator(".verified")).to_have_count(0)
    form = widget(page).locator("form").first
    expect(form.locator(".signed-in")).to_have_text(f"Signed in as {NAME}")
    expect(form.locator(".signed-in b")).to_have_count(0)
    expect(form.locator("input[name=name], input[name=email]")).to_have_count(0)
    # The token carries an email, so the reader may ask to be told of replies.
    expect(form.get_by_role("checkbox", name="Email me when someone replies")).to_be_enabled()

    form.locator("textarea[name=text]").fill("Signed and sealed.")
    with page.expect_response(f"{live_server}/api/v1/comments") as response:
        form.locator("button[type=submit]").click()
    assert response.value.status == 201
    sent = response.value.request.post_data_json
    assert sent["sso"] == good and "author" not in sent
    assert response.value.json()["comment"]["author"]["verified"] is True
    mine = comment(page, "Signed and sealed")
    expect(mine.locator(".author")).to_have_text(NAME)
    badge = mine.locator(":scope > article .verified")
    expect(badge).to_have_text("verified")
    expect(badge).to_have_attribute("title",
                                    "The site confirms who wrote this: its author was signed in there.")
    expect(widget(page).locator(".count")).to_have_text("2 comments")

    guest.get_by_role("button", name="Reply").click()
    reply_form = guest.locator("form.reply-form")
    expect(reply_form.locator(".signed-in")).to_have_text(f"Signed in as {NAME}")
    expect(reply_form.locator("input[name=name]")).to_have_count(0)
    reply_form.locator("textarea[name=text]").fill("A signed reply.")
    with page.expect_response(f"{live_server}/api/v1/comments") as response:
        reply_form.locator("button[type=submit]").click()
    assert response.value.status == 201
    assert response.value.request.post_data_json["sso"] == good
    expect(comment(page, "A signed reply").locator(".verified")).to_have_text("verified")
    assert stored(app) == [("Guest", None, "An unsigned comment first."),
                           (NAME, "member-7", "Signed and sealed."),
                           (NAME, "member-7", "A signed reply.")]

    page.reload()
    expect(widget(page).locator(".count")).to_have_text("3 comments")
    expect(comment(page, "Signed and sealed").locator(":scope > article .verified")).to_have_text("verified")
    expect(comment(page, "A signed reply").locator(".author")).to_have_text(NAME)
    expect(comment(page, "An unsigned comment first").locator(":scope > article .verified")).to_have_count(0)
    light = page.evaluate(COLOURS)
    assert light[0] == light[1] == "rgb(10, 88, 184)"

    page.goto(f"{origin}/de")
    expect(widget(page).locator("form").first.locator(".signed-in")).to_have_text(f"Angemeldet als {NAME}")
    german = comment(page, "Signed and sealed").locator(":scope > article .verified")
    expect(german).to_have_text("verifiziert")
    expect(german).to_have_attribute(
        "title", "Die Website bestätigt, wer das geschrieben hat: Die Person war dort angemeldet.")
    dark = page.evaluate(COLOURS)
    assert dark[0] == dark[1] != light[0]


@pytest.mark.browser
def test_an_expired_sign_in_is_refused_in_words_and_nothing_is_stored(
    page: Page, app: Flask, live_server: str, signed: tuple[str, str, Pages]
) -> None:
    origin, secret, pages = signed
    pages["/post"] = ("en", {"article": ARTICLE, "sso": token(secret, exp=int(time.time()) - 3600)})

    page.goto(f"{origin}/post")
    form = widget(page).locator("form").first
    expect(form.locator(".signed-in")).to_have_text(f"Signed in as {NAME}")
    form.locator("textarea[name=text]").fill("Too late to sign.")
    with page.expect_response(f"{live_server}/api/v1/comments") as response:
        form.locator("button[type=submit]").click()
    assert response.value.status == 401
    error = response.value.json()["error"]
    assert (error["code"], error["field"]) == ("sso_expired", "sso")
    notice = form.locator(".notice")
    expect(notice).to_have_text(error["message"])
    expect(notice).to_have_text("Your sign-in has expired: reload the page to sign in again.")
    expect(notice).to_have_class("notice error")
    # What the reader wrote is still there to post again once signed in anew.
    expect(form.locator("textarea[name=text]")).to_have_value("Too late to sign.")
    expect(widget(page).locator("li.comment")).to_have_count(0)

    assert stored(app) == []
    thread = app.test_client().get("/api/v1/threads", query_string={"site": "partner", "article": ARTICLE})
    assert thread.status_code == 200
    assert (thread.get_json()["thread"]["count"], thread.get_json()["comments"]) == (0, [])
