"""POST /api/v1/comments: storing, refusing, and never half-storing."""
from __future__ import annotations

import json

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import EnvironBuilder, run_wsgi_app

from comments.extensions import db
from comments.models import Comment, CommentStatus, Moderation, Site, Thread
from comments.services.posting import hash_token

from .helpers import comment_payload, post

pytestmark = pytest.mark.usefixtures("site")


def stored(app: Flask) -> tuple[int, int]:
    """How many threads and comments the database holds."""
    with app.app_context():
        return (db.session.scalar(db.select(db.func.count(Thread.id))) or 0,
                db.session.scalar(db.select(db.func.count(Comment.id))) or 0)


def test_post_creates_thread_and_approved_comment(app: Flask, client: FlaskClient) -> None:
    res = post(client)
    assert res.status_code == 201
    body = res.get_json()
    assert body["status"] == "approved"
    assert len(body["edit_token"]) >= 32
    comment = body["comment"]
    assert comment["html"].strip() == "<p>Hello <em>world</em></p>"
    assert comment["author"] == {"name": "Ada", "website": "https://ada.example", "verified": False,
                                 "avatar": None}
    assert comment["parent_id"] is None and comment["replies"] == []
    assert comment["created_at"].endswith("Z")
    assert "email" not in json.dumps(body)
    with app.app_context():
        row = db.session.get(Comment, comment["id"])
        assert row is not None
        assert row.author_email == "ada@example.org"
        assert row.client_ip == "127.0.0.1"
        assert row.text == "Hello *world*"
        assert row.edit_token_hash == hash_token(body["edit_token"])
        thread = row.thread
        assert (thread.article_key, thread.url, thread.title) == (
            "story-1", "https://news.example/2026/story-1", "Story one")
        assert thread.comment_count == 1


def test_reply_nests_under_parent(app: Flask, client: FlaskClient) -> None:
    parent = post(client).get_json()["comment"]
    reply = post(client, parent_id=parent["id"], text="A reply").get_json()["comment"]
    deeper = post(client, parent_id=reply["id"], text="Deeper").get_json()["comment"]
    assert reply["parent_id"] == parent["id"]
    with app.app_context():
        assert db.session.get(Comment, deeper["id"]).depth == 2


