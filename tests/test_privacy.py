"""Personal data: address retention, an author's export, and forgetting an author."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from comments.extensions import db
from comments.models import AuditEntry, Comment, utcnow

from .helpers import post, read

pytestmark = pytest.mark.usefixtures("site")


def test_purge_erases_old_addresses_only(app: Flask, client: FlaskClient, runner: FlaskCliRunner) -> None:
    old = post(client, text="old").get_json()["comment"]["id"]
    new = post(client, text="new").get_json()["comment"]["id"]
    with app.app_context():
        db.session.get(Comment, old).created_at = utcnow() - timedelta(days=31)
        db.session.commit()
    out = runner.invoke(args=["comments", "purge"])
    assert out.exit_code == 0 and "Erased the address of 1 comments older than 30 days" in out.output
    with app.app_context():
        assert db.session.get(Comment, old).client_ip is None
        assert db.session.get(Comment, new).client_ip == "127.0.0.1"
    assert "of 1 comments" in runner.invoke(args=["comments", "purge", "--days", "0"]).output


def test_export_author_gives_back_their_data(client: FlaskClient, runner: FlaskCliRunner) -> None:
    post(client, text="mine", author={"name": "Ada", "email": "Ada@Example.org"})
    post(client, text="not mine", author={"name": "Bob", "email": "bob@example.org"})
    out = runner.invoke(args=["comments", "export-author", "ada@example.org"])
    data = json.loads(out.output)
    assert [c["text"] for c in data["comments"]] == ["mine"]
    comment = data["comments"][0]
    assert comment["author"]["email"] == "Ada@example.org" and comment["ip"] == "127.0.0.1"
    assert comment["url"] == "https://news.example/2026/story-1"


def test_forget_leaves_placeholders_and_keeps_the_threads_shape(app: Flask, client: FlaskClient,
                                                                runner: FlaskCliRunner) -> None:
    mine = post(client, text="my words", author={"name": "Ada", "email": "ada@example.org"}).get_json()
    post(client, text="a reply", parent_id=mine["comment"]["id"],
         author={"name": "Bob", "email": "bob@example.org"})
    alone = post(client, text="alone", author={"name": "Ada", "email": "ada@example.org"})
    out = runner.invoke(args=["comments", "forget", "ada@example.org", "--yes"])
    assert out.exit_code == 0 and "2 comments" in out.output
    thread = read(client).get_json()
    assert thread["thread"]["count"] == 1
    assert [c["status"] for c in thread["comments"]] == ["deleted"]
    assert thread["comments"][0]["replies"][0]["html"].strip() == "<p>a reply</p>"
    with app.app_context():
        for cid in (mine["comment"]["id"], alone.get_json()["comment"]["id"]):
            row = db.session.get(Comment, cid)
            assert (row.text, row.author_name, row.author_email, row.client_ip, row.reader_hash) == (
                "", "", None, None, None)
        assert db.session.scalar(db.select(db.func.count(AuditEntry.id)).where(
            AuditEntry.action == "forget")) == 2
    export = json.loads(runner.invoke(args=["comments", "export-author", "ada@example.org"]).output)
    assert export["comments"] == []


def test_forget_can_delete_the_rows(app: Flask, client: FlaskClient, runner: FlaskCliRunner) -> None:
    mine = post(client, text="mine", author={"name": "Ada", "email": "ada@example.org"}).get_json()
    post(client, text="reply", parent_id=mine["comment"]["id"], author={"name": "Bob"})
    lonely = post(client, text="lonely", author={"name": "Ada", "email": "ada@example.org"}).get_json()
    runner.invoke(args=["comments", "forget", "ada@example.org", "--delete-rows", "--yes"])
    with app.app_context():
        assert db.session.get(Comment, lonely["comment"]["id"]) is None
        kept = db.session.get(Comment, mine["comment"]["id"])
        assert kept.status.value == "deleted" and kept.text == "" and kept.author_email is None
    thread = read(client).get_json()
    assert thread["thread"]["count"] == 1
    assert thread["comments"][0]["replies"][0]["html"].strip() == "<p>reply</p>"


def test_forget_asks_first(app: Flask, client: FlaskClient, runner: FlaskCliRunner) -> None:
    post(client, author={"name": "Ada", "email": "ada@example.org"})
    out = runner.invoke(args=["comments", "forget", "ada@example.org"], input="n\n")
    assert out.exit_code == 1
    with app.app_context():
        assert db.session.scalar(db.select(Comment.author_email)) == "ada@example.org"


def test_emails_never_leave_through_public_answers(client: FlaskClient) -> None:
    post(client, author={"name": "Ada", "email": "secret-ada@example.org"})
    for path in ("/api/v1/threads?site=news&article=story-1", "/api/v1/counts?site=news&article=story-1"):
        assert "secret-ada" not in client.get(path).get_data(as_text=True)
