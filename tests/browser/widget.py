"""Helpers that drive the widget the way a reader does, and set the scene through the app."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from html import escape
from typing import Any

from flask import Flask
from playwright.sync_api import Locator, Page

from comments.extensions import db
from comments.models import Comment, CommentStatus, Site, Thread, utcnow
from comments.services.sites import create_site

# The path of the article on the partner page (see the partner_origin fixture); its canonical URL.
PARTNER_PATH = "/posts/hello"
# The article the demo page embeds.
ARTICLE = "night-bus-line"


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


def own_article(item: Locator) -> Locator:
    """A comment's own article (not those of its replies)."""
    return item.locator(":scope > article")


def posted(app: Flask, origin: str, text: str, name: str = "Grace", site: str = "demo",
           article: str = ARTICLE, **extra: Any) -> dict[str, Any]:
    """Post a comment through the API as another reader would; return the answer's JSON."""
    response = app.test_client().post("/api/v1/comments", headers={"Origin": origin}, json={
        "site": site, "article": article, "author": {"name": name}, "text": text, **extra,
    })
    assert response.status_code == 201, response.json
    return response.json


def set_site_settings(app: Flask, slug: str, **settings: Any) -> None:
    """Change per-site settings (edit_window_minutes, downvotes, show_own_pending, ...)."""
    with app.app_context():
        site = db.session.scalar(db.select(Site).filter_by(slug=slug))
        site.settings = {**site.settings, **settings}
        db.session.commit()


def change_comment(app: Flask, comment_id: int, **values: Any) -> None:
    """Change a comment's row, and the thread's version so its ETag moves too."""
    with app.app_context():
        found = db.session.get(Comment, comment_id)
        for name, value in values.items():
            setattr(found, name, value)
        found.thread.version += 1
        db.session.commit()


def age_comment(app: Flask, comment_id: int, seconds: float) -> None:
    """Pretend a comment was posted `seconds` earlier than it was."""
    with app.app_context():
        created = db.session.get(Comment, comment_id).created_at
    change_comment(app, comment_id, created_at=created - timedelta(seconds=seconds))


def close_thread(app: Flask, slug: str = "demo", article: str = ARTICLE) -> None:
    """Close a thread as a moderator would."""
    with app.app_context():
        site = db.session.scalar(db.select(Site).filter_by(slug=slug))
        thread = db.session.scalar(db.select(Thread).filter_by(site_id=site.id, article_key=article))
        thread.closed_at = utcnow()
        thread.version += 1
        db.session.commit()


def seed_thread(app: Flask, count: int, slug: str = "demo", article: str = ARTICLE,
                replies: Callable[[int], int] = lambda i: 0) -> list[int]:
    """Insert `count` approved top-level comments, one a minute ("Comment 1" oldest), each with
    `replies(i)` replies ("Reply i.1", ...), in one transaction; returns the top-level ids in order."""
    with app.app_context():
        site = db.session.scalar(db.select(Site).filter_by(slug=slug))
        thread = Thread(site_id=site.id, article_key=article, comment_count=0)
        db.session.add(thread)
        db.session.flush()
        start = utcnow() - timedelta(days=2)
        tops = [_row(thread, f"Comment {i}", start + timedelta(minutes=i)) for i in range(1, count + 1)]
        db.session.add_all(tops)
        db.session.flush()
        total = count
        for i, top in enumerate(tops, 1):
            for j in range(1, replies(i) + 1):
                reply = _row(thread, f"Reply {i}.{j}", top.created_at + timedelta(seconds=j))
                reply.parent_id, reply.root_id, reply.depth = top.id, top.id, 1
                db.session.add(reply)
                total += 1
        thread.comment_count = total
        db.session.commit()
        return [top.id for top in tops]


def _row(thread: Thread, text: str, created: Any) -> Comment:
    return Comment(thread_id=thread.id, site_id=thread.site_id, author_name="Seeder", text=text,
                   html=f"<p>{escape(text)}</p>", status=CommentStatus.APPROVED, created_at=created)


def replies_of(page: Page, text: str) -> list[str]:
    """The texts of the replies shown directly under the comment whose text is `text`."""
    return page.evaluate("""(text) => {
      const root = document.querySelector("#comments").shadowRoot;
      const item = [...root.querySelectorAll("li.comment")]
        .find((li) => li.querySelector(":scope > article .body")?.textContent.trim() === text);
      return [...item.querySelectorAll(":scope > .replies > li.comment > article .body")]
        .map((body) => body.textContent.trim());
    }""", text)


def top_level_texts(page: Page) -> list[str]:
    """The texts of the top-level comments, in the order shown."""
    return page.evaluate("""() => [...document.querySelector("#comments").shadowRoot
      .querySelectorAll(".thread > li.comment > article .body")].map((body) => body.textContent.trim())""")


@contextmanager
def embedding_pages(app: Flask, serving: Callable[..., Any], widget_url: str,
                    pages: dict[str, tuple[str, dict[str, str]]], slug: str = "partner") -> Iterator[str]:
    """Serve a partner's pages on a second origin, each path with its `<html lang>` and the data-*
    attributes of its embed (data-site is `slug`, registered here); yields the origin."""

    def app_(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        lang, data = pages.get(environ["PATH_INFO"], ("en", {}))
        attributes = "".join(f' data-{name}="{escape(value)}"' for name, value in data.items())
        html = (
            f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>Partner</title>'
            '<link rel="icon" href="data:,"></head><body><main><h1>Partner</h1>'
            f'<div id="comments" data-site="{slug}"{attributes}></div>'
            f'<script src="{widget_url}" async></script></main></body></html>'
        ).encode()
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8"),
                                  ("Content-Length", str(len(html)))])
        return [html]

    with serving(app_) as origin:
        with app.app_context():
            create_site(slug, "Partner", [origin], moderation="post")
        yield origin
