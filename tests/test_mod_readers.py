"""A reader's data from the admin pages: export, forget (confirmed first), the purge, all logged."""
from __future__ import annotations

import json
from datetime import timedelta

from flask import Flask

from comments.extensions import db
from comments.models import AuditEntry, Comment, CommentStatus, utcnow

from .modhelpers import login, post_comment, setup_sites

ADA = "ada@example.org"


def _entries(app: Flask, action: str) -> list[AuditEntry]:
    with app.app_context():
        return list(db.session.scalars(db.select(AuditEntry).filter_by(action=action)
                                       .order_by(AuditEntry.id)))


def _nothing_personal(app: Flask, *secrets: str) -> None:
    """No audit entry repeats who the reader was."""
    with app.app_context():
        for entry in db.session.scalars(db.select(AuditEntry)):
            text = json.dumps(entry.detail) + entry.reason
            assert not any(secret.lower() in text.lower() for secret in secrets), entry.action


def test_an_admin_downloads_a_readers_data_on_the_comments_site(app: Flask) -> None:
    setup_sites(app)
    first = post_comment(app, "news", text="First", name="Ada", email=ADA)
    post_comment(app, "news", article="a2", text="Second", name="Ada", email=ADA.upper())
    post_comment(app, "blog", text="Elsewhere", name="Ada", email=ADA)
    post_comment(app, "news", text="Not hers", name="Bob", email="bob@example.org")
    client, token = login(app, "admin@example.org")
    card = client.get(f"/mod/comments/{first}").get_data(as_text=True)
    assert f'href="/mod/comments/{first}/reader"' in card
    page = client.get(f"/mod/comments/{first}/reader")
    assert page.status_code == 200
    assert ADA in page.get_data(as_text=True) and "2 pending" in page.get_data(as_text=True)
    assert client.get(f"/mod/comments/{first}/reader/export").status_code == 405
    assert client.post(f"/mod/comments/{first}/reader/export").status_code == 400
    res = client.post(f"/mod/comments/{first}/reader/export", data={"csrf_token": token})
    assert res.status_code == 200 and res.mimetype == "application/json"
    assert res.headers["Content-Disposition"].startswith("attachment;")
    data = res.get_json()
    assert data["author"] == ADA and data["by"] == "email" and data["site"] == "news"
    assert sorted(c["text"] for c in data["comments"]) == ["First", "Second"]
    assert {c["site"] for c in data["comments"]} == {"news"}
    assert data["comments"][0]["ip"] == "203.0.113.9"
    [entry] = _entries(app, "reader_export")
    with app.app_context():
        entry = db.session.get(AuditEntry, entry.id)
        assert entry.moderator.email == "admin@example.org" and entry.site.slug == "news"
    assert entry.detail == {"by": "email", "comments": 2}
    _nothing_personal(app, ADA)


def test_forgetting_a_reader_shows_what_will_happen_then_does_it_when_confirmed(app: Flask) -> None:
    setup_sites(app)
    first = post_comment(app, "news", text="First", name="Ada", email=ADA)
    client, token = login(app, "admin@example.org")
    client.post("/mod/actions", data={"csrf_token": token, "one": f"approve:{first}"})
    post_comment(app, "news", text="Reply to her", name="Bob", email="bob@example.org",
                 parent_id=first)
    second = post_comment(app, "news", article="a2", text="Second", name="Ada", email=ADA)
    elsewhere = post_comment(app, "blog", text="Elsewhere", name="Ada", email=ADA)
    url = f"/mod/comments/{first}/reader/forget"
    assert client.post(url).status_code == 400
    confirm = client.post(url, data={"csrf_token": token, "delete_rows": "on"})
    page = confirm.get_data(as_text=True)
    assert confirm.status_code == 200
    assert "delete 1 of their comments outright" in page and "erase 1 that others replied to" in page
    assert "drop 0 emails" in page and 'name="confirm" value="yes"' in page
    with app.app_context():
        assert db.session.get(Comment, second).author_email == ADA
    done = client.post(url, data={"csrf_token": token, "delete_rows": "on", "confirm": "yes",
                                  "expect": "2:0"})
    assert done.status_code == 302
    assert "2 comments erased" in client.get(done.headers["Location"]).get_data(as_text=True)
    with app.app_context():
        kept = db.session.get(Comment, first)
        assert kept.status is CommentStatus.DELETED and kept.author_email is None
        assert kept.text == "" and kept.client_ip is None
        assert db.session.get(Comment, second) is None
        assert db.session.get(Comment, elsewhere).author_email == ADA
    [entry] = _entries(app, "reader_forget")
    assert entry.detail == {"by": "email", "comments": 2, "replied": 1, "mails": 0,
                            "delete_rows": True}
    assert entry.moderator_id is not None
    assert all(e.moderator_id == entry.moderator_id for e in _entries(app, "forget"))
    _nothing_personal(app, ADA, "Ada")


def test_a_single_sign_on_reader_is_named_by_their_identity_on_that_site_only(app: Flask) -> None:
    setup_sites(app)
    mine = post_comment(app, "news", text="Signed in", name="Ada", email="ada@one.example")
    also = post_comment(app, "news", article="a2", text="Again", name="Ada", email="ada@two.example")
    other = post_comment(app, "blog", text="Someone else", name="Sam", email="sam@example.org")
    with app.app_context():
        for comment_id in (mine, also, other):
            db.session.get(Comment, comment_id).sso_id = "ada@idp"
        db.session.commit()
    client, token = login(app, "admin@example.org")
    assert "Single sign-on identity" in client.get(f"/mod/comments/{mine}/reader").get_data(
        as_text=True)
    data = client.post(f"/mod/comments/{mine}/reader/export",
                       data={"csrf_token": token}).get_json()
    assert data["by"] == "sso" and sorted(c["id"] for c in data["comments"]) == [mine, also]
    client.post(f"/mod/comments/{mine}/reader/forget",
                data={"csrf_token": token, "confirm": "yes", "expect": "2:0"})
    with app.app_context():
        assert db.session.get(Comment, also).status is CommentStatus.DELETED
        assert db.session.get(Comment, other).sso_id == "ada@idp"


