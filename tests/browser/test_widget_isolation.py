"""The demo page's hostile stylesheet stops at the widget's shadow root."""
from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from .widget import comment, post, widget

STYLES = """() => {
  const pick = (element) => {
    const style = getComputedStyle(element);
    return Object.fromEntries(["color", "fontFamily", "fontStyle", "lineHeight", "letterSpacing",
      "textAlign", "textTransform", "backgroundColor", "borderTopStyle", "paddingTop"]
      .map((name) => [name, style[name]]));
  };
  const host = document.querySelector("#comments");
  const root = host.shadowRoot;
  const probe = document.createElement("button");
  document.querySelector(".discussion").append(probe);
  const styles = {
    page: pick(document.querySelector(".discussion")),
    pageButton: pick(probe),
    host: pick(host),
    text: pick(root.querySelector(".comment .body p")),
    name: pick(root.querySelector(".comment .author")),
    submit: pick(root.querySelector("button[type=submit]")),
    field: pick(root.querySelector("textarea[name=text]")),
  };
  probe.remove();
  return styles;
}"""

RED = "rgb(224, 0, 27)"
HOTPINK = "rgb(255, 105, 180)"


@pytest.mark.browser
def test_page_css_does_not_reach_into_the_widget(page: Page, demo_origin: str) -> None:
    page.goto(f"{demo_origin}/")
    post(widget(page).locator("form").first, "Ada", "Plain words in a plain font.")
    expect(comment(page, "Plain words")).to_be_visible()
    styles = page.evaluate(STYLES)

    # The traps are live: the page's own elements around the widget get them.
    assert styles["page"]["color"] == RED
    assert "Comic Sans" in styles["page"]["fontFamily"]
    assert styles["pageButton"]["backgroundColor"] == HOTPINK

    for part in ("host", "text", "name", "submit", "field"):
        style = styles[part]
        assert style["color"] != RED, part
        assert "Comic Sans" not in style["fontFamily"] and "Impact" not in style["fontFamily"], part
        assert style["fontStyle"] == "normal", part
        assert style["letterSpacing"] == "normal", part
        assert style["textTransform"] == "none", part
        assert style["textAlign"] in ("start", "left", "center"), part
    for part in ("host", "text", "name"):
        assert float(styles[part]["lineHeight"].removesuffix("px")) < 30, part
    assert styles["host"]["backgroundColor"] == "rgba(0, 0, 0, 0)"
    assert styles["host"]["borderTopStyle"] == "none"
    assert styles["host"]["paddingTop"] == "0px"
    assert styles["submit"]["backgroundColor"] != HOTPINK
    assert styles["field"]["backgroundColor"] != HOTPINK
    assert styles["field"]["borderTopStyle"] == "solid"
