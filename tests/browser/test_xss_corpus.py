"""A corpus of XSS payloads, posted through the API, runs neither in the widget nor for moderators.

Each payload of tests/data/xss_payloads.txt goes in as a comment's text, some also as the
author's name, website or the article's title. The widget is shown on a partner page without a
Content-Security-Policy, so only the sanitizer and the widget's DOM handling stand in the way;
the moderator pages keep their CSP, and the `page` fixture fails on any violation it reports.
Every element of every comment is then scrolled to, hovered, clicked and sent pointer, mouse,
focus and key events; no payload may have become markup outside the allowlist, a link to
anything but http(s) or mailto, or running script.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from comments.extensions import db
from comments.sanitize import ALLOWED_ATTRIBUTES, ALLOWED_TAGS
from comments.services.accounts import create_moderator
from comments.services.sites import create_site

from ..conftest import make_app
from .widget import PARTNER_PATH, widget

CORPUS = Path(__file__).resolve().parent.parent / "data" / "xss_payloads.txt"
PAYLOADS = [line.replace("\\n", "\n") for line in CORPUS.read_text().splitlines()
            if line and not line.startswith("# ")]
# Names are one line of at most 64 characters; the website is an http(s) URL without spaces.
NAMES = [p for p in PAYLOADS if len(p) <= 64 and not re.search(r"[\x00-\x1f]", p)][:40]
WEBSITES = [
    'https://ok.example/"><img/src=x/onerror=window.__xss=901>',
    "https://ok.example/#'onmouseover='window.__xss=902'",
    "https://ok.example/?q=</a><script>window.__xss=903</script>",
    "http://ok.example/<svg/onload=window.__xss=904>",
    "https://ok.example/`><img/src=x/onerror=window.__xss=905>",
    "https://ok.example/&quot;onfocus=&quot;window.__xss=906",
]
# The API refuses these outright: a website is an http(s) address or nothing.
REFUSED_WEBSITES = [
    "javascript:window.__xss=911",
    "JaVaScRiPt://ok.example/%0awindow.__xss=912",
    "data:text/html,<script>window.__xss=913</script>",
    "vbscript:window.__xss=914",
    "\tjavascript:window.__xss=915",
]
TITLE = '<img src=x onerror="window.__xss=921"> </title><script>window.__xss=922</script>'
MOD_EMAIL, MOD_PASSWORD = "desk@desk.example", "correct horse battery staple"

# Before anything on the page runs: dialogs and printing mark the trap too.
TRAP = """for (const name of ["alert", "confirm", "prompt", "print"]) {
  window[name] = () => { window.__xss = name; };
}"""

# Scroll to, and send every kind of event a handler could listen for to, every element of the
# comments; links to http(s)/mailto keep the page where it is, every other link is followed.
PROVOKE = """(where) => {
  const root = where === "widget" ? document.querySelector("#comments").shadowRoot : document;
  root.addEventListener("click", (event) => {
    const link = event.target.closest && event.target.closest("a[href]");
    if (link && /^(https?:|mailto:)/i.test(link.getAttribute("href"))) event.preventDefault();
  }, true);
  const kinds = [
    [PointerEvent, ["pointerover", "pointerenter", "pointerdown", "pointerup"]],
    [MouseEvent, ["mouseover", "mouseenter", "mousemove", "mousedown", "mouseup", "click",
                  "dblclick", "auxclick", "contextmenu", "mouseleave", "mouseout"]],
    [FocusEvent, ["focus", "focusin", "blur"]],
    [KeyboardEvent, ["keydown", "keypress", "keyup"]],
    [AnimationEvent, ["animationstart", "animationend"]],
    [Event, ["toggle", "load", "error", "scroll", "input", "change", "submit"]],
  ];
  const elements = [...root.querySelectorAll(
    ".body, .body *, .author, .author *, .article, .parent, .parent *, dl.author dd, dl.author dd *")];
  for (const element of elements) {
    element.scrollIntoView({ block: "center" });
    for (const [Kind, types] of kinds) {
      for (const type of types) {
        element.dispatchEvent(new Kind(type, { bubbles: true, cancelable: true }));
      }
    }
    if (typeof element.focus === "function") element.focus();
  }
  window.scrollTo(0, document.body.scrollHeight);
  return elements.length;
}"""

# Markup inside comment bodies: only the allowlist, only its attributes, only http(s)/mailto links;
# and names, websites and titles shown as text.
FOREIGN = """([where, allowed, attributes]) => {
  const root = where === "widget" ? document.querySelector("#comments").shadowRoot : document;
  const found = [];
  for (const body of root.querySelectorAll(".body")) {
    for (const element of body.querySelectorAll("*")) {
      const tag = element.localName;
      if (!allowed.includes(tag)) found.push(element.outerHTML.slice(0, 160));
      for (const attribute of element.attributes) {
        if (!(attributes[tag] || []).concat(tag === "a" ? ["rel"] : []).includes(attribute.name)) {
          found.push(`${tag}[${attribute.name}] in ${body.innerHTML.slice(0, 160)}`);
        }
      }
      if (tag === "a" && !/^(https?:\\/\\/|mailto:)/i.test(element.getAttribute("href"))) {
        found.push(`link to ${element.getAttribute("href")}`);
      }
    }
  }
  const shownAsText = where === "widget" ? ".author" : "dl.author dd, .article, .parent";
  for (const shown of root.querySelectorAll(shownAsText)) {
    for (const element of shown.querySelectorAll("*")) {
      if (!["a", "span", "br"].includes(element.localName)) found.push(element.outerHTML.slice(0, 160));
    }
  }
  for (const link of root.querySelectorAll(".author[href], dl.author a, a.article")) {
    const href = link.getAttribute("href");
    if (!/^https?:\\/\\//i.test(href)) found.push(`link to ${href}`);
  }
  return found;
}"""


# A control for the harness: markup put into the widget unsanitized does run when provoked.
CONTROL = """() => {
  const probe = document.createElement("div");
  probe.className = "body control";
  probe.innerHTML = '<span onmouseover="window.__control = 1">hover</span>'
    + '<a href="javascript:window.__control_link = 1">follow</a>'
    + '<img src="data:," onerror="window.__control_img = 1">';
  document.querySelector("#comments").shadowRoot.append(probe);
}"""


@pytest.fixture
def app(tmp_path: Path, _postgres_schema: None) -> Iterator[Flask]:
    """The app over plain http, so that the moderator's session cookie travels."""
    app = make_app(tmp_path, SESSION_COOKIE_SECURE=False)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def seed(app: Flask, site: str, origin: str, article: str, replies: bool) -> list[dict[str, Any]]:
    """Post every payload, as a comment or (where `replies`) a reply, some under a payload name
    or website."""
    client = app.test_client()
    accepted: list[dict[str, Any]] = []

    def post(text: str, name: str = "Reader", website: str | None = None, parent: int | None = None,
             expected: int = 201) -> dict[str, Any]:
        author = {"name": name} | ({"website": website} if website else {})
        response = client.post("/api/v1/comments", headers={"Origin": origin}, json={
            "site": site, "article": article, "url": f"{origin}/posts/hello", "title": TITLE,
            "author": author, "text": text, "parent_id": parent})
        assert response.status_code == expected, (text, name, website, response.json)
        return response.json

    for n, payload in enumerate(PAYLOADS):
        parent = accepted[-1]["comment"]["id"] if replies and n % 4 == 3 else None
        name = NAMES[n] if n < len(NAMES) else f"Reader {n}"
        website = WEBSITES[n % len(WEBSITES)] if n % 5 == 0 else None
        accepted.append(post(payload, name, website, parent))
    for website in REFUSED_WEBSITES:
        assert post("ok", website=website, expected=422)["error"]["field"] == "author.website"
    return accepted


def arm(page: Page) -> list[str]:
    """Set the trap, stay on this machine, and collect every dialog the page opens."""
    dialogs: list[str] = []
    page.add_init_script(TRAP)
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.context.route(re.compile(r"^(?!http://127\.0\.0\.1[:/]).*"), lambda route: route.abort())
    page.context.on("page", lambda popup: popup.close())
    return dialogs


def assert_inert(page: Page, where: str, dialogs: list[str]) -> None:
    """Provoke every element of the comments; nothing may be foreign markup or have run."""
    assert page.evaluate(PROVOKE, where) > 0
    scope = widget(page) if where == "widget" else page
    for link in scope.locator(".body a").all():
        link.hover()
    for body in scope.locator(".body").all()[::10]:
        body.click(position={"x": 2, "y": 2})
    allowlist = [sorted(ALLOWED_TAGS), ALLOWED_ATTRIBUTES]
    assert page.evaluate(FOREIGN, [where, *allowlist]) == []
    assert page.evaluate("[window.__xss, top.__xss]") == [None, None], "a payload ran"
    assert dialogs == []


@pytest.mark.browser
def test_no_payload_runs_in_the_widget_on_a_page_without_csp(
        app: Flask, page: Page, partner_origin: str) -> None:
    accepted = seed(app, "partner", partner_origin, f"{partner_origin}{PARTNER_PATH}", replies=True)
    dialogs = arm(page)
    page.goto(f"{partner_origin}/")
    root = widget(page)
    expect(root.locator(".body").first).to_be_visible()
    page.evaluate(CONTROL)
    page.evaluate(PROVOKE, "widget")
    page.wait_for_function("window.__control && window.__control_link && window.__control_img")
    page.evaluate("""() => { document.querySelector("#comments").shadowRoot.querySelector(".control")
      .remove(); delete window.__control; }""")
    while (more := root.locator("button.more-comments")).is_visible():
        shown = root.locator("li.comment").count()
        more.click()
        expect(root.locator("li.comment")).not_to_have_count(shown)
    while (folded := root.locator("li.more > button")).count():
        folded.first.click()
    expect(root.locator(".body")).to_have_count(len(accepted))
    # Names and websites are text and plain links, whatever they hold.
    for answer in accepted[: len(NAMES)]:
        name = answer["comment"]["author"]["name"]
        expect(root.locator(f"#comment-{answer['comment']['id']} .author").first).to_have_text(name)
    assert_inert(page, "widget", dialogs)


@pytest.mark.browser
def test_no_payload_runs_in_the_moderator_pages(app: Flask, page: Page, live_server: str) -> None:
    with app.app_context():
        create_site("desk", "Desk", ["https://desk.example"], moderation="pre")
        create_moderator(MOD_EMAIL, MOD_PASSWORD, role="admin")
    accepted = seed(app, "desk", "https://desk.example", "payloads", replies=False)
    dialogs = arm(page)
    page.goto(f"{live_server}/mod/login?next=/mod/queue")
    page.get_by_label("Email").fill(MOD_EMAIL)
    page.get_by_label("Password").fill(MOD_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/mod/queue$"))
    shown = 0
    for path in ("/mod/queue", "/mod/comments"):
        for number in range(1, -(-len(accepted) // 50) + 1):
            page.goto(f"{live_server}{path}?page={number}")
            expect(page.locator("li.item").first).to_be_visible()
            shown += page.locator("li.item .body").count()
            assert_inert(page, "mod", dialogs)
    assert shown == 2 * len(accepted)
    page.goto(f"{live_server}/mod/comments/{accepted[0]['comment']['id']}")
    assert_inert(page, "mod", dialogs)