def test_an_author_without_identity_is_offered_their_one_comment(app: Flask) -> None:
    setup_sites(app)
    lone = post_comment(app, "news", text="Anonymous", name="Anon", email=None)
    post_comment(app, "news", article="a2", text="Also anonymous", name="Anon", email=None)
    client, token = login(app, "admin@example.org")
    page = client.get(f"/mod/comments/{lone}/reader").get_data(as_text=True)
    assert "nothing to export or forget by identity" in page
    data = client.post(f"/mod/comments/{lone}/reader/export", data={"csrf_token": token}).get_json()
    assert data["author"] is None and [c["id"] for c in data["comments"]] == [lone]
    confirm = client.post(f"/mod/comments/{lone}/reader/forget", data={"csrf_token": token})
    assert "erase 1 of their comments" in confirm.get_data(as_text=True)
    client.post(f"/mod/comments/{lone}/reader/forget",
                data={"csrf_token": token, "confirm": "yes", "expect": "1:0"})
    with app.app_context():
        statuses = db.session.scalars(db.select(Comment.status).order_by(Comment.id)).all()
    assert statuses == [CommentStatus.DELETED, CommentStatus.PENDING]


def test_a_site_moderator_may_not_export_or_forget_or_purge(app: Flask) -> None:
    setup_sites(app)
    comment = post_comment(app, "news", name="Ada", email=ADA)
    client, token = login(app, "newsmod@example.org")
    assert "Reader's data" not in client.get(f"/mod/comments/{comment}").get_data(as_text=True)
    assert client.get(f"/mod/comments/{comment}/reader").status_code == 403
    for url in (f"/mod/comments/{comment}/reader/export", f"/mod/comments/{comment}/reader/forget",
                "/mod/privacy/purge"):
        res = client.post(url, data={"csrf_token": token, "confirm": "yes", "expect": "1:0"})
        assert res.status_code == 403 and "text/html" in res.content_type
    assert client.get("/mod/privacy").status_code == 403
    with app.app_context():
        assert db.session.get(Comment, comment).author_email == ADA
    assert _entries(app, "reader_export") == [] and _entries(app, "reader_forget") == []


def test_unknown_comments_get_a_page_not_a_crash(app: Flask) -> None:
    setup_sites(app)
    client, token = login(app, "admin@example.org")
    for url in ("/mod/comments/999999/reader", "/mod/comments/99999999999999999999/reader",
                "/mod/comments/x/reader"):
        res = client.get(url)
        assert res.status_code == 404 and "text/html" in res.content_type
    res = client.post("/mod/comments/999999/reader/forget", data={"csrf_token": token})
    assert res.status_code == 404 and "text/html" in res.content_type


def test_the_purge_button_erases_old_addresses_and_logs_how_many(app: Flask) -> None:
    setup_sites(app)
    old = post_comment(app, "news", email=ADA)
    new = post_comment(app, "news", email=ADA)
    with app.app_context():
        db.session.get(Comment, old).created_at = utcnow() - timedelta(days=31)
        db.session.commit()
    client, token = login(app, "admin@example.org")
    page = client.get("/mod/privacy").get_data(as_text=True)
    assert "30 days" in page and 'action="/mod/privacy/purge"' in page
    res = client.post("/mod/privacy/purge", data={"csrf_token": token})
    assert res.status_code == 302
    assert "Erased the address of 1 comment older than 30 days." in client.get(
        res.headers["Location"]).get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Comment, old).client_ip is None
        assert db.session.get(Comment, new).client_ip == "203.0.113.9"
    [entry] = _entries(app, "purge")
    assert entry.detail == {"days": 30, "erased": 1} and entry.moderator_id is not None
    assert "purge" in client.get("/mod/log").get_data(as_text=True)


def test_a_confirmation_that_no_longer_matches_what_would_be_erased_changes_nothing(
        app: Flask) -> None:
    setup_sites(app)
    first = post_comment(app, "news", text="First", name="Ada", email=ADA)
    client, token = login(app, "admin@example.org")
    page = client.post(f"/mod/comments/{first}/reader/forget",
                       data={"csrf_token": token}).get_data(as_text=True)
    assert "erase 1 of their comments" in page and 'name="expect" value="1:0"' in page
    later = post_comment(app, "news", article="a2", text="Written since", name="Ada", email=ADA)
    res = client.post(f"/mod/comments/{first}/reader/forget",
                      data={"csrf_token": token, "confirm": "yes", "expect": "1:0"})
    assert res.status_code == 409 and "changed" in res.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Comment, first).author_email == ADA
        assert db.session.get(Comment, later).author_email == ADA
    assert _entries(app, "reader_forget") == [] and _entries(app, "forget") == []
    for bad in ("", "x", "1", "1:0:0", "99999999999:0"):
        res = client.post(f"/mod/comments/{first}/reader/forget",
                          data={"csrf_token": token, "confirm": "yes", "expect": bad})
        assert res.status_code == 400 and "text/html" in res.content_type
