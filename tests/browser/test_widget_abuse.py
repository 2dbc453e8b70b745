"""Abuse protection in the widget: honeypot, reader key, timing token, real rate limits, reports."""
from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Page, Request, expect

from comments.extensions import db
from comments.models import Report

from ..conftest import make_app
from .widget import comment, post, widget

ARTICLE = "night-bus-line"
READER_KEY = re.compile(r"^[A-Za-z0-9_-]{43}$")
NO_STORAGE = """Object.defineProperty(window, "localStorage", {
  get() { throw new DOMException("Storage is switched off.", "SecurityError"); },
})"""
POSTS_LIMITED = {"RATELIMIT_ENABLED": True, "RATELIMIT_POST": "1 per minute"}
REPORTS_LIMITED = {"RATELIMIT_ENABLED": True, "RATELIMIT_REPORT": "1 per minute"}


@pytest.fixture
def app(request: pytest.FixtureRequest, tmp_path: Path, _postgres_schema: None) -> Iterator[Flask]:
    """The app, with the settings a test passes by indirect parametrization (none by default)."""
    app = make_app(tmp_path, **getattr(request, "param", {}))
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def is_post(request: Request) -> bool:
    """The widget's POST of a comment."""
    return request.method == "POST" and request.url.endswith("/api/v1/comments")


def posted_through_api(app: Flask, origin: str, name: str, text: str) -> int:
    """Post an approved comment on the demo article as another reader would; return its id."""
    response = app.test_client().post("/api/v1/comments", headers={"Origin": origin}, json={
        "site": "demo", "article": ARTICLE, "author": {"name": name}, "text": text,
    })
    assert response.status_code == 201 and response.json["status"] == "approved", response.json
    return response.json["comment"]["id"]


def reasons(app: Flask, comment_id: int) -> list[str]:
    """The reasons of the reports the server stored for a comment."""
    with app.app_context():
        return list(db.session.scalars(
            db.select(Report.reason).where(Report.comment_id == comment_id).order_by(Report.id)))


@pytest.mark.browser
def test_the_honeypot_is_out_of_sight_and_sent_empty(page: Page, demo_origin: str) -> None:
    page.goto(f"{demo_origin}/")
    form = widget(page).locator("form").first
    trap = form.locator("input[name=homepage]")
    expect(trap).to_have_attribute("tabindex", "-1")
    expect(trap).to_have_attribute("autocomplete", "off")
    expect(form.locator("label", has=page.locator("input[name=homepage]"))).to_have_text("Leave this empty")
    # Hidden from assistive technology, yet there in the markup for bots.
    expect(form.get_by_role("textbox", name="Leave this empty")).to_have_count(0)
    expect(form.get_by_role("textbox", name="Leave this empty", include_hidden=True)).to_have_count(1)
    box = trap.bounding_box()
    assert box is not None and box["y"] + box["height"] <= 0, box
    form.locator("input[name=email]").focus()
    page.keyboard.press("Tab")
    expect(form.locator("textarea[name=text]")).to_be_focused()

    with page.expect_request(is_post) as request:
        post(form, "Ada", "Nothing in the hidden field.")
    assert request.value.post_data_json["homepage"] == ""
    expect(comment(page, "Nothing in the hidden field")).to_be_visible()


@pytest.mark.browser
def test_writes_carry_one_reader_key_and_reads_carry_none(page: Page, demo_origin: str) -> None:
    reads: list[Request] = []
    page.on("request", lambda request: reads.append(request) if request.method == "GET" else None)
    page.goto(f"{demo_origin}/")
    form = widget(page).locator("form").first
    keys: list[str | None] = []
    for text in ("First of two.", "Second of two."):
        with page.expect_request(is_post) as request:
            post(form, "Ada", text)
        keys.append(request.value.header_value("X-Comments-Reader"))
        expect(comment(page, text)).to_be_visible()
    page.reload()
    with page.expect_request(is_post) as request:
        post(widget(page).locator("form").first, "Ada", "After a reload.")
    keys.append(request.value.header_value("X-Comments-Reader"))

    assert READER_KEY.match(keys[0] or "") and keys == [keys[0]] * 3
    stored = page.evaluate(f"JSON.parse(localStorage.getItem('comments:{demo_origin}:reader'))")
    assert stored == keys[0]
    api_reads = [r for r in reads if "/api/v1/" in r.url]
    assert api_reads and all(r.header_value("X-Comments-Reader") is None for r in api_reads)
    # The reader's own comments get no Report button.
    expect(widget(page).get_by_role("button", name="Report", exact=True)).to_have_count(0)


@pytest.mark.browser
def test_without_storage_the_reader_key_lasts_as_long_as_the_page(page: Page, demo_origin: str) -> None:
    page.add_init_script(NO_STORAGE)
    page.goto(f"{demo_origin}/")
    keys: list[str | None] = []
    for text in ("One without storage.", "Two without storage."):
        with page.expect_request(is_post) as request:
            post(widget(page).locator("form").first, "Ada", text)
        keys.append(request.value.header_value("X-Comments-Reader"))
        expect(comment(page, text)).to_be_visible()
    page.reload()
    with page.expect_request(is_post) as request:
        post(widget(page).locator("form").first, "Ada", "Three, on a new page.")
    assert READER_KEY.match(keys[0] or "") and keys[1] == keys[0]
    assert READER_KEY.match(request.value.header_value("X-Comments-Reader") or "")
    assert request.value.header_value("X-Comments-Reader") != keys[0]


