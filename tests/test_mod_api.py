"""The moderation API: bearer tokens, the same access rules and the same audit log."""
from __future__ import annotations

import re

import pytest
from flask import Flask

from comments.extensions import db
from comments.models import ApiToken, AuditEntry

from .helpers import read
from .modhelpers import approved_then_edited, login, post_comment, setup_sites, status_of


def api_token(app: Flask, email: str) -> str:
    client, csrf = login(app, email)
    page = client.post("/mod/tokens", data={"csrf_token": csrf, "name": "bot"}).get_data(as_text=True)
    match = re.search(r'<code id="new-token">([^<]+)</code>', page)
    assert match
    return match.group(1)


@pytest.fixture
def setup(app: Flask) -> dict[str, int]:
    setup_sites(app)
    return {"news": post_comment(app, "news", text="news one"),
            "news2": post_comment(app, "news", text="news two", email="x@example.net"),
            "blog": post_comment(app, "blog", text="blog one")}


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_tokens_are_stored_hashed_and_revocable(app: Flask, setup: dict[str, int]) -> None:
    token = api_token(app, "newsmod@example.org")
    with app.app_context():
        stored = db.session.scalar(db.select(ApiToken))
        assert token not in stored.token_hash and len(stored.token_hash) == 64
    client = app.test_client()
    assert client.get("/api/v1/mod/queue", headers=auth(token)).status_code == 200
    web, csrf = login(app, "newsmod@example.org")
    web.post(f"/mod/tokens/{stored.id}/revoke", data={"csrf_token": csrf})
    res = client.get("/api/v1/mod/queue", headers=auth(token))
    assert res.status_code == 401
    assert res.get_json()["error"]["code"] == "unauthorized"


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer nope", "Basic abc", "bearer  "])
def test_requests_without_a_valid_token_are_401(app: Flask, setup: dict[str, int],
                                                header: str | None) -> None:
    headers = {"Authorization": header} if header is not None else {}
    client = app.test_client()
    for method, path in (("get", "/api/v1/mod/queue"), ("post", "/api/v1/mod/actions"),
                         ("get", f"/api/v1/mod/comments/{setup['news']}"), ("get", "/api/v1/mod/log")):
        res = getattr(client, method)(path, headers=headers, json={"action": "approve",
                                                                   "ids": [setup["news"]]})
        assert res.status_code == 401
    assert status_of(app, setup["news"]) == "pending"


def test_queue_and_comment_carry_the_moderators_context(app: Flask, setup: dict[str, int]) -> None:
    token = api_token(app, "newsmod@example.org")
    client = app.test_client()
    body = client.get("/api/v1/mod/queue", headers=auth(token)).get_json()
    assert body["total"] == 2
    first = body["items"][0]
    assert first["id"] == setup["news"]
    assert first["author"]["email"] == "reader@example.net" and first["author"]["ip"] == "203.0.113.9"
    assert first["reasons"] == ["site is pre-moderated"]
    assert first["history"]["pending"] == 1
    assert first["thread"]["url"] == "https://news.example/a1"
    assert client.get("/api/v1/mod/queue?site=blog", headers=auth(token)).status_code == 403
    assert client.get(f"/api/v1/mod/comments/{setup['blog']}", headers=auth(token)).status_code == 403
    assert client.get("/api/v1/mod/comments/999999", headers=auth(token)).status_code == 404
    assert client.get("/api/v1/mod/queue?page=x", headers=auth(token)).status_code == 422


def test_a_comment_held_after_an_edit_carries_its_earlier_text(app: Flask,
                                                              setup: dict[str, int]) -> None:
    cid = approved_then_edited(app, "Nice *article*", "Visit https://pills.example/ now")
    token = api_token(app, "newsmod@example.org")
    client = app.test_client()
    items = client.get("/api/v1/mod/queue", headers=auth(token)).get_json()["items"]
    [item] = [i for i in items if i["id"] == cid]
    assert item["status"] == "pending" and "edited after approval" in item["reasons"]
    assert "pills.example" in item["text"]
    previous = item["previous"]
    assert previous["text"] == "Nice *article*" and previous["html"] == "<p>Nice <em>article</em></p>\n"
    assert previous["editor"] == "author" and previous["moderator"] is None and previous["replaced_at"]
    assert [i["previous"] for i in items if i["id"] != cid] == [None, None]
    detail = client.get(f"/api/v1/mod/comments/{cid}", headers=auth(token)).get_json()
    assert detail["comment"]["previous"] == previous
    assert detail["revisions"] == [previous]
    assert "edited_by_author" in [e["action"] for e in detail["log"]]


