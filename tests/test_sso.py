"""Single sign-on: a site's signed readers post under a verified identity."""
from __future__ import annotations

import time
from typing import Any

import jwt
import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from comments.extensions import db
from comments.models import AuditEntry, Comment, Moderator, Site
from comments.services.accounts import create_moderator
from comments.services.moderation import apply, ban
from comments.services.sites import create_site
from comments.services.sso import rotate_secret

from .helpers import ORIGIN, comment_payload, read
from .modhelpers import PASSWORD, login


@pytest.fixture
def secret(app: Flask) -> str:
    with app.app_context():
        site = create_site("news", "News", [ORIGIN])
        create_site("blog", "Blog", ["https://blog.example"])
        rotate_secret(db.session.scalar(db.select(Site).filter_by(slug="blog")))
        return rotate_secret(site)


def token(secret: str, **claims: Any) -> str:
    payload = {"sub": "u-42", "name": "Signed Sam", "email": "sam@example.org",
               "avatar": "https://news.example/a/42.png", "exp": int(time.time()) + 600} | claims
    return jwt.encode({k: v for k, v in payload.items() if v is not None}, secret, algorithm="HS256")


def send(client: FlaskClient, sso: object, **overrides: Any):
    return client.post("/api/v1/comments", json=comment_payload(sso=sso, **overrides),
                       headers={"Origin": ORIGIN})


def test_a_signed_reader_posts_under_the_verified_identity(app: Flask, client: FlaskClient,
                                                          secret: str) -> None:
    res = send(client, token(secret), author={"name": "Typed Name", "email": "typed@example.net"})
    assert res.status_code == 201, res.get_json()
    author = res.get_json()["comment"]["author"]
    assert author == {"name": "Signed Sam", "website": None, "verified": True,
                      "avatar": "https://news.example/a/42.png"}
    with app.app_context():
        row = db.session.scalar(db.select(Comment))
        assert (row.sso_id, row.author_name, row.author_email) == ("u-42", "Signed Sam", "sam@example.org")
    shown = read(client).get_json()["comments"][0]["author"]
    assert shown["verified"] is True and "email" not in shown


def test_the_name_and_email_fields_may_be_left_out(client: FlaskClient, secret: str) -> None:
    res = client.post("/api/v1/comments", json={"site": "news", "article": "a", "text": "hi",
                                                "sso": token(secret)}, headers={"Origin": ORIGIN})
    assert res.status_code == 201


@pytest.mark.parametrize(("make", "code"), [
    (lambda s: token(s, exp=int(time.time()) - 120), "sso_expired"),
    (lambda s: token(s)[:-3] + "abc", "sso_invalid"),
    (lambda s: token("a different secret of a proper length, 48 bytes"), "sso_invalid"),
    (lambda s: token(s, aud="blog"), "sso_invalid"),
    (lambda s: token(s, exp=None), "sso_invalid"),
    (lambda s: token(s, name=None), "sso_invalid"),
    (lambda s: token(s, name="\u200b\u2060"), "sso_invalid"),
    (lambda s: token(s, email="root,attacker@evil.example"), "sso_invalid"),
    (lambda s: token(s, email="Sam <sam@example.org>"), "sso_invalid"),
    (lambda s: jwt.encode({"sub": "x", "name": "n", "exp": int(time.time()) + 60}, s, algorithm="HS512"),
     "sso_invalid"),
    (lambda s: "not.a.jwt", "sso_invalid"),
    (lambda s: token(s, exp=str(253402300799)), "sso_invalid"),
    (lambda s: token(s, iat=str(int(time.time()))), "sso_invalid"),
    (lambda s: 12, "sso_invalid"),
])
def test_bad_expired_tampered_or_foreign_tokens_are_refused(app: Flask, client: FlaskClient,
                                                            secret: str, make, code: str) -> None:
    res = send(client, make(secret))
    assert res.status_code == 401
    error = res.get_json()["error"]
    assert error["code"] == code and error["field"] == "sso" and error["message"]
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Comment.id))) == 0


def test_another_sites_token_is_refused(app: Flask, client: FlaskClient, secret: str) -> None:
    with app.app_context():
        blog_secret = db.session.scalar(db.select(Site.sso_secret).filter_by(slug="blog"))
    res = send(client, token(blog_secret))
    assert res.status_code == 401 and res.get_json()["error"]["code"] == "sso_invalid"


def test_a_site_without_sso_says_so(app: Flask, client: FlaskClient, secret: str) -> None:
    res = client.post("/api/v1/comments", json=comment_payload(site="blog", url=None, sso=None),
                      headers={"Origin": "https://blog.example"})
    assert res.status_code == 201
    with app.app_context():
        create_site("plain", "Plain", ["https://plain.example"])
    res = client.post("/api/v1/comments", json=comment_payload(site="plain", url=None, sso="x.y.z"),
                      headers={"Origin": "https://plain.example"})
    assert res.status_code == 422 and res.get_json()["error"]["field"] == "sso"


