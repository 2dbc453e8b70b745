"""The spam filter at work on real posts: verdicts stored, held or kept, trust by reader key."""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from comments.extensions import db
from comments.models import AuditEntry, Comment, LabelledExample, Moderator, Site, Thread
from comments.services.accounts import create_moderator
from comments.services.moderation import apply, ban
from comments.services.sites import create_site, parse_setting, update_settings

from .conftest import make_app
from .helpers import ORIGIN, comment_payload
from .modhelpers import PASSWORD, login

READER = "r" * 43


@pytest.fixture
def app(tmp_path: Path, _postgres_schema: None):
    app = make_app(tmp_path, SPAM_ENABLED=True)
    with app.app_context():
        create_site("news", "News", [ORIGIN])
        create_moderator("boss@example.org", "long enough password", "admin")
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def settings(app: Flask, **values: str) -> None:
    with app.app_context():
        site = db.session.scalar(db.select(Site))
        update_settings(site, actor=None, values={k: parse_setting(k, v) for k, v in values.items()})


def token(client: FlaskClient, article: str = "story-1") -> str:
    return client.get("/api/v1/threads", query_string={"site": "news", "article": article}).get_json()["form_token"]


def send(client: FlaskClient, reader: str | None = READER, ip: str = "203.0.113.5",
         **overrides: Any) -> dict[str, Any]:
    headers = {"Origin": ORIGIN} | ({"X-Comments-Reader": reader} if reader else {})
    res = client.post("/api/v1/comments", json=comment_payload(**overrides), headers=headers,
                      environ_base={"REMOTE_ADDR": ip})
    assert res.status_code == 201, res.get_json()
    return res.get_json()


def stored(app: Flask, comment_id: int) -> Comment:
    with app.app_context():
        comment = db.session.get(Comment, comment_id)
        db.session.expunge(comment)
        return comment


def moderate(app: Flask, ids: list[int], action: str) -> None:
    with app.app_context():
        apply(db.session.scalar(db.select(Moderator)), ids, action)


def test_a_normal_post_through_the_widget_flow_is_published(app: Flask, client: FlaskClient) -> None:
    settings(app, min_seconds="1")
    form = token(client)
    time.sleep(1.1)
    body = send(client, form_token=form)
    assert body["status"] == "approved"
    verdict = stored(app, body["comment"]["id"]).verdict
    assert verdict == {"action": "publish", "score": 0, "signals": []}


def test_a_filled_honeypot_is_kept_as_spam_and_the_poster_told_only_pending(
    app: Flask, client: FlaskClient
) -> None:
    body = send(client, homepage="http://cheap.example", form_token=token(client))
    assert body["status"] == "pending"
    comment = stored(app, body["comment"]["id"])
    assert comment.status.value == "spam"
    assert comment.verdict["action"] == "spam"
    assert "a hidden field that only bots fill in was filled in" in comment.reasons
    thread = client.get("/api/v1/threads?site=news&article=story-1").get_json()
    assert thread["comments"] == [] and thread["thread"]["count"] == 0


def test_posting_faster_than_a_person_is_held_with_the_reason(app: Flask, client: FlaskClient) -> None:
    body = send(client, form_token=token(client))
    assert body["status"] == "pending"
    comment = stored(app, body["comment"]["id"])
    assert comment.status.value == "pending"
    assert "faster than a person types" in comment.reasons[0]


@pytest.mark.parametrize("bad", ["forged", "tampered", "other-site"])
def test_forged_or_foreign_tokens_score(app: Flask, client: FlaskClient, bad: str) -> None:
    if bad == "other-site":
        with app.app_context():
            create_site("blog", "Blog", ["https://blog.example"])
        form = client.get("/api/v1/threads?site=blog&article=x").get_json()["form_token"]
    else:
        form = "abc.def.ghi" if bad == "forged" else token(client)[:-2] + "xx"
    body = send(client, form_token=form)
    signals = stored(app, body["comment"]["id"]).verdict["signals"]
    assert [(s["rule"], s["score"]) for s in signals] == [("timing", 3)]


def test_posts_without_the_widget_token_are_scored_not_refused(app: Flask, client: FlaskClient) -> None:
    body = send(client)
    assert body["status"] == "approved"
    assert stored(app, body["comment"]["id"]).verdict["score"] == 1


def test_the_same_text_again_is_held(app: Flask, client: FlaskClient) -> None:
    assert send(client, text="Buy my stuff")["status"] == "approved"
    second = send(client, text="buy   MY stuff", reader=None)
    assert second["status"] == "pending"
    assert "the same author posted this text before" in stored(app, second["comment"]["id"]).reasons
    for i, article in enumerate(["s2", "s3"]):
        send(client, text="Visit my page", article=article, reader=None, ip=f"198.51.100.{i}",
             author={"name": f"N{i}", "email": f"n{i}@example.net"})
    third = send(client, text="Visit my page", article="s4", reader=None, ip="198.51.100.9",
                 author={"name": "Other"})
    assert "the same text was posted in 2 other threads" in stored(app, third["comment"]["id"]).reasons


