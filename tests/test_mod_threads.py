"""A thread's page under /mod: what readers' pages named the article, and an admin's fix of it."""
from __future__ import annotations

from flask import Flask

from comments.extensions import db
from comments.models import AuditEntry, Comment, Thread

from .modhelpers import login, post_comment, setup_sites


def thread_id_of(app: Flask, comment_id: int) -> int:
    with app.app_context():
        return db.session.get(Comment, comment_id).thread_id


def stored(app: Flask, thread_id: int) -> tuple[str | None, str | None, bool]:
    """A thread's (title, url, locked)."""
    with app.app_context():
        thread = db.session.get(Thread, thread_id)
        return thread.title, thread.url, thread.meta_locked_at is not None


def test_a_moderator_reaches_the_thread_page_from_a_comment_on_their_sites_only(app: Flask) -> None:
    setup_sites(app)
    comment_id = post_comment(app, article="a1")
    thread_id = thread_id_of(app, comment_id)
    client, _ = login(app, "newsmod@example.org")
    assert f'href="/mod/threads/{thread_id}"' in client.get(f"/mod/comments/{comment_id}").get_data(as_text=True)
    assert f'href="/mod/threads/{thread_id}"' in client.get("/mod/queue").get_data(as_text=True)
    page = client.get(f"/mod/threads/{thread_id}").get_data(as_text=True)
    assert "Article a1" in page and 'href="https://news.example/a1"' in page
    assert 'name="title"' not in page
    other, _ = login(app, "blogmod@example.org")
    assert other.get(f"/mod/threads/{thread_id}").status_code == 403
    assert client.get("/mod/threads/99999").status_code == 404


def test_an_admin_fixes_an_articles_title_and_url_and_readers_no_longer_change_them(app: Flask) -> None:
    setup_sites(app)
    thread_id = thread_id_of(app, post_comment(app, article="a1"))
    client, token = login(app, "admin@example.org")
    assert 'name="title"' in client.get(f"/mod/threads/{thread_id}").get_data(as_text=True)
    res = client.post(f"/mod/threads/{thread_id}", data={
        "csrf_token": token, "title": " The real title\u200b ", "locked": "on",
        "url": "https://news.example/2026/real?next=//evil.example#top"})
    assert res.status_code == 302 and res.headers["Location"] == f"/mod/threads/{thread_id}"
    assert stored(app, thread_id) == ("The real title", "https://news.example/2026/real", True)
    with app.app_context():
        entry = db.session.scalar(db.select(AuditEntry).filter_by(action="thread_edit"))
        assert entry.moderator.email == "admin@example.org"
        assert entry.detail == {"thread": thread_id, "article": "a1", "locked": [False, True],
                                "title": ["Article a1", "The real title"],
                                "url": ["https://news.example/a1", "https://news.example/2026/real"]}

    post_comment(app, article="a1", text="Another one")
    assert stored(app, thread_id) == ("The real title", "https://news.example/2026/real", True)

    client.post(f"/mod/threads/{thread_id}", data={
        "csrf_token": token, "title": "The real title", "url": "https://news.example/2026/real"})
    post_comment(app, article="a1", text="And another")
    assert stored(app, thread_id) == ("Article a1", "https://news.example/a1", False)


def test_only_an_admin_changes_an_articles_title_or_url(app: Flask) -> None:
    setup_sites(app)
    thread_id = thread_id_of(app, post_comment(app, article="a1"))
    client, token = login(app, "newsmod@example.org")
    res = client.post(f"/mod/threads/{thread_id}", data={
        "csrf_token": token, "title": "Mine now", "url": "https://news.example/mine"})
    assert res.status_code == 403
    assert stored(app, thread_id) == ("Article a1", "https://news.example/a1", False)
    admin, _ = login(app, "admin@example.org")
    assert admin.post(f"/mod/threads/{thread_id}", data={"title": "No token"}).status_code == 400
    assert stored(app, thread_id) == ("Article a1", "https://news.example/a1", False)


def test_a_bad_title_or_url_from_the_admin_is_refused_and_nothing_changes(app: Flask) -> None:
    setup_sites(app)
    thread_id = thread_id_of(app, post_comment(app, article="a1"))
    client, token = login(app, "admin@example.org")
    for form in ({"title": "Fine", "url": "https://blog.example/a1"},
                 {"title": "Fine", "url": "javascript:alert(1)"},
                 {"title": "t" * 301, "url": "https://news.example/a1"},
                 {"title": "bell\u0007", "url": "https://news.example/a1"}):
        res = client.post(f"/mod/threads/{thread_id}", data={"csrf_token": token, "locked": "on", **form})
        assert res.status_code == 422, form
        assert "Not done" in res.get_data(as_text=True)
    assert stored(app, thread_id) == ("Article a1", "https://news.example/a1", False)
    with app.app_context():
        assert db.session.scalar(db.select(AuditEntry).filter_by(action="thread_edit")) is None