def test_identities_are_banned_and_trusted_by_identity(app: Flask, client: FlaskClient,
                                                       secret: str) -> None:
    with app.app_context():
        site = db.session.scalar(db.select(Site).filter_by(slug="news"))
        site.moderation = "pre"
        site.settings = {"trusted_after": 1}
        db.session.commit()
        create_moderator("boss@example.org", "long enough password", "admin")
    first = send(client, token(secret)).get_json()
    assert first["status"] == "pending"
    with app.app_context():
        apply(db.session.scalar(db.select(Moderator)), [first["comment"]["id"]], "approve")
    assert send(client, token(secret), text="trusted now").get_json()["status"] == "approved"
    # The same email without the signature earns nothing.
    plain = send(client, None, author={"name": "Sam", "email": "sam@example.org"}, text="me too")
    assert plain.get_json()["status"] == "pending"
    with app.app_context():
        ban(db.session.scalar(db.select(Moderator)), db.session.scalar(db.select(Site).filter_by(slug="news")),
            email=None, ip=None, identity="u-42", reason="rude", days=None)
    refused = send(client, token(secret, email="other@example.org"), text="again")
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "banned"


def test_set_site_rotates_and_turns_off_the_secret(app: Flask, runner: FlaskCliRunner,
                                                   client: FlaskClient, secret: str) -> None:
    out = runner.invoke(args=["comments", "set-site", "news", "--sso-secret", "rotate"])
    assert out.exit_code == 0 and "shown once" in out.output
    new_secret = out.output.strip().rsplit(" ", 1)[-1]
    assert new_secret != secret
    assert send(client, token(secret)).status_code == 401
    assert send(client, token(new_secret)).status_code == 201
    runner.invoke(args=["comments", "set-site", "news", "--sso-secret", "off"])
    assert send(client, token(new_secret)).status_code == 422


HOUR = 3600


YEAR_9999 = 253402300799


@pytest.mark.parametrize("claims", [
    lambda now: {"exp": YEAR_9999},
    lambda now: {"exp": YEAR_9999, "iat": now},
    lambda now: {"exp": now + 600, "iat": 0},
    lambda now: {"exp": now + 25 * HOUR, "iat": now},
    lambda now: {"exp": now + 25 * HOUR},
    lambda now: {"exp": now + 23 * HOUR + 1800, "iat": now - HOUR},
])
def test_a_token_living_longer_than_the_sites_cap_is_refused(app: Flask, client: FlaskClient,
                                                            secret: str, claims) -> None:
    res = send(client, token(secret, **claims(int(time.time()))))
    assert res.status_code == 401
    error = res.get_json()["error"]
    assert error["code"] == "sso_lifetime" and error["field"] == "sso"
    assert "1440 minutes" in error["message"]
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Comment.id))) == 0


def test_a_token_within_the_cap_is_accepted(client: FlaskClient, secret: str) -> None:
    now = int(time.time())
    assert send(client, token(secret, iat=now - HOUR, exp=now + 23 * HOUR)).status_code == 201
    assert send(client, token(secret, exp=now + 24 * HOUR)).status_code == 201


def test_the_lifetime_cap_is_set_per_site_from_the_cli_and_the_admin_page(
        app: Flask, runner: FlaskCliRunner, client: FlaskClient, secret: str) -> None:
    now = int(time.time())
    out = runner.invoke(args=["comments", "set-site", "news", "--sso-max-lifetime", "60"])
    assert out.exit_code == 0 and "60 minutes" in out.output
    refused = send(client, token(secret, iat=now, exp=now + 2 * HOUR))
    assert refused.status_code == 401 and "60 minutes" in refused.get_json()["error"]["message"]
    assert send(client, token(secret, iat=now, exp=now + HOUR)).status_code == 201
    for bad in ("0", "-5", "x", "99999999999999999999"):
        out = runner.invoke(args=["comments", "set-site", "news", "--sso-max-lifetime", bad])
        assert out.exit_code != 0
    with app.app_context():
        create_moderator("admin@example.org", PASSWORD, "admin")
        assert db.session.scalar(db.select(Site.sso_max_lifetime_minutes).filter_by(slug="news")) == 60
    admin, csrf = login(app, "admin@example.org")
    assert 'name="sso_max_lifetime_minutes" value="60"' in admin.get("/mod/sites/news").get_data(as_text=True)
    for bad in ("0", "x", "9" * 5000):
        res = admin.post("/mod/sites/news/sso", data={"csrf_token": csrf, "action": "lifetime",
                                                      "sso_max_lifetime_minutes": bad})
        assert 400 <= res.status_code < 500
    res = admin.post("/mod/sites/news/sso", data={"csrf_token": csrf, "action": "lifetime",
                                                  "sso_max_lifetime_minutes": "180"})
    assert res.status_code == 302
    assert send(client, token(secret, iat=now, exp=now + 2 * HOUR)).status_code == 201
    with app.app_context():
        site = db.session.scalar(db.select(Site).filter_by(slug="news"))
        assert site.sso_max_lifetime_minutes == 180 and site.sso_secret
        entries = db.session.scalars(db.select(AuditEntry).filter_by(action="site_update")
                                     .order_by(AuditEntry.id)).all()
        assert [e.detail.get("sso_max_lifetime_minutes") for e in entries][-2:] == [[1440, 60], [60, 180]]
