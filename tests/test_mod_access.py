"""Who may reach which moderator page: no session, another site's moderator, moderator vs admin."""
from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from comments import __version__
from comments.extensions import db
from comments.models import ApiToken, Ban, Comment, Moderator, Role, Thread
from comments.services.accounts import create_moderator

from .modhelpers import PASSWORD, account, csrf_token, login, post_comment, setup_sites, status_of


@pytest.fixture
def world(app: Flask) -> dict[str, int]:
    """Two sites with a pending comment each, and a ban on the blog."""
    setup_sites(app)
    ids = {"news": post_comment(app, "news"), "blog": post_comment(app, "blog")}
    client, token = login(app, "admin@example.org")
    client.post("/mod/bans", data={"csrf_token": token, "site": "blog", "by_ip": "on",
                                   "ip": "198.51.100.1", "days": "7", "reason": "flood"})
    with app.app_context():
        ids["ban"] = db.session.scalar(db.select(Ban.id))
        ids["newsmod"] = db.session.scalar(db.select(Moderator.id).filter_by(email="newsmod@example.org"))
        ids["thread"] = db.session.get(Comment, ids["news"]).thread_id
    return ids


GET_PAGES = ["/mod/", "/mod/queue", "/mod/comments", "/mod/comments/{news}", "/mod/comments/{news}/ban",
             "/mod/bans", "/mod/log", "/mod/sites", "/mod/moderators", "/mod/tokens"]
POSTS = [("/mod/actions", {"one": "approve:{news}"}), ("/mod/bans", {"site": "news", "by_ip": "on", "ip": "1.2.3.4"}),
         ("/mod/bans/{ban}/lift", {}), ("/mod/sites", {"slug": "x", "name": "X", "origins": "https://x.example"}),
         ("/mod/sites/news", {"name": "Hacked", "origins": "https://evil.example", "moderation": "post"}),
         ("/mod/moderators", {"email": "new@example.org", "password": PASSWORD, "role": "admin"}),
         ("/mod/moderators/{newsmod}", {"role": "admin", "active": "on"}), ("/mod/tokens", {"name": "t"}),
         ("/mod/tokens/1/revoke", {}), ("/mod/logout", {})]


@pytest.mark.parametrize("path", GET_PAGES)
def test_pages_without_session_redirect_to_login(app: Flask, world: dict[str, int], path: str) -> None:
    res = app.test_client().get(path.format(**world))
    assert res.status_code == 302
    assert res.headers["Location"].startswith("/mod/login?next=")


@pytest.mark.parametrize(("path", "data"), POSTS)
def test_posts_without_session_are_refused_and_change_nothing(app: Flask, world: dict[str, int],
                                                              path: str, data: dict) -> None:
    client = app.test_client()
    form = {k: v.format(**world) for k, v in data.items()} | {"csrf_token": csrf_token(client)}
    res = client.post(path.format(**world), data=form)
    assert res.status_code == 403
    assert status_of(app, world["news"]) == "pending"
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Moderator.id))) == 3
        assert db.session.scalar(db.select(db.func.count(Ban.id))) == 1


def test_the_login_page_is_public_and_next_cannot_leave_the_site(app: Flask, world: dict[str, int]) -> None:
    client = app.test_client()
    assert client.get("/mod/login").status_code == 200
    for target in ("https://evil.example/", "//evil.example/mod", "/\\evil.example"):
        res = client.post("/mod/login", data={"email": "admin@example.org", "password": PASSWORD,
                                              "csrf_token": csrf_token(client), "next": target})
        assert res.headers["Location"] == "/mod/queue"
    res = client.post("/mod/login", data={"email": "admin@example.org", "password": PASSWORD,
                                          "csrf_token": csrf_token(client), "next": "/mod/log?site=news"})
    assert res.headers["Location"] == "/mod/log?site=news"


@pytest.mark.parametrize("path", ["/mod/comments/{blog}", "/mod/comments/{blog}/ban", "/mod/queue?site=blog",
                                  "/mod/comments?site=blog", "/mod/log?site=blog", "/mod/sites",
                                  "/mod/moderators"])
def test_a_moderator_is_refused_outside_their_sites(app: Flask, world: dict[str, int], path: str) -> None:
    client, _ = login(app, "newsmod@example.org")
    assert client.get(path.format(**world)).status_code == 403


def test_leaving_out_the_site_shows_only_the_moderators_sites(app: Flask, world: dict[str, int]) -> None:
    client, _ = login(app, "newsmod@example.org")
    for path in ("/mod/queue", "/mod/comments"):
        page = client.get(path).get_data(as_text=True)
        assert f'id="c{world["news"]}"' in page
        assert f'id="c{world["blog"]}"' not in page
    assert "Blog" not in client.get("/mod/bans").get_data(as_text=True)
    assert "flood" not in client.get("/mod/log").get_data(as_text=True)
    admin, _ = login(app, "admin@example.org")
    page = admin.get("/mod/queue").get_data(as_text=True)
    assert f'id="c{world["news"]}"' in page and f'id="c{world["blog"]}"' in page