def test_the_spam_filter_knows_an_ipv6_author_by_the_64(app: Flask, client: FlaskClient) -> None:
    assert send(client, text="Buy my stuff", reader=None, ip="2001:db8:1:2::1",
                author={"name": "Troll", "email": "troll@example.net"})["status"] == "approved"
    again = send(client, text="buy my STUFF", reader=None, ip="2001:db8:1:2::2",
                 author={"name": "Other"})
    assert "the same author posted this text before" in stored(app, again["comment"]["id"]).reasons
    with app.app_context():
        ban(db.session.scalar(db.select(Moderator)), db.session.scalar(db.select(Site)),
            email="troll@example.net", ip=None, reason="abuse", days=None)
    renamed = send(client, text="A new leaf", reader=None, ip="2001:db8:1:2::3",
                   author={"name": "Angel", "email": "angel@example.net"})
    assert "posted from the address of a banned author" in stored(app, renamed["comment"]["id"]).reasons
    elsewhere = send(client, text="Someone else", reader=None, ip="2001:db8:1:3::1",
                     author={"name": "Bea", "email": "bea@example.net"})
    assert stored(app, elsewhere["comment"]["id"]).reasons == []


def test_trust_comes_from_the_reader_key_never_from_an_email(app: Flask, client: FlaskClient) -> None:
    settings(app, trusted_after="2")
    with app.app_context():
        db.session.scalar(db.select(Site)).moderation = "pre"
        db.session.commit()
    first = [send(client, text=f"Comment {i}")["comment"]["id"] for i in range(2)]
    moderate(app, first, "approve")
    assert send(client, text="Now trusted")["status"] == "approved"
    impostor = send(client, reader="x" * 43, text="I typed her email",
                    author={"name": "Ada", "email": "ada@example.org"})
    assert impostor["status"] == "pending"
    assert send(client, reader=None, text="No key at all")["status"] == "pending"
    moderate(app, [impostor["comment"]["id"]], "remove")
    settings(app, trusted_skip_premoderation="false")
    assert send(client, text="Site stopped the shortcut")["status"] == "pending"


def test_a_removal_ends_trust(app: Flask, client: FlaskClient) -> None:
    settings(app, trusted_after="1")
    with app.app_context():
        db.session.scalar(db.select(Site)).moderation = "pre"
        db.session.commit()
    ids = [send(client, text=f"C{i}")["comment"]["id"] for i in range(2)]
    moderate(app, ids[:1], "approve")
    moderate(app, ids[1:], "remove")
    assert send(client, text="Still trusted?")["status"] == "pending"


def test_a_banned_authors_reader_key_under_another_name_is_caught(app: Flask, client: FlaskClient) -> None:
    send(client, text="Original", author={"name": "Troll", "email": "troll@example.net"})
    with app.app_context():
        ban(db.session.scalar(db.select(Moderator)), db.session.scalar(db.select(Site)),
            email="troll@example.net", ip=None, reason="abuse", days=None)
    body = send(client, text="New name, same me", ip="192.0.2.200",
                author={"name": "Angel", "email": "angel@example.net"})
    assert body["status"] == "pending"
    comment = stored(app, body["comment"]["id"])
    assert comment.status.value == "spam"
    assert "posted from the reader key of a banned author" in comment.reasons


def test_site_lists_and_first_time_hold(app: Flask, client: FlaskClient) -> None:
    settings(app, blocked_words="casino", hold_first_time="true")
    first = send(client, text="Hello there, first time here")
    assert first["status"] == "pending"
    assert "first comment by this author on this site" in stored(app, first["comment"]["id"]).reasons
    moderate(app, [first["comment"]["id"]], "approve")
    assert send(client, text="Second time is fine")["status"] == "approved"
    assert send(client, text="Try the casino")["status"] == "pending"


def test_spam_filter_off_publishes_everything(tmp_path: Path, _postgres_schema: None) -> None:
    app = make_app(tmp_path, SPAM_ENABLED=False)
    with app.app_context():
        create_site("news", "News", [ORIGIN])
    body = send(app.test_client(), homepage="bot was here")
    assert body["status"] == "approved"
    assert stored(app, body["comment"]["id"]).verdict is None
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_moderators_decisions_become_labelled_examples(app: Flask, client: FlaskClient, runner) -> None:
    held = send(client, form_token=token(client), text="Quick but honest")["comment"]["id"]
    kept = send(client, homepage="x", text="Bot text")["comment"]["id"]
    normal = send(client, text="Ordinary", reader=None, ip="192.0.2.1")["comment"]["id"]
    moderate(app, [held], "approve")
    moderate(app, [normal], "spam")
    moderate(app, [kept], "spam")
    with app.app_context():
        labels = {e.comment_id: e.label for e in db.session.scalars(db.select(LabelledExample))}
    assert labels == {held: "ham", normal: "spam"}
    out = runner.invoke(args=["comments", "export-examples", "--site", "news"])
    lines = [json.loads(line) for line in out.output.splitlines()]
    assert [(x["label"], x["text"]) for x in lines] == [("ham", "Quick but honest"), ("spam", "Ordinary")]
    assert lines[0]["verdict"]["signals"][0]["rule"] == "timing"


def test_the_queue_shows_every_rules_score(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        create_moderator("m@example.org", PASSWORD, "admin")
    send(client, form_token=token(client), text="QUICK AND LOUD, VERY LOUD INDEED!")
    web, _ = login(app, "m@example.org")
    page = web.get("/mod/queue").get_data(as_text=True)
    assert "Spam filter: hold, score 7 (timing +5, shouting +2)" in page
    assert "written mostly in capitals" in page


def test_a_post_kept_as_spam_does_not_rename_the_article(app: Flask, client: FlaskClient) -> None:
    send(client, text="A fair question")
    send(client, homepage="x", title="Cheap pills here", url="https://news.example/pills")
    with app.app_context():
        thread = db.session.scalar(db.select(Thread))
        assert (thread.title, thread.url) == ("Story one", "https://news.example/2026/story-1")
        assert db.session.scalar(db.select(AuditEntry).filter_by(action="article_update")) is None
