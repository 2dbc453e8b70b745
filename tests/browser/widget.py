"""Helpers that drive the widget the way a reader does."""
from __future__ import annotations

from playwright.sync_api import Locator, Page

# The path of the article on the partner page (see the partner_origin fixture); its canonical URL.
PARTNER_PATH = "/posts/hello"


def widget(page: Page) -> Locator:
    """The widget's host element; Playwright's locators reach into its open shadow root."""
    return page.locator("#comments")


def post(form: Locator, name: str, text: str) -> None:
    """Fill a widget form's name and text and submit it with its button."""
    form.locator("input[name=name]").fill(name)
    form.locator("textarea[name=text]").fill(text)
    form.locator("button[type=submit]").click()


def comment(page: Page, text: str) -> Locator:
    """The rendered comment whose own text contains `text`."""
    return widget(page).locator("li.comment", has=page.locator(".body", has_text=text)).last