def test_pre_moderated_site_holds_comments(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        site = db.session.scalar(db.select(Site).filter_by(slug="news"))
        site.moderation = Moderation.PRE
        db.session.commit()
    res = post(client)
    assert res.status_code == 201
    assert res.get_json()["status"] == "pending"
    with app.app_context():
        assert db.session.scalars(db.select(Comment.status)).all() == [CommentStatus.PENDING]
        assert db.session.scalar(db.select(Thread.comment_count)) == 0


def test_replies_to_a_comment_at_the_depth_cap_stay_on_its_level(app: Flask,
                                                                 client: FlaskClient) -> None:
    app.config["MAX_DEPTH"] = 2
    ids = [post(client).get_json()["comment"]["id"]]
    for _ in range(3):
        ids.append(post(client, parent_id=ids[-1]).get_json()["comment"]["id"])
    with app.app_context():
        rows = {c.id: c for c in db.session.scalars(db.select(Comment))}
        assert [rows[i].depth for i in ids] == [0, 1, 2, 2]
        assert rows[ids[3]].parent_id == ids[1]


@pytest.mark.parametrize(
    ("overrides", "status", "field"),
    [
        ({"text": ""}, 422, "text"),
        ({"text": "   \n  "}, 422, "text"),
        ({"text": "x" * 10_001}, 422, "text"),
        ({"text": 5}, 422, "text"),
        ({"text": "nul\u0000byte"}, 422, "text"),
        ({"text": "lone \ud800 surrogate"}, 422, "text"),
        ({"author": {"name": "n" * 65}}, 422, "author.name"),
        ({"author": {"name": ""}}, 422, "author.name"),
        ({"author": {"name": "bell\u0007"}}, 422, "author.name"),
        ({"author": "Ada"}, 422, "author"),
        ({"author": {"name": "Ada", "email": "not-an-email"}}, 422, "author.email"),
        ({"author": {"name": "Ada", "email": "a@b"}}, 422, "author.email"),
        ({"author": {"name": "Ada", "website": "javascript:alert(1)"}}, 422, "author.website"),
        ({"author": {"name": "Ada", "website": "ftp://x.example"}}, 422, "author.website"),
        ({"author": {"name": "Ada", "website": "http://x.example:99999"}}, 422, "author.website"),
        ({"url": "https://evil.example/page"}, 422, "url"),
        ({"url": "not a url"}, 422, "url"),
        ({"article": ""}, 422, "article"),
        ({"article": "a" * 513}, 422, "article"),
        ({"article": ["x"]}, 422, "article"),
        ({"title": "t" * 301}, 422, "title"),
        ({"site": ""}, 422, "site"),
        ({"site": 7}, 422, "site"),
        ({"site": "nope"}, 404, "site"),
        ({"parent_id": "1"}, 422, "parent_id"),
        ({"parent_id": True}, 422, "parent_id"),
        ({"parent_id": 0}, 422, "parent_id"),
        ({"parent_id": 10**30}, 422, "parent_id"),
        ({"parent_id": 999}, 404, "parent_id"),
    ],
)
def test_invalid_fields_are_refused_and_nothing_is_stored(
    app: Flask, client: FlaskClient, overrides: dict, status: int, field: str
) -> None:
    res = post(client, **overrides)
    assert res.status_code == status, res.get_json()
    error = res.get_json()["error"]
    assert error["field"] == field
    assert error["code"] and error["message"]
    assert stored(app) == (0, 0)


@pytest.mark.parametrize("email", [
    "root,attacker@evil.example", "root@example.org,attacker@evil.example",
    "root@example.org;attacker@evil.example", "Ada <ada@example.org>", "<ada@example.org>",
    '"ada"@example.org', '"a,b"@example.org', "ada@example.org\u200b", "ada@exa mple.org",
    "ada\t@example.org", "a@b@example.org", "ada@example.org>", "ada@[127.0.0.1]",
    "(comment)ada@example.org", "ada@example.org (Ada)", "group:ada@example.org;",
])
def test_an_email_that_is_not_one_plain_address_is_refused(app: Flask, client: FlaskClient,
                                                           email: str) -> None:
    res = post(client, author={"name": "Ada", "email": email})
    assert res.status_code == 422, email
    assert res.get_json()["error"]["field"] == "author.email"
    assert stored(app) == (0, 0)


@pytest.mark.parametrize("email", ["ada@example.org", "first.last+tag@mail.example.co.uk",
                                   "o'brien@example.ie", "zoë@bücher.example", "x@xn--p1ai.example"])
def test_plain_addresses_are_accepted(client: FlaskClient, email: str) -> None:
    assert post(client, author={"name": "Ada", "email": email}).status_code == 201


INVISIBLE = ["\u200b", "\u200c\u200d", "\u2060", "\ufeff", "\u00ad", "\u200e\u200f",
             "\u202a\u202b\u202c\u202d\u202e", "\u2066\u2067\u2068\u2069", "\u061c",
             "\u180e", "\u3164", "\u2800", "\ufe0f", "\U000e0041"]


@pytest.mark.parametrize("invisible", INVISIBLE)
@pytest.mark.parametrize("field", ["text", "author.name"])
def test_a_text_or_name_of_only_invisible_characters_is_refused(
    app: Flask, client: FlaskClient, invisible: str, field: str
) -> None:
    value = f" {invisible}\n{invisible} " if field == "text" else invisible * 3
    overrides = {"text": value} if field == "text" else {"author": {"name": value}}
    res = post(client, **overrides)
    assert res.status_code == 422, repr(value)
    assert res.get_json()["error"]["field"] == field
    assert "required" in res.get_json()["error"]["message"]
    assert stored(app) == (0, 0)


def test_invisible_characters_in_visible_text_are_kept(app: Flask, client: FlaskClient) -> None:
    text, name = "\U0001f469\u200d\U0001f4bb co\u00adoperate \u2067\u05e9\u05dc\u05d5\u05dd\u2069", "\u200bZo\u00eb"
    assert post(client, text="\U0001f469\u200d\U0001f4bb").status_code == 201
    assert post(client, text=text, author={"name": name}).status_code == 201
    with app.app_context():
        row = db.session.scalar(db.select(Comment).order_by(Comment.id.desc()).limit(1))
        assert (row.text, row.author_name) == (text, name)


def test_parent_in_another_thread_is_refused(app: Flask, client: FlaskClient) -> None:
    other = post(client, article="story-2").get_json()["comment"]
    res = post(client, parent_id=other["id"])
    assert res.status_code == 422
    assert res.get_json()["error"]["field"] == "parent_id"
    assert stored(app) == (1, 1)


def test_parent_must_be_published(app: Flask, client: FlaskClient) -> None:
    parent = post(client).get_json()["comment"]
    with app.app_context():
        db.session.get(Comment, parent["id"]).status = CommentStatus.PENDING
        db.session.commit()
    res = post(client, parent_id=parent["id"])
    assert res.status_code == 422
    assert stored(app) == (1, 1)


def test_unknown_fields_are_dropped(app: Flask, client: FlaskClient) -> None:
    res = post(client, status="approved", id=1234, html="<script>x</script>",
               author={"name": "Ada", "admin": True})
    assert res.status_code == 201
    assert res.get_json()["comment"]["id"] != 1234


def test_not_json_is_415(app: Flask, client: FlaskClient) -> None:
    res = client.post("/api/v1/comments", data="site=news&text=hi",
                      content_type="application/x-www-form-urlencoded")
    assert res.status_code == 415
    assert res.get_json()["error"]["code"] == "unsupported_media_type"
    assert stored(app) == (0, 0)


@pytest.mark.parametrize("body", [b"{", b"[1, 2]", b'"text"', b"\xff\xfe\x00", b"[" * 5000 + b"]" * 5000,
                                  b'{"site": 1e999999}', b""])
def test_malformed_json_is_400(app: Flask, client: FlaskClient, body: bytes) -> None:
    res = client.post("/api/v1/comments", data=body, content_type="application/json")
    assert res.status_code in (400, 422)
    assert "error" in res.get_json()
    assert stored(app) == (0, 0)


def test_body_over_128_kib_is_413_before_parsing(app: Flask, client: FlaskClient) -> None:
    body = json.dumps(comment_payload(text="x" * (130 * 1024))).encode()
    res = client.post("/api/v1/comments", data=body, content_type="application/json")
    assert res.status_code == 413
    assert res.get_json()["error"]["code"] == "request_entity_too_large"
    assert stored(app) == (0, 0)


def test_body_shorter_than_content_length_is_400(app: Flask) -> None:
    body = json.dumps(comment_payload()).encode()
    # The test client fixes Content-Length up, so build the environ a lying client would send.
    environ = EnvironBuilder(method="POST", path="/api/v1/comments", data=body,
                             content_type="application/json").get_environ()
    environ["CONTENT_LENGTH"] = str(len(body) + 50)
    chunks, status, _headers = run_wsgi_app(app, environ, buffered=True)
    assert status.startswith("400")
    assert json.loads(b"".join(chunks))["error"]["code"]
    assert stored(app) == (0, 0)


def test_unicode_round_trips(app: Flask, client: FlaskClient) -> None:
    text = "שלום עולם 👩🏽‍💻 café e\u0301 مرحبا"
    res = post(client, text=text, author={"name": "Zoë 李"})
    assert res.status_code == 201
    comment = res.get_json()["comment"]
    assert text in comment["html"]
    assert comment["author"]["name"] == "Zoë 李"


def test_wrong_method_and_unknown_route_answer_json(client: FlaskClient) -> None:
    res = client.get("/api/v1/comments")
    assert res.status_code == 405
    assert res.get_json()["error"]["code"] == "method_not_allowed"
    res = client.get("/api/v1/nothing-here")
    assert res.status_code == 404
    assert res.get_json()["error"]["code"] == "not_found"
