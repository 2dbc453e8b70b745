"""Accessibility: axe-core finds nothing serious in the widget, and a keyboard reaches everything."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect

from .conftest import TIMEOUT_MS

from .widget import comment, post, posted, set_site_settings, widget

# Installed by `make axe` (a prerequisite of `make test`), pinned in the Makefile.
AXE = Path(__file__).resolve().parents[2] / ".cache/node/node_modules/axe-core/axe.min.js"
# axe checks the open shadow root from its host; only what is inside the widget is judged.
RUN_AXE = """async () => {
  const results = await axe.run(document.querySelector("#comments"), { resultTypes: ["violations"] });
  return results.violations.map(({ id, impact, help, nodes }) =>
    ({ id, impact, help, targets: nodes.map((node) => node.target) }));
}"""
FOCUSED_OUTLINE = """() => {
  const focused = document.querySelector("#comments").shadowRoot.activeElement;
  return [focused?.textContent, getComputedStyle(focused).outlineStyle, getComputedStyle(focused).outlineWidth];
}"""


@pytest.fixture
def axe_page(browser: Browser) -> Iterator[Page]:
    """A page whose Content-Security-Policy lets the test add axe-core's script, failing on any
    script error like the `page` fixture."""
    context = browser.new_context(bypass_csp=True)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert not errors, f"errors in the page: {errors}"


def serious(page: Page) -> list[dict[str, Any]]:
    """The serious and critical violations axe-core finds in the widget."""
    if not AXE.is_file():
        pytest.fail(f"axe-core is missing at {AXE}: run `make axe`.")
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    return [v for v in page.evaluate(RUN_AXE) if v["impact"] in ("serious", "critical")]


@pytest.mark.browser
def test_axe_finds_no_serious_violation_in_a_busy_thread(
    axe_page: Page, app: Flask, demo_origin: str
) -> None:
    page = axe_page
    set_site_settings(app, "demo", downvotes=True)
    parent = posted(app, demo_origin, "Finally a way home after the late shift.")["comment"]["id"]
    posted(app, demo_origin, "Same here, the N7 stops right outside the hospital.", name="Ben",
           parent_id=parent, author={"name": "Ben", "website": "https://ben.example"})
    page.goto(f"{demo_origin}/")
    post(widget(page).locator("form").first, "Ada", "My own comment, still editable.")
    own = comment(page, "still editable")
    expect(own.get_by_role("button", name="Edit")).to_be_visible()
    first = comment(page, "late shift")
    first.get_by_role("button", name="Reply").first.click()
    first.get_by_role("button", name="Up-vote").first.click()
    expect(first.get_by_role("button", name="Up-vote").first).to_have_attribute("aria-pressed", "true")
    comment(page, "right outside").get_by_role("button", name="Report", exact=True).click()
    own.get_by_role("button", name="Delete").click()
    # An error in the main form, announced beside it.
    main = widget(page).locator("form").first
    main.locator("input[name=name]").fill("")
    main.locator("textarea[name=text]").fill("No name given.")
    main.locator("input[name=name]").evaluate("(input) => input.removeAttribute('required')")
    main.locator("button[type=submit]").click()
    expect(main.locator("[aria-live]")).not_to_be_empty()

    assert serious(page) == []
    page.emulate_media(color_scheme="dark")
    assert serious(page) == []

    # Headings and lists a screen reader can walk: the count, then one heading per comment.
    expect(widget(page).get_by_role("heading", level=2)).to_have_text("3 comments")
    expect(widget(page).get_by_role("heading", level=3)).to_have_count(3)
    expect(widget(page).get_by_role("list").first.locator(":scope > li")).to_have_count(2)


@pytest.mark.browser
def test_the_keyboard_reaches_everything_with_a_visible_focus(page: Page, app: Flask, demo_origin: str) -> None:
    posted(app, demo_origin, "Reachable by keyboard.")
    page.goto(f"{demo_origin}/")
    item = comment(page, "Reachable by keyboard")
    expect(item).to_be_visible()
    widget(page).get_by_role("combobox", name="Sort by").focus()
    seen = []
    for _ in range(12):
        page.keyboard.press("Tab")
        label, style, width = page.evaluate(FOCUSED_OUTLINE)
        seen.append(label)
        if label == "Reply":
            assert style == "solid" and width == "2px"
            break
    assert seen[-1] == "Reply", seen
    page.keyboard.press("Enter")
    reply = item.get_by_role("textbox", name="Comment")
    expect(reply).to_be_focused()
    page.keyboard.type("Typed without a mouse.")
    item.get_by_role("textbox", name="Name").focus()
    page.keyboard.type("Kay")
    item.get_by_role("button", name="Post reply").focus()
    page.keyboard.press("Enter")
    expect(comment(page, "Typed without a mouse")).to_be_focused()