@pytest.mark.browser
def test_the_timing_token_from_the_thread_goes_back_with_a_post(page: Page, demo_origin: str) -> None:
    with page.expect_response(lambda response: "/api/v1/threads?" in response.url) as thread:
        page.goto(f"{demo_origin}/")
    token = thread.value.json()["form_token"]
    assert isinstance(token, str) and token
    with page.expect_request(is_post) as request:
        post(widget(page).locator("form").first, "Ada", "Typed at human speed.")
    assert request.value.post_data_json["form_token"] == token


@pytest.mark.browser
@pytest.mark.parametrize("app", [POSTS_LIMITED], indirect=True, ids=["1 post per minute"])
def test_a_real_rate_limit_is_told_in_words_and_keeps_the_text(page: Page, demo_origin: str) -> None:
    page.goto(f"{demo_origin}/")
    form = widget(page).locator("form").first
    post(form, "Ada", "The first comment gets through.")
    expect(comment(page, "The first comment gets through")).to_be_visible()

    with page.expect_response(lambda response: is_post(response.request)) as response:
        post(form, "Ada", "The second one is too soon.")
    assert response.value.status == 429
    expect(form.locator("[aria-live]")).to_have_text(re.compile(
        r"^You are commenting too quickly\. Please try again in \d+ (second|minute)s?\.$"))
    expect(form.locator("textarea[name=text]")).to_have_value("The second one is too soon.")
    expect(form.locator("button[type=submit]")).to_be_enabled()
    expect(widget(page).locator("li.comment")).to_have_count(1)


@pytest.mark.browser
def test_a_report_is_sent_thanked_and_remembered(page: Page, app: Flask, demo_origin: str) -> None:
    spam = posted_through_api(app, demo_origin, "Mallory", "Cheap watches at example.com")
    off_topic = posted_through_api(app, demo_origin, "Trent", "Anyone know a good tram museum?")
    page.goto(f"{demo_origin}/")
    item = comment(page, "Cheap watches")
    item.get_by_role("button", name="Report", exact=True).click()
    report = item.get_by_role("form", name="Report the comment by Mallory")
    expect(report.get_by_role("radio", name="Spam")).to_be_focused()
    report.get_by_role("radio", name="Spam").check()
    with page.expect_request(lambda r: r.url.endswith(f"/api/v1/comments/{spam}/reports")) as request:
        report.get_by_role("button", name="Send report").click()
    expect(item.locator("[aria-live]")).to_have_text("Thanks — a moderator will look at it.")
    expect(report).to_have_count(0)
    assert request.value.post_data_json == {"reason": "Spam"}
    assert READER_KEY.match(request.value.header_value("X-Comments-Reader") or "")
    expect(item.get_by_role("button", name="Reported")).to_be_disabled()

    other = comment(page, "tram museum")
    other.get_by_role("button", name="Report", exact=True).click()
    form = other.get_by_role("form")
    form.get_by_role("radio", name="Off topic").check()
    form.get_by_label("Details (optional)").fill("  About trams, not buses.  ")
    form.get_by_role("button", name="Send report").click()
    expect(other.locator("[aria-live]")).to_have_text("Thanks — a moderator will look at it.")

    page.reload()
    for text in ("Cheap watches", "tram museum"):
        expect(comment(page, text).get_by_role("button", name="Reported")).to_be_disabled()
        expect(comment(page, text).get_by_role("button", name="Report", exact=True)).to_have_count(0)
    assert reasons(app, spam) == ["Spam"]
    assert reasons(app, off_topic) == ["Off topic: About trams, not buses."]


@pytest.mark.browser
def test_a_report_form_closes_and_reopens_where_it_was(page: Page, app: Flask, demo_origin: str) -> None:
    posted_through_api(app, demo_origin, "Mallory", "Cheap watches at example.com")
    page.goto(f"{demo_origin}/")
    item = comment(page, "Cheap watches")
    button = item.get_by_role("button", name="Report", exact=True)
    button.click()
    expect(button).to_have_attribute("aria-expanded", "true")
    item.get_by_role("radio", name="Abusive or hateful").check()
    item.get_by_role("button", name="Cancel").click()
    expect(item.get_by_role("form")).to_be_hidden()
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(button).to_be_focused()
    button.click()
    expect(item.get_by_role("radio", name="Abusive or hateful")).to_be_checked()
    expect(item.get_by_role("radio", name="Abusive or hateful")).to_be_focused()
    expect(item.get_by_label("Details (optional)")).to_have_attribute("maxlength", "480")


@pytest.mark.browser
@pytest.mark.parametrize("app", [REPORTS_LIMITED], indirect=True, ids=["1 report per minute"])
def test_too_many_reports_are_refused_in_words(page: Page, app: Flask, demo_origin: str) -> None:
    posted_through_api(app, demo_origin, "Mallory", "Cheap watches at example.com")
    second = posted_through_api(app, demo_origin, "Mallory", "Cheap bags at example.com")
    page.goto(f"{demo_origin}/")
    answers = ("Thanks — a moderator will look at it.",
               re.compile(r"^You are sending reports too quickly\. Please try again in \d+ (second|minute)s?\.$"))
    for text, answer in zip(("Cheap watches", "Cheap bags"), answers, strict=True):
        item = comment(page, text)
        item.get_by_role("button", name="Report", exact=True).click()
        item.get_by_role("radio", name="Spam").check()
        item.get_by_role("button", name="Send report").click()
        expect(item.locator("[aria-live]")).to_have_text(answer)
    expect(item.get_by_role("radio", name="Spam")).to_be_checked()
    expect(item.get_by_role("button", name="Send report")).to_be_enabled()
    assert reasons(app, second) == []
    page.reload()
    expect(comment(page, "Cheap bags").get_by_role("button", name="Report", exact=True)).to_be_enabled()
