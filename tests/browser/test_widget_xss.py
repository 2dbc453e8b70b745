"""Markup posted through the widget is shown as text and never runs in the host page.

The partner page has no Content-Security-Policy (the demo page's would block inline handlers
by itself), so only the server's sanitizer and the widget's DOM handling stand in the way.
"""
from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from .widget import comment, post, widget

PAYLOADS = (
    '<img src=x onerror="window.__xss=1"> '
    "<script>window.__xss=2</script> "
    '<svg onload="window.__xss=3"></svg> '
    "[click me](javascript:window.__xss=4)"
)
EVIL_NAME = '<img src=y onerror="window.__xss=5">'

LINKS = """() => [...document.querySelector("#comments").shadowRoot.querySelectorAll("a")]
  .map((a) => a.getAttribute("href"))"""


def assert_nothing_ran(page: Page) -> None:
    """The payloads were not turned into elements, links or running script."""
    shown = comment(page, "click me")
    expect(shown.locator(".author")).to_have_text(EVIL_NAME)
    expect(shown.locator(".body")).to_contain_text('<img src=x onerror="window.__xss=1">')
    expect(shown.locator(".body")).to_contain_text("<script>window.__xss=2</script>")
    expect(shown.locator(".body")).to_contain_text("<svg onload=")
    assert shown.locator("img, svg, script").count() == 0
    assert not any((href or "").lower().startswith("javascript:") for href in page.evaluate(LINKS))
    shown.locator(".body").get_by_text("click me").click()
    assert page.evaluate("window.__xss") is None


@pytest.mark.browser
def test_script_in_a_comment_never_runs(page: Page, partner_origin: str) -> None:
    page.goto(f"{partner_origin}/")
    # The trap works on this page: markup parsed into it does run.
    page.evaluate("""document.body.insertAdjacentHTML("beforeend", '<img src=x onerror="window.__control=1">')""")
    page.wait_for_function("window.__control === 1")
    post(widget(page).locator("form").first, EVIL_NAME, PAYLOADS)
    assert_nothing_ran(page)

    page.reload()
    expect(widget(page).locator(".count")).to_have_text("1 comment")
    assert_nothing_ran(page)
    assert page.url == f"{partner_origin}/"
