"""The widget's weight: every file it loads, gzipped, stays within the budget."""
from __future__ import annotations

import gzip

import pytest
from playwright.sync_api import Page, Response, expect

from .widget import widget

# All the widget's own files together, gzipped at level 9 as `gzip -9c` does.
BUDGET = 15 * 1024


@pytest.mark.browser
def test_the_widget_loads_little_and_only_from_its_server(page: Page, demo_origin: str) -> None:
    loaded: list[Response] = []
    page.on("response", lambda response: loaded.append(response))
    page.goto(f"{demo_origin}/")
    expect(widget(page).locator("form")).to_be_visible()
    files = {r.url.removeprefix(demo_origin): r for r in loaded
             if r.url.startswith(f"{demo_origin}/widget")}
    assert set(files) == {"/widget.js", "/widget/widget.css"}
    sizes = {path: len(gzip.compress(r.body(), compresslevel=9)) for path, r in files.items()}
    assert sum(sizes.values()) < BUDGET, sizes
    # The page, its stylesheet, the widget's two files and one thread read: nothing else.
    others = [r.url for r in loaded if not r.url.startswith(f"{demo_origin}/")]
    assert others == []