@pytest.mark.parametrize(("path", "data"), [
    ("/mod/actions", {"one": "approve:{blog}"}),
    ("/mod/actions", {"action": "remove", "ids": ["{news}", "{blog}"]}),
    ("/mod/bans", {"site": "blog", "by_ip": "on", "ip": "1.2.3.4", "days": "7"}),
    ("/mod/bans/{ban}/lift", {}),
    ("/mod/sites/news", {"name": "Hacked", "origins": "https://evil.example", "moderation": "post"}),
    ("/mod/moderators", {"email": "new@example.org", "password": PASSWORD, "role": "admin"}),
    ("/mod/moderators/{newsmod}", {"role": "admin", "active": "on"}),
])
def test_a_moderator_cannot_act_outside_their_sites_or_manage_accounts(
    app: Flask, world: dict[str, int], path: str, data: dict
) -> None:
    client, token = login(app, "newsmod@example.org")
    form = {k: ([x.format(**world) for x in v] if isinstance(v, list) else v.format(**world))
            for k, v in data.items()} | {"csrf_token": token}
    res = client.post(path.format(**world), data=form)
    assert res.status_code == 403
    assert status_of(app, world["news"]) == "pending"
    assert status_of(app, world["blog"]) == "pending"
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Ban.id))) == 1
        assert db.session.scalar(db.select(Ban.lifted_at)) is None
        assert db.session.scalar(db.select(db.func.count(Moderator.id))) == 3
        assert db.session.scalar(db.select(Moderator.role).filter_by(email="newsmod@example.org")) is Role.MODERATOR


def test_a_moderator_cannot_ban_an_admin_or_another_moderator(app: Flask, world: dict[str, int]) -> None:
    client, token = login(app, "newsmod@example.org")
    for email in ("admin@example.org", "blogmod@example.org"):
        res = client.post("/mod/bans", data={"csrf_token": token, "site": "news", "by_email": "on",
                                             "email": email, "days": "forever"})
        assert res.status_code == 403
    admin, admin_token = login(app, "admin@example.org")
    res = admin.post("/mod/bans", data={"csrf_token": admin_token, "site": "news", "by_email": "on",
                                        "email": "admin@example.org", "days": "forever"})
    assert res.status_code == 403
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Ban.id))) == 1


def test_the_last_admin_cannot_be_demoted(app: Flask, world: dict[str, int]) -> None:
    client, token = login(app, "admin@example.org")
    with app.app_context():
        admin_id = db.session.scalar(db.select(Moderator.id).filter_by(email="admin@example.org"))
    res = client.post(f"/mod/moderators/{admin_id}", data={"csrf_token": token, "role": "moderator",
                                                          "active": "on"})
    assert res.status_code == 409
    with app.app_context():
        assert db.session.scalar(db.select(Moderator.role).filter_by(id=admin_id)) is Role.ADMIN


def test_an_admin_manages_accounts(app: Flask, world: dict[str, int]) -> None:
    client, token = login(app, "admin@example.org")
    res = client.post("/mod/moderators", data={"csrf_token": token, "email": "new@example.org",
                                               "password": PASSWORD, "role": "moderator",
                                               "sites": ["news", "blog"]})
    assert res.status_code == 302
    with app.app_context():
        new = db.session.scalar(db.select(Moderator).filter_by(email="new@example.org"))
        assert [s.slug for s in new.sites] == ["blog", "news"]
        new_id = new.id
    client.post(f"/mod/moderators/{new_id}", data={"csrf_token": token, "role": "moderator",
                                                   "sites": ["news"]})
    with app.app_context():
        new = db.session.get(Moderator, new_id)
        assert not new.active and [s.slug for s in new.sites] == ["news"]
    fresh = app.test_client()
    res = fresh.post("/mod/login", data={"email": "new@example.org", "password": PASSWORD,
                                         "csrf_token": csrf_token(fresh)})
    assert res.status_code == 401


def test_deactivation_and_password_change_end_existing_sessions(app: Flask, world: dict[str, int]) -> None:
    client, _ = login(app, "newsmod@example.org")
    assert client.get("/mod/queue").status_code == 200
    with app.app_context():
        from comments.services.accounts import set_password

        set_password(db.session.scalar(db.select(Moderator).filter_by(email="newsmod@example.org")),
                     "another long password")
    assert client.get("/mod/queue").status_code == 302
    admin, token = login(app, "admin@example.org")
    blogmod, _ = login(app, "blogmod@example.org")
    blogmod_id = account(app, "blogmod@example.org").id
    admin.post(f"/mod/moderators/{blogmod_id}", data={"csrf_token": token, "role": "moderator",
                                                      "sites": ["blog"]})
    assert blogmod.get("/mod/queue").status_code == 302


def _browser_with(app: Flask, cookie: str) -> FlaskClient:
    """Another browser holding a copy of a session cookie."""
    copy = app.test_client()
    copy.set_cookie("session", cookie)
    return copy


