"""Readers' reports: one per reader, and enough of them put a comment back in the queue."""
from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from comments.extensions import db
from comments.models import Comment, Report, Site
from comments.services.reports import FLAGGED
from comments.services.sites import parse_setting, update_settings

from .helpers import ORIGIN, post, read
from .modhelpers import login

pytestmark = pytest.mark.usefixtures("site")


def report(client: FlaskClient, comment_id: int, reader: str | None, reason: object = "Spam",
           ip: str = "203.0.113.1"):
    headers = {"Origin": ORIGIN} | ({"X-Comments-Reader": reader} if reader else {})
    return client.post(f"/api/v1/comments/{comment_id}/reports", json={"reason": reason},
                       headers=headers, environ_base={"REMOTE_ADDR": ip})


def set_site(app: Flask, **values: str) -> None:
    with app.app_context():
        site = db.session.scalar(db.select(Site).filter_by(slug="news"))
        update_settings(site, actor=None, values={k: parse_setting(k, v) for k, v in values.items()})


def test_one_report_per_reader_and_comment(app: Flask, client: FlaskClient) -> None:
    cid = post(client).get_json()["comment"]["id"]
    first = report(client, cid, "a" * 40)
    assert first.status_code == 201 and first.get_json() == {"reported": True}
    assert report(client, cid, "a" * 40, reason="again").status_code == 200
    # Without a key, the address is the reporter.
    assert report(client, cid, None).status_code == 201
    assert report(client, cid, None).status_code == 200
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Report.id))) == 2


def test_enough_reports_send_a_comment_to_the_queue_and_it_stays_visible(app: Flask,
                                                                        client: FlaskClient) -> None:
    cid = post(client).get_json()["comment"]["id"]
    for i, reason in enumerate(["Spam", "Abusive or hateful", "Off topic"]):
        assert report(client, cid, f"{i}" * 40, reason, ip=f"198.51.100.{i}").status_code == 201
    with app.app_context():
        comment = db.session.get(Comment, cid)
        assert comment.flagged and comment.status.value == "approved"
        assert comment.reasons == ["flagged by readers: Spam; Abusive or hateful; Off topic"]
    assert read(client).get_json()["thread"]["count"] == 1
    setup_sites_and_check_queue(app, cid)


def setup_sites_and_check_queue(app: Flask, cid: int) -> None:
    from comments.services.accounts import create_moderator

    from .modhelpers import PASSWORD

    with app.app_context():
        create_moderator("admin@example.org", PASSWORD, "admin")
    web, token = login(app, "admin@example.org")
    page = web.get("/mod/queue").get_data(as_text=True)
    assert f'id="c{cid}"' in page and "flagged by readers" in page
    web.post("/mod/actions", data={"csrf_token": token, "one": f"approve:{cid}"})
    assert f'id="c{cid}"' not in web.get("/mod/queue").get_data(as_text=True)
    with app.app_context():
        assert not db.session.get(Comment, cid).flagged


def test_reported_comments_can_be_hidden_while_they_wait(app: Flask, client: FlaskClient) -> None:
    set_site(app, report_threshold="2", reported_stay_visible="false")
    cid = post(client).get_json()["comment"]["id"]
    report(client, cid, "a" * 40)
    assert read(client).get_json()["thread"]["count"] == 1
    report(client, cid, "b" * 40, ip="198.51.100.2")
    thread = read(client).get_json()
    assert thread["comments"] == [] and thread["thread"]["count"] == 0
    with app.app_context():
        assert db.session.get(Comment, cid).status.value == "pending"


@pytest.mark.parametrize(("reason", "status"), [("", 422), (None, 422), (5, 422), ("x" * 501, 422)])
def test_a_report_needs_a_reason(app: Flask, client: FlaskClient, reason: object, status: int) -> None:
    cid = post(client).get_json()["comment"]["id"]
    res = report(client, cid, "a" * 40, reason)
    assert res.status_code == status and res.get_json()["error"]["field"] == "reason"
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Report.id))) == 0


def test_only_published_comments_of_the_site_can_be_reported(app: Flask, client: FlaskClient) -> None:
    assert report(client, 424242, "a" * 40).status_code == 404
    cid = post(client).get_json()["comment"]["id"]
    with app.app_context():
        db.session.get(Comment, cid).status = "removed"
        db.session.commit()
    assert report(client, cid, "a" * 40).status_code == 404
    other = client.post(f"/api/v1/comments/{cid}/reports", json={"reason": "x"},
                        headers={"Origin": "https://evil.example"})
    assert other.status_code == 403


def test_fresh_reader_keys_from_one_address_count_as_one_reporter(app: Flask,
                                                                 client: FlaskClient) -> None:
    set_site(app, report_threshold="3", reported_stay_visible="false")
    cid = post(client).get_json()["comment"]["id"]
    for i in range(5):
        assert report(client, cid, f"k{i}" * 20, ip="203.0.113.7").status_code == 201
    # An IPv6 client counts by its /64, whichever address of it and key it uses.
    for i in range(5):
        assert report(client, cid, f"six{i}" * 10, ip=f"2001:db8:1:2::{i + 1}").status_code == 201
    with app.app_context():
        comment = db.session.get(Comment, cid)
        assert not comment.flagged and comment.status.value == "approved"
        # Every report is recorded; they only count once per address.
        assert db.session.scalar(db.select(db.func.count(Report.id))) == 10
    report(client, cid, "z" * 40, ip="2001:db8:1:3::1")
    with app.app_context():
        comment = db.session.get(Comment, cid)
        assert comment.flagged and comment.status.value == "pending"


def test_after_a_moderator_keeps_a_comment_only_newer_reports_count(app: Flask,
                                                                   client: FlaskClient) -> None:
    from comments.services.accounts import create_moderator

    from .modhelpers import PASSWORD

    set_site(app, report_threshold="2", reported_stay_visible="false")
    cid = post(client).get_json()["comment"]["id"]
    report(client, cid, "a" * 40, ip="198.51.100.1")
    report(client, cid, "b" * 40, ip="198.51.100.2")
    with app.app_context():
        assert db.session.get(Comment, cid).status.value == "pending"
        create_moderator("admin@example.org", PASSWORD, "admin")
    web, token = login(app, "admin@example.org")
    web.post("/mod/actions", data={"csrf_token": token, "one": f"approve:{cid}"})
    # One new report is not enough: the two before the decision no longer count.
    assert report(client, cid, "c" * 40, "Off topic", ip="198.51.100.1").status_code == 201
    with app.app_context():
        comment = db.session.get(Comment, cid)
        assert not comment.flagged and comment.status.value == "approved"
        assert db.session.scalar(db.select(db.func.count(Report.id))) == 3
    assert read(client).get_json()["thread"]["count"] == 1
    report(client, cid, "d" * 40, "Rude", ip="198.51.100.4")
    with app.app_context():
        comment = db.session.get(Comment, cid)
        assert comment.flagged and comment.status.value == "pending"
        assert comment.reasons[-1] == f"{FLAGGED}: Off topic; Rude"
