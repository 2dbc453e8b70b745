"""Personal data: address retention, an author's export, and forgetting an author."""
from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from comments.extensions import db
from comments import mail
from comments.models import AuditEntry, Comment, CommentRevision, OutboxItem, Site, utcnow
from comments.services import privacy
from comments.services.sites import create_site

from .helpers import ORIGIN, comment_payload, post, read

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
        assert (db.session.get(Comment, old).client_ip, db.session.get(Comment, old).client_net) \
            == (None, None)
        assert db.session.get(Comment, new).client_ip == "127.0.0.1"
        assert db.session.get(Comment, new).client_net == "127.0.0.1"
    assert "of 1 comments" in runner.invoke(args=["comments", "purge", "--days", "0"]).output


def test_export_author_gives_back_their_data(client: FlaskClient, runner: FlaskCliRunner) -> None:
    post(client, text="mine", author={"name": "Ada", "email": "Ada@Example.org"})
    post(client, text="not mine", author={"name": "Bob", "email": "bob@example.org"})
    out = runner.invoke(args=["comments", "export-author", "ada@example.org", "--all-sites"])
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
    out = runner.invoke(args=["comments", "forget", "ada@example.org", "--all-sites", "--yes"])
    assert out.exit_code == 0 and "2 comments" in out.output
    thread = read(client).get_json()
    assert thread["thread"]["count"] == 1
    assert [c["status"] for c in thread["comments"]] == ["deleted"]
    assert thread["comments"][0]["replies"][0]["html"].strip() == "<p>a reply</p>"
    with app.app_context():
        for cid in (mine["comment"]["id"], alone.get_json()["comment"]["id"]):
            row = db.session.get(Comment, cid)
            assert (row.text, row.author_name, row.author_email, row.client_ip, row.client_net,
                    row.reader_hash) == ("", "", None, None, None, None)
        assert db.session.scalar(db.select(db.func.count(AuditEntry.id)).where(
            AuditEntry.action == "forget")) == 2
    export = json.loads(runner.invoke(args=["comments", "export-author", "ada@example.org",
                                            "--all-sites"]).output)
    assert export["comments"] == []


def test_forget_can_delete_the_rows(app: Flask, client: FlaskClient, runner: FlaskCliRunner) -> None:
    mine = post(client, text="mine", author={"name": "Ada", "email": "ada@example.org"}).get_json()
    post(client, text="reply", parent_id=mine["comment"]["id"], author={"name": "Bob"})
    lonely = post(client, text="lonely", author={"name": "Ada", "email": "ada@example.org"}).get_json()
    runner.invoke(args=["comments", "forget", "ada@example.org", "--all-sites", "--delete-rows",
                        "--yes"])
    with app.app_context():
        assert db.session.get(Comment, lonely["comment"]["id"]) is None
        kept = db.session.get(Comment, mine["comment"]["id"])
        assert kept.status.value == "deleted" and kept.text == "" and kept.author_email is None
    thread = read(client).get_json()
    assert thread["thread"]["count"] == 1
    assert thread["comments"][0]["replies"][0]["html"].strip() == "<p>reply</p>"


def test_an_authors_earlier_versions_are_exported_and_forgotten(app: Flask, client: FlaskClient,
                                                              runner: FlaskCliRunner) -> None:
    mine = post(client, text="first draft", author={"name": "Ada", "email": "ada@example.org"}).get_json()
    post(client, text="a reply", parent_id=mine["comment"]["id"], author={"name": "Bob"})
    client.patch(f"/api/v1/comments/{mine['comment']['id']}", json={"text": "second draft"},
                 headers={"Origin": ORIGIN, "Authorization": f"Bearer {mine['edit_token']}"})
    export = json.loads(runner.invoke(args=["comments", "export-author", "ada@example.org",
                                            "--site", "news"]).output)
    [earlier] = export["comments"][0]["earlier_versions"]
    assert earlier["text"] == "first draft" and earlier["replaced_at"]
    out = runner.invoke(args=["comments", "forget", "ada@example.org", "--site", "news", "--yes"])
    assert out.exit_code == 0, out.output
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(CommentRevision.id))) == 0


def test_forget_asks_first(app: Flask, client: FlaskClient, runner: FlaskCliRunner) -> None:
    post(client, author={"name": "Ada", "email": "ada@example.org"})
    out = runner.invoke(args=["comments", "forget", "ada@example.org", "--site", "news"],
                        input="n\n")
    assert out.exit_code == 1 and "Aborted" in out.output
    with app.app_context():
        assert db.session.scalar(db.select(Comment.author_email)) == "ada@example.org"


def test_emails_never_leave_through_public_answers(client: FlaskClient) -> None:
    post(client, author={"name": "Ada", "email": "secret-ada@example.org"})
    for path in ("/api/v1/threads?site=news&article=story-1", "/api/v1/counts?site=news&article=story-1"):
        assert "secret-ada" not in client.get(path).get_data(as_text=True)