def test_a_copied_session_cookie_stops_working_after_logout(app: Flask,
                                                            world: dict[str, int]) -> None:
    client, token = login(app, "newsmod@example.org")
    cookie = client.get_cookie("session").value
    assert _browser_with(app, cookie).get("/mod/queue").status_code == 200
    assert client.post("/mod/logout", data={"csrf_token": token}).status_code == 302
    minted = _browser_with(app, cookie).post("/mod/tokens",
                                             data={"csrf_token": token, "name": "kept"})
    assert minted.status_code == 403
    assert _browser_with(app, cookie).get("/mod/queue").status_code == 302
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(ApiToken.id))) == 0


def test_a_role_change_ends_the_accounts_sessions(app: Flask, world: dict[str, int]) -> None:
    admin, token = login(app, "admin@example.org")
    promoted, _ = login(app, "newsmod@example.org")
    bystander, _ = login(app, "blogmod@example.org")
    res = admin.post(f"/mod/moderators/{world['newsmod']}",
                     data={"csrf_token": token, "role": "admin", "active": "on", "sites": ["news"]})
    assert res.status_code == 302
    assert promoted.get("/mod/queue").status_code == 302
    assert bystander.get("/mod/queue").status_code == 200
    assert admin.get("/mod/queue").status_code == 200
    again, _ = login(app, "newsmod@example.org")
    assert again.get("/mod/sites").status_code == 200


def test_security_headers_on_moderator_pages(app: Flask, world: dict[str, int]) -> None:
    client, _ = login(app, "admin@example.org")
    for path in ("/mod/login", "/mod/queue", f"/mod/comments/{world['news']}"):
        res = client.get(path)
        csp = res.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert res.headers["X-Frame-Options"] == "DENY"
        assert res.headers["Referrer-Policy"] == "no-referrer"
        assert res.headers["Cache-Control"] == "no-store"
        assert "<script>" not in res.get_data(as_text=True)
        assert " style=" not in res.get_data(as_text=True)


def test_session_cookie_flags(app: Flask, world: dict[str, int]) -> None:
    client = app.test_client()
    res = client.post("/mod/login", data={"email": "admin@example.org", "password": PASSWORD,
                                          "csrf_token": csrf_token(client)})
    cookie = res.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie
    assert "Expires=" in cookie


@pytest.mark.parametrize("path", ["/mod/comments/99999999999999", "/mod/comments/0",
                                  "/api/v1/mod/comments/99999999999999"])
def test_ids_beyond_the_database_range_are_404(app: Flask, world: dict[str, int], path: str) -> None:
    client, _ = login(app, "admin@example.org")
    assert client.get(path).status_code in (401, 404)


def test_the_release_is_in_the_footer_for_moderators_only(app: Flask, world: dict[str, int]) -> None:
    footer = f'<footer class="foot">comments {__version__}</footer>'
    assert footer not in app.test_client().get("/mod/login").get_data(as_text=True)
    client, _ = login(app, "newsmod@example.org")
    assert footer in client.get("/mod/queue").get_data(as_text=True)


def test_the_log_filter_lists_only_the_accounts_on_the_moderators_sites(
        app: Flask, world: dict[str, int]) -> None:
    with app.app_context():
        create_moderator("both@example.org", PASSWORD, "moderator", ["news", "blog"])
        create_moderator("gone@example.org", PASSWORD, "moderator", [])
    client, _ = login(app, "newsmod@example.org")
    page = client.get("/mod/log").get_data(as_text=True)
    for shown in ("newsmod@example.org", "both@example.org", "admin@example.org"):
        assert shown in page
    assert "blogmod@example.org" not in page and "gone@example.org" not in page
    admin, _ = login(app, "admin@example.org")
    everyone = admin.get("/mod/log").get_data(as_text=True)
    for shown in ("newsmod@example.org", "blogmod@example.org", "gone@example.org"):
        assert shown in everyone


@pytest.mark.parametrize("target", ["/mod/log\r\nSet-Cookie: a=b", "/mod/log\nX: y", "/mod/log\rX: y",
                                    "/mod/log\x00", "/mod/log\x7f"])
def test_a_next_with_control_characters_never_reaches_the_location_header(
        app: Flask, world: dict[str, int], target: str) -> None:
    client = app.test_client()
    res = client.post("/mod/login", data={"email": "admin@example.org", "password": PASSWORD,
                                          "csrf_token": csrf_token(client), "next": target})
    assert res.status_code == 400 and "Location" not in res.headers
    assert client.get("/mod/queue").headers["Location"].startswith("/mod/login")  # not logged in
    client, token = login(app, "admin@example.org")
    res = client.post(f"/mod/threads/{world['thread']}/close", data={"csrf_token": token, "next": target})
    assert res.status_code == 400 and "Location" not in res.headers
    with app.app_context():
        assert db.session.get(Thread, world["thread"]).closed_at is None
