"""New comments announced without a reload, found by a cheap revalidation of the thread."""
from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask, Response, request
from playwright.sync_api import Page, expect

from .conftest import serving
from .widget import ARTICLE, comment, embedding_pages, posted, widget

# What a reader's return to the tab does: the widget revalidates at once.
BACK_TO_THE_TAB = "document.dispatchEvent(new Event('visibilitychange'))"


def record_thread_reads(app: Flask) -> list[tuple[int, str | None]]:
    """The status of every thread read the server answers, with the If-None-Match it got."""
    reads: list[tuple[int, str | None]] = []

    def record(response: Response) -> Response:
        if request.path == "/api/v1/threads":
            reads.append((response.status_code, request.headers.get("If-None-Match")))
        return response

    app.after_request(record)
    return reads


def wait_until(page: Page, condition: Callable[[], bool], timeout_ms: int = 5_000) -> None:
    """Let the page run until `condition()` holds."""
    for _ in range(timeout_ms // 50):
        if condition():
            return
        page.wait_for_timeout(50)
    raise AssertionError("the condition did not come true in time")


@pytest.mark.browser
def test_new_comments_are_announced_and_shown_on_request(page: Page, app: Flask, demo_origin: str) -> None:
    reads = record_thread_reads(app)
    posted(app, demo_origin, "The first one.")
    page.goto(f"{demo_origin}/")
    news = widget(page).locator(".news")
    expect(widget(page).locator(".count")).to_have_text("1 comment")

    # Nothing new: the server answers 304 without a body, and the widget says nothing.
    page.evaluate(BACK_TO_THE_TAB)
    wait_until(page, lambda: len(reads) >= 2)
    assert reads[0] == (200, None) and reads[1][0] == 304 and reads[1][1], reads
    expect(news).to_be_empty()

    posted(app, demo_origin, "The second one.")
    reply_to = posted(app, demo_origin, "The third one.")["comment"]["id"]
    posted(app, demo_origin, "A reply to the third.", parent_id=reply_to)
    page.evaluate(BACK_TO_THE_TAB)
    expect(news).to_have_text("3 new comments — show")
    expect(news).to_have_attribute("role", "status")
    expect(widget(page).locator("li.comment")).to_have_count(1)
    expect(widget(page).locator(".count")).to_have_text("1 comment")

    news.get_by_role("button", name="show").click()
    expect(widget(page).locator("li.comment")).to_have_count(4)
    expect(widget(page).locator(".count")).to_have_text("4 comments")
    expect(comment(page, "The second one")).to_be_focused()
    expect(news).to_be_empty()


@pytest.mark.browser
def test_the_widget_polls_on_its_own_across_origins(page: Page, app: Flask, live_server: str) -> None:
    pages = {"/": ("en", {"article": ARTICLE, "poll-seconds": "0.5"})}
    with embedding_pages(app, serving, f"{live_server}/widget.js", pages) as origin:
        page.goto(f"{origin}/")
        expect(widget(page).locator(".count")).to_have_text("No comments yet")
        posted(app, origin, "Posted while the page was open.", site="partner")
        expect(widget(page).locator(".news")).to_have_text("1 new comment — show")


# The DevTools console's getEventListeners, which only the command line API offers.
LISTENERS = """[getEventListeners(document).visibilitychange?.length ?? 0,
                 getEventListeners(window).hashchange?.length ?? 0]"""


@pytest.mark.browser
def test_unmount_leaves_no_listener_on_the_page(page: Page, demo_origin: str) -> None:
    page.goto(f"{demo_origin}/")
    expect(widget(page).locator(".count")).to_have_text("No comments yet")
    cdp = page.context.new_cdp_session(page)

    def listeners() -> list[int]:
        answer = cdp.send("Runtime.evaluate", {"expression": LISTENERS, "includeCommandLineAPI": True,
                                                "returnByValue": True})
        return answer["result"]["value"]

    assert listeners() == [1, 1]
    page.evaluate("CommentsWidget.unmount()")
    expect(widget(page).locator(".count")).to_have_count(0)
    assert listeners() == [0, 0]
    page.evaluate("CommentsWidget.mount()")
    expect(widget(page).locator(".count")).to_have_text("No comments yet")
    assert listeners() == [1, 1]


@pytest.mark.browser
def test_a_new_reply_to_a_folded_comment_is_announced_and_counted_in_its_fold(
    page: Page, app: Flask, demo_origin: str
) -> None:
    top = posted(app, demo_origin, "Busy one.")["comment"]["id"]
    for n in range(1, 6):
        posted(app, demo_origin, f"Answer {n}.", parent_id=top)
    page.goto(f"{demo_origin}/")
    news = widget(page).locator(".news")
    folded = widget(page).locator(".thread > li.comment > .replies > .more button")
    expect(folded).to_have_text("Show 2 more replies")

    posted(app, demo_origin, "Answer 6.", parent_id=top)
    page.evaluate(BACK_TO_THE_TAB)
    expect(news).to_have_text("1 new comment — show")
    news.get_by_role("button", name="show").click()
    expect(widget(page).locator(".count")).to_have_text("7 comments")
    expect(folded).to_have_text("Show 3 more replies")
    folded.click()
    expect(comment(page, "Answer 4.")).to_be_focused()
    expect(comment(page, "Answer 6.")).to_be_visible()