def test_actions_through_the_api_are_logged_and_seen_by_readers(app: Flask,
                                                                setup: dict[str, int]) -> None:
    token = api_token(app, "newsmod@example.org")
    client = app.test_client()
    res = client.post("/api/v1/mod/actions", headers=auth(token),
                      json={"action": "approve", "ids": [setup["news"], setup["news2"]]})
    assert res.status_code == 200
    assert [c["status"] for c in res.get_json()["comments"]] == ["approved", "approved"]
    assert read(app.test_client(), "a1").get_json()["thread"]["count"] == 2
    client.post("/api/v1/mod/actions", headers=auth(token),
                json={"action": "remove", "ids": [setup["news2"]], "reason": "dupe"})
    detail = client.get(f"/api/v1/mod/comments/{setup['news2']}", headers=auth(token)).get_json()
    assert [e["action"] for e in detail["log"]] == ["remove", "approve"]
    assert detail["log"][0]["reason"] == "dupe" and detail["log"][0]["moderator"] == "newsmod@example.org"
    log = client.get("/api/v1/mod/log", headers=auth(token)).get_json()
    # The site's creation (by the operator) is on the log too, before the three actions.
    assert [e["action"] for e in log["items"]] == ["remove", "approve", "approve", "site_update"]
    assert log["items"][-1]["moderator"] is None


def test_api_access_rules_match_the_pages(app: Flask, setup: dict[str, int]) -> None:
    token = api_token(app, "newsmod@example.org")
    client = app.test_client()
    res = client.post("/api/v1/mod/actions", headers=auth(token),
                      json={"action": "approve", "ids": [setup["news"], setup["blog"]]})
    assert res.status_code == 403
    assert status_of(app, setup["news"]) == "pending"
    res = client.post("/api/v1/mod/bans", headers=auth(token),
                      json={"site": "blog", "ip": "1.2.3.4", "days": 1})
    assert res.status_code == 403
    res = client.post("/api/v1/mod/bans", headers=auth(token),
                      json={"site": "news", "email": "admin@example.org"})
    assert res.status_code == 403
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(AuditEntry.id)).where(
            AuditEntry.action == "ban")) == 0


@pytest.mark.parametrize(("body", "status"), [
    ({"action": "approve", "ids": "1"}, 422), ({"action": "approve", "ids": [True]}, 422),
    ({"action": 5, "ids": [1]}, 422), ({"action": "approve", "ids": []}, 422),
    ({"action": "nuke", "ids": [1]}, 422), ({"action": "approve", "ids": [10**12]}, 404),
])
def test_bad_action_bodies_are_4xx(app: Flask, setup: dict[str, int], body: dict, status: int) -> None:
    token = api_token(app, "admin@example.org")
    res = app.test_client().post("/api/v1/mod/actions", headers=auth(token), json=body)
    assert res.status_code == status
    assert res.get_json()["error"]["message"]


def test_bans_through_the_api(app: Flask, setup: dict[str, int]) -> None:
    token = api_token(app, "admin@example.org")
    client = app.test_client()
    res = client.post("/api/v1/mod/bans", headers=auth(token),
                      json={"site": "news", "email": "x@example.net", "reason": "spam",
                            "days": 30, "remove_pending": True})
    assert res.status_code == 201
    ban = res.get_json()["ban"]
    assert ban["email"] == "x@example.net" and ban["expires_at"]
    assert status_of(app, setup["news2"]) == "removed"
    assert [b["id"] for b in client.get("/api/v1/mod/bans", headers=auth(token)).get_json()["bans"]] \
        == [ban["id"]]
    lifted = client.post(f"/api/v1/mod/bans/{ban['id']}/lift", headers=auth(token)).get_json()
    assert lifted["ban"]["lifted_at"]
    for body in ({"site": "news", "days": "7", "ip": "1.1.1.1"}, {"site": "news"},
                 {"site": "news", "ip": 5}, {"site": "nope", "ip": "1.1.1.1"}):
        assert client.post("/api/v1/mod/bans", headers=auth(token), json=body).status_code in (404, 422)


def test_an_ipv6_ban_through_the_api_covers_its_64_unless_told_otherwise(
        app: Flask, setup: dict[str, int]) -> None:
    token = api_token(app, "admin@example.org")
    client = app.test_client()
    wide = client.post("/api/v1/mod/bans", headers=auth(token),
                       json={"site": "news", "ip": "2001:db8:1:2::7"})
    assert wide.status_code == 201 and wide.get_json()["ban"]["ip"] == "2001:db8:1:2::/64"
    narrow = client.post("/api/v1/mod/bans", headers=auth(token),
                         json={"site": "blog", "ip": "2001:db8:1:2::7", "only_this_address": True})
    assert narrow.status_code == 201 and narrow.get_json()["ban"]["ip"] == "2001:db8:1:2::7"
    for body in ({"site": "news", "ip": "2001:db8::1", "only_this_address": "yes"},
                 {"site": "news", "ip": "2001:db8::/48"}):
        res = client.post("/api/v1/mod/bans", headers=auth(token), json=body)
        assert res.status_code == 422
