"""Refusals and failures are told in words beside the form, and the reader's text stays put."""
from __future__ import annotations

import json

import pytest
from playwright.sync_api import Page, Route, expect

from .widget import post, widget

LONG_TEXT = "The night bus is great. " * 416 + "x" * 17


@pytest.mark.browser
def test_api_errors_are_shown_beside_the_form_and_keep_the_text(page: Page, demo_origin: str) -> None:
    assert len(LONG_TEXT) == 10_001
    page.goto(f"{demo_origin}/")
    form = widget(page).locator("form").first
    name, text = form.locator("input[name=name]"), form.locator("textarea[name=text]")
    notice = form.locator("[aria-live]")

    with page.expect_response(f"{demo_origin}/api/v1/comments") as response:
        post(form, "Ada", LONG_TEXT)
    error = response.value.json()["error"]
    assert response.value.status == 422 and error["field"] == "text"
    expect(notice).to_have_text(error["message"])
    expect(text).to_have_attribute("aria-invalid", "true")
    expect(text).to_be_focused()
    assert text.input_value() == LONG_TEXT
    expect(name).to_have_value("Ada")

    with page.expect_response(f"{demo_origin}/api/v1/comments") as response:
        post(form, "A" * 65, "Short enough.")
    error = response.value.json()["error"]
    assert error["field"] == "author.name"
    expect(notice).to_have_text(error["message"])
    expect(name).to_have_attribute("aria-invalid", "true")
    expect(text).not_to_have_attribute("aria-invalid", "true")
    expect(text).to_have_value("Short enough.")
    expect(widget(page).locator(".count")).to_have_text("No comments yet")


@pytest.mark.browser
def test_rate_limits_and_outages_say_what_to_do(page: Page, demo_origin: str) -> None:
    def too_many(route: Route) -> None:
        route.fulfill(status=429, headers={"Retry-After": "120"}, content_type="application/json",
                      body=json.dumps({"error": {"code": "rate_limited", "message": "Slow down.",
                                                 "field": None}}))

    page.goto(f"{demo_origin}/")
    form = widget(page).locator("form").first
    notice = form.locator("[aria-live]")
    page.route("**/api/v1/comments", too_many)
    post(form, "Ada", "Is the N7 running on Christmas Eve?")
    expect(notice).to_have_text("You are commenting too quickly. Please try again in 2 minutes.")

    page.unroute("**/api/v1/comments")
    page.route("**/api/v1/comments", lambda route: route.abort("connectionrefused"))
    form.locator("button[type=submit]").click()
    expect(notice).to_contain_text("could not be reached")
    expect(form.locator("textarea[name=text]")).to_have_value("Is the N7 running on Christmas Eve?")
    expect(form.locator("button[type=submit]")).to_be_enabled()
