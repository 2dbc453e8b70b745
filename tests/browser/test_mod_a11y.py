"""Accessibility: axe-core finds nothing serious or critical on any moderator page."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from comments.extensions import db
from comments.models import Comment, Moderator
from comments.services import moderation
from comments.services.accounts import create_api_token, create_moderator
from comments.services.sites import create_site

from ..conftest import make_app
from .conftest import TIMEOUT_MS, serving
from .test_mod_queue import EMAIL, ORIGIN, PASSWORD, log_in, posted
from .test_widget_a11y import AXE

RUN_AXE = """async () => {
  const results = await axe.run(document, { resultTypes: ["violations"] });
  return results.violations.map(({ id, impact, nodes }) =>
    ({ id, impact, targets: nodes.map((node) => node.target) }));
}"""
PAGES = ["/mod/login", "/mod/queue", "/mod/comments", "/mod/comments/{pending}",
         "/mod/comments/{pending}/ban", "/mod/log",
         "/mod/bans", "/mod/sites", "/mod/sites/news", "/mod/moderators", "/mod/tokens",
         "/mod/account", "/mod/overview", "/mod/threads/{thread}", "/mod/comments/{pending}/reader",
         "/mod/privacy"]


@dataclass
class Desk:
    """The seeded moderator pages: the live origin and a logged-in page that may run axe-core."""

    browser: Browser
    origin: str
    page: Page
    ids: dict[str, int]


@pytest.fixture(scope="module")
def desk(browser: Browser, tmp_path_factory: pytest.TempPathFactory,
         _postgres_schema: None) -> Iterator[Desk]:
    """One server, one login as an admin, and a site with pending and approved comments, a ban,
    a token and log entries, shared by every page's check."""
    app = make_app(tmp_path_factory.mktemp("mod_a11y"), SESSION_COOKIE_SECURE=False)
    with app.app_context():
        create_site("news", "News Example", [ORIGIN], moderation="pre")
        create_moderator(EMAIL, PASSWORD, role="admin")
    approved = posted(app, "Ada", "ada@example.org", "The vote was on *Tuesday*, not Monday.")
    with app.app_context():
        admin = db.session.scalar(db.select(Moderator).filter_by(email=EMAIL))
        moderation.apply(admin, [approved], "approve")
        admin_id = admin.id
    pending = posted(app, "Bob", "bob@example.org", "Thanks, corrected.", parent_id=approved)
    posted(app, "Mallory", "mallory@example.org", "You are all paid shills.")
    # An article known by its title alone: its heading is mostly text around the comment's link.
    letter = {"site": "news", "article": "letters", "title": "Letters to the editor on the new lanes",
              "author": {"name": "Eve", "email": "eve@example.org"}, "text": "Bring back parking."}
    response = app.test_client().post("/api/v1/comments", json=letter, headers={"Origin": ORIGIN})
    assert response.status_code == 201, response.json
    with app.app_context():
        admin = db.session.get(Moderator, admin_id)
        comment = db.session.get(Comment, approved)
        moderation.ban(admin, comment.thread.site, email="mallory@example.org", ip=None,
                       reason="Insults", days=30)
        create_api_token(admin, "Newsroom bot")
        thread = comment.thread_id
    context = browser.new_context(bypass_csp=True)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    with serving(app) as origin:
        log_in(page, origin)
        yield Desk(browser, origin, page, {"pending": pending, "thread": thread})
    context.close()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    assert not errors, f"errors in the pages: {errors}"


def serious(page: Page) -> list[dict[str, Any]]:
    """The serious and critical violations axe-core finds in the whole page."""
    if not AXE.is_file():
        pytest.fail(f"axe-core is missing at {AXE}: run `make axe`.")
    page.add_script_tag(path=str(AXE))
    return [v for v in page.evaluate(RUN_AXE) if v["impact"] in ("serious", "critical")]


@pytest.mark.browser
@pytest.mark.parametrize("path", PAGES)
def test_axe_finds_no_serious_violation_on_the_moderator_page(desk: Desk, path: str) -> None:
    url = desk.origin + path.format(**desk.ids)
    # The login page is checked as a stranger sees it, in a context of its own.
    page = desk.browser.new_page(bypass_csp=True) if path == "/mod/login" else desk.page
    try:
        response = page.goto(url)
        assert response is not None and response.status == 200, url
        violations = serious(page)
    finally:
        if page is not desk.page:
            page.context.close()
    assert violations == [], "\n".join(f"{v['impact']} {v['id']}: {v['targets']}" for v in violations)