def _two_sites_with_reader_42(app: Flask, client: FlaskClient) -> dict[str, int]:
    """Comments by `sub` 42 on news and on blog (two different people), and by ada on both."""
    with app.app_context():
        create_site("blog", "Blog", ["https://blog.example"])
    ids = {}
    for slug, origin in (("news", "https://news.example"), ("blog", "https://blog.example")):
        res = client.post("/api/v1/comments", headers={"Origin": origin}, json=comment_payload(
            site=slug, url=f"{origin}/story-1", text=f"42 on {slug}",
            author={"name": f"Reader of {slug}"}))
        ids[slug] = res.get_json()["comment"]["id"]
        client.post("/api/v1/comments", headers={"Origin": origin}, json=comment_payload(
            site=slug, url=f"{origin}/story-1", text=f"ada on {slug}",
            author={"name": "Ada", "email": "ada@example.org"}))
    with app.app_context():
        for cid in ids.values():
            db.session.get(Comment, cid).sso_id = "42"
        db.session.commit()
    return ids


def test_a_single_sign_on_identity_is_forgotten_on_its_own_site_only(
        app: Flask, client: FlaskClient, runner: FlaskCliRunner) -> None:
    ids = _two_sites_with_reader_42(app, client)
    refused = runner.invoke(args=["comments", "forget", "42", "--yes"])
    assert refused.exit_code != 0 and "--site" in refused.output
    everywhere = runner.invoke(args=["comments", "forget", "42", "--all-sites", "--yes"])
    assert everywhere.exit_code != 0 and "one site" in everywhere.output
    out = runner.invoke(args=["comments", "forget", "42", "--site", "news", "--yes"])
    assert out.exit_code == 0, out.output
    with app.app_context():
        assert db.session.get(Comment, ids["news"]).sso_id is None
        kept = db.session.get(Comment, ids["blog"])
        assert (kept.sso_id, kept.text, kept.status.value) == ("42", "42 on blog", "approved")


def test_a_single_sign_on_identity_is_exported_from_its_own_site_only(
        app: Flask, client: FlaskClient, runner: FlaskCliRunner) -> None:
    _two_sites_with_reader_42(app, client)
    assert runner.invoke(args=["comments", "export-author", "42"]).exit_code != 0
    out = runner.invoke(args=["comments", "export-author", "42", "--site", "blog"])
    assert out.exit_code == 0, out.output
    assert [c["text"] for c in json.loads(out.output)["comments"]] == ["42 on blog"]


def test_an_email_is_acted_on_everywhere_only_when_asked(
        app: Flask, client: FlaskClient, runner: FlaskCliRunner) -> None:
    _two_sites_with_reader_42(app, client)
    refused = runner.invoke(args=["comments", "export-author", "ada@example.org"])
    assert refused.exit_code != 0 and "--all-sites" in refused.output
    assert runner.invoke(args=["comments", "forget", "ada@example.org", "--yes"]).exit_code != 0
    one = json.loads(runner.invoke(args=["comments", "export-author", "ada@example.org",
                                         "--site", "news"]).output)
    assert [c["text"] for c in one["comments"]] == ["ada on news"]
    every = json.loads(runner.invoke(args=["comments", "export-author", "ada@example.org",
                                           "--all-sites"]).output)
    assert sorted(c["text"] for c in every["comments"]) == ["ada on blog", "ada on news"]
    with app.app_context():
        for slug in ("news", "blog"):
            site_id = db.session.scalar(db.select(Site.id).filter_by(slug=slug))
            mail.enqueue("ada@example.org", f"A reply on {slug}", "text", site_id=site_id)
        db.session.commit()
    out = runner.invoke(args=["comments", "forget", "ada@example.org", "--site", "blog", "--yes"])
    assert out.exit_code == 0, out.output
    with app.app_context():
        left = db.session.scalars(db.select(Comment.text).where(
            Comment.author_email == "ada@example.org")).all()
        assert left == ["ada on news"]
        queued = db.session.scalars(db.select(OutboxItem)).all()
        assert [item.payload["subject"] for item in queued] == ["A reply on news"]


def test_forget_lists_what_it_would_touch_before_asking(
        app: Flask, client: FlaskClient, runner: FlaskCliRunner) -> None:
    _two_sites_with_reader_42(app, client)
    post(client, text="more", author={"name": "Ada", "email": "ada@example.org"})
    out = runner.invoke(args=["comments", "forget", "ada@example.org", "--all-sites"], input="n\n")
    assert out.exit_code == 1
    assert "blog: 1 comment" in out.output and "news: 2 comments" in out.output
    assert out.output.index("news: 2 comments") < out.output.index("Erase")
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Comment.id)).where(
            Comment.author_email == "ada@example.org")) == 3


def test_of_several_workers_one_purges_a_day(app: Flask) -> None:
    start = utcnow()
    with app.app_context():
        assert privacy.purge_if_due(30, start) == 0
    barrier = threading.Barrier(3)
    results: list[int | None] = []

    def worker() -> None:
        # Each thread has its own session and connection: a worker of its own on the database.
        with app.app_context():
            barrier.wait(10)
            results.append(privacy.purge_if_due(30, start + timedelta(days=1)))

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(results, key=lambda r: r is None) == [0, None, None]
