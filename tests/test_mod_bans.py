"""Bans: by email, by address, for a time or for good, with the author's pending comments."""
from __future__ import annotations

from datetime import timedelta

from flask import Flask

from comments.extensions import db
from comments.models import AuditEntry, Ban, utcnow

from .helpers import ORIGIN, comment_payload
from .modhelpers import login, post_comment, setup_sites, status_of


def try_post(app: Flask, email: str | None = "troll@example.net", ip: str = "203.0.113.50"):
    author = {"name": "Troll"} | ({"email": email} if email else {})
    return app.test_client().post(
        "/api/v1/comments", json=comment_payload(author=author, url=f"{ORIGIN}/a1", article="a1"),
        headers={"Origin": ORIGIN}, environ_base={"REMOTE_ADDR": ip})


def test_ban_by_email_refuses_later_posts_and_removes_pending(app: Flask) -> None:
    setup_sites(app)
    pending = post_comment(app, text="troll 1", email="troll@example.net")
    other = post_comment(app, text="innocent", email="nice@example.net")
    client, token = login(app, "newsmod@example.org")
    form = client.get(f"/mod/comments/{pending}/ban").get_data(as_text=True)
    assert 'value="troll@example.net"' in form
    res = client.post("/mod/bans", data={"csrf_token": token, "site": "news", "by_email": "on",
                                         "email": "troll@example.net", "days": "7",
                                         "reason": "abuse", "remove_pending": "on"})
    assert res.status_code == 302
    assert status_of(app, pending) == "removed"
    assert status_of(app, other) == "pending"
    refused = try_post(app, ip="198.51.100.200")
    assert refused.status_code == 403
    error = refused.get_json()["error"]
    assert error["code"] == "banned"
    assert "banned" in error["message"] and "abuse" in error["message"]
    assert try_post(app, email="Troll@Example.NET").status_code == 403
    assert try_post(app, email="someone@example.net").status_code == 201
    with app.app_context():
        # Readers' posts may log the article's new title ("article_update"); the moderator's are these.
        actions = db.session.scalars(db.select(AuditEntry.action)
                                     .where(AuditEntry.action != "article_update")
                                     .order_by(AuditEntry.id)).all()
        assert actions[-2:] == ["ban", "remove"]
        ban = db.session.scalar(db.select(Ban))
        assert ban.expires_at is not None and ban.created_by.email == "newsmod@example.org"


def test_ban_by_address_and_its_end(app: Flask) -> None:
    setup_sites(app)
    client, token = login(app, "admin@example.org")
    client.post("/mod/bans", data={"csrf_token": token, "site": "news", "by_ip": "on",
                                   "ip": "203.0.113.50", "days": "forever", "reason": "flood"})
    assert try_post(app, email=None).status_code == 403
    assert try_post(app, email=None, ip="203.0.113.51").status_code == 201
    # A ban on one site leaves the others alone.
    blog = app.test_client().post("/api/v1/comments", json=comment_payload(
        site="blog", url="https://blog.example/x", author={"name": "T"}),
        headers={"Origin": "https://blog.example"}, environ_base={"REMOTE_ADDR": "203.0.113.50"})
    assert blog.status_code == 201
    with app.app_context():
        ban_id = db.session.scalar(db.select(Ban.id))
    client.post(f"/mod/bans/{ban_id}/lift", data={"csrf_token": token})
    assert try_post(app, email=None).status_code == 201
    assert "lifted" in client.get("/mod/bans").get_data(as_text=True)


def test_an_expired_ban_no_longer_applies(app: Flask) -> None:
    setup_sites(app)
    client, token = login(app, "admin@example.org")
    client.post("/mod/bans", data={"csrf_token": token, "site": "news", "by_email": "on",
                                   "email": "troll@example.net", "days": "1"})
    assert try_post(app).status_code == 403
    with app.app_context():
        db.session.scalar(db.select(Ban)).expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    assert try_post(app).status_code == 201


def test_a_ban_needs_an_email_or_an_address(app: Flask) -> None:
    setup_sites(app)
    client, token = login(app, "admin@example.org")
    res = client.post("/mod/bans", data={"csrf_token": token, "site": "news", "days": "7"})
    assert res.status_code == 422
    res = client.post("/mod/bans", data={"csrf_token": token, "site": "news", "by_ip": "on",
                                         "ip": "1.2.3.4", "days": "12"})
    assert res.status_code == 400
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Ban.id))) == 0


def test_the_same_ban_twice_is_refused(app: Flask) -> None:
    setup_sites(app)
    client, token = login(app, "admin@example.org")
    form = {"csrf_token": token, "site": "news", "by_email": "on", "email": "troll@example.net",
            "days": "7"}
    assert client.post("/mod/bans", data=form).status_code == 302
    again = client.post("/mod/bans", data=form)
    assert again.status_code == 409 and "already banned" in again.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Ban.id))) == 1


def test_a_ban_on_an_ipv6_address_covers_its_64(app: Flask) -> None:
    setup_sites(app)
    cid = post_comment(app, email=None, ip="2001:db8:1:2::50")
    client, token = login(app, "newsmod@example.org")
    form = client.get(f"/mod/comments/{cid}/ban").get_data(as_text=True)
    assert 'name="only_this_address"' in form
    res = client.post("/mod/bans", data={"csrf_token": token, "site": "news", "by_ip": "on",
                                         "ip": "2001:db8:1:2::50", "days": "forever",
                                         "reason": "flood", "remove_pending": "on"})
    assert res.status_code == 302
    assert status_of(app, cid) == "removed"
    for ip in ("2001:db8:1:2::50", "2001:db8:1:2:aaaa:bbbb:cccc:dddd"):
        assert try_post(app, email=None, ip=ip).status_code == 403
    assert try_post(app, email=None, ip="2001:db8:1:3::50").status_code == 201
    assert "2001:db8:1:2::/64" in client.get("/mod/bans").get_data(as_text=True)


def test_a_ban_on_this_address_only_spares_the_rest_of_its_64(app: Flask) -> None:
    setup_sites(app)
    client, token = login(app, "newsmod@example.org")
    client.post("/mod/bans", data={"csrf_token": token, "site": "news", "by_ip": "on",
                                   "ip": "2001:DB8:1:2:0::50", "only_this_address": "on",
                                   "days": "7", "reason": "one machine"})
    assert try_post(app, email=None, ip="2001:db8:1:2::50").status_code == 403
    assert try_post(app, email=None, ip="2001:db8:1:2::51").status_code == 201
    page = client.get("/mod/bans").get_data(as_text=True)
    assert "2001:db8:1:2::50" in page and "this address only" in page


def test_an_ipv4_ban_covers_the_same_address_written_as_ipv6(app: Flask) -> None:
    setup_sites(app)
    client, token = login(app, "newsmod@example.org")
    client.post("/mod/bans", data={"csrf_token": token, "site": "news", "by_ip": "on",
                                   "ip": "203.0.113.50", "days": "7"})
    assert try_post(app, email=None, ip="::ffff:203.0.113.50").status_code == 403
    assert try_post(app, email=None, ip="203.0.113.51").status_code == 201


def test_a_ban_names_a_real_address(app: Flask) -> None:
    setup_sites(app)
    client, token = login(app, "newsmod@example.org")
    res = client.post("/mod/bans", data={"csrf_token": token, "site": "news", "by_ip": "on",
                                         "ip": "not an address", "days": "7"})
    assert res.status_code == 422
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Ban.id))) == 0
