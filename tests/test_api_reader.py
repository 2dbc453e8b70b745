"""Issue 5's API: pages and cursors, sorting by votes, ETags, deep links, edits, deletes, votes, closing."""
from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from comments.extensions import db
from comments.models import (AuditEntry, Comment, CommentRevision, Moderator, Site, Thread, Vote,
                             utcnow)
from comments.services.accounts import create_moderator
from comments.services.moderation import apply, set_closed
from comments.services.sites import parse_setting, update_settings

from .helpers import ORIGIN, post, read

pytestmark = pytest.mark.usefixtures("site")


def ids(comments: list[dict]) -> list[int]:
    return [c["id"] for c in comments]


def settings(app: Flask, **values: str) -> None:
    with app.app_context():
        site = db.session.scalar(db.select(Site))
        update_settings(site, actor=None, values={k: parse_setting(k, v) for k, v in values.items()})


def boss(app: Flask) -> Moderator:
    with app.app_context():
        if db.session.scalar(db.select(Moderator)) is None:
            create_moderator("boss@example.org", "long enough password", "admin")
        return db.session.scalar(db.select(Moderator))


def edit(client: FlaskClient, cid: int, token: str | None, text: str = "Changed"):
    headers = {"Origin": ORIGIN} | ({"Authorization": f"Bearer {token}"} if token else {})
    return client.patch(f"/api/v1/comments/{cid}", json={"text": text}, headers=headers)


def delete(client: FlaskClient, cid: int, token: str | None):
    headers = {"Origin": ORIGIN} | ({"Authorization": f"Bearer {token}"} if token else {})
    return client.delete(f"/api/v1/comments/{cid}", headers=headers)


def premoderate(app: Flask) -> None:
    with app.app_context():
        db.session.scalar(db.select(Site)).moderation = "pre"
        db.session.commit()


def earlier_versions(app: Flask, cid: int) -> list[tuple[str, str, str, int | None]]:
    with app.app_context():
        return [(r.text, r.html, r.editor.value, r.moderator_id) for r in db.session.scalars(
            db.select(CommentRevision).filter_by(comment_id=cid).order_by(CommentRevision.id))]


def vote(client: FlaskClient, cid: int, value: object, reader: str = "v" * 40,
         ip: str = "127.0.0.1"):
    return client.post(f"/api/v1/comments/{cid}/votes", json={"value": value},
                       headers={"Origin": ORIGIN, "X-Comments-Reader": reader},
                       environ_base={"REMOTE_ADDR": ip})


def test_pages_of_top_level_comments_with_all_their_replies(client: FlaskClient) -> None:
    tops = [post(client, text=f"top {i}").get_json()["comment"]["id"] for i in range(5)]
    reply = post(client, text="reply", parent_id=tops[3]).get_json()["comment"]["id"]
    deep = post(client, text="deep", parent_id=reply).get_json()["comment"]["id"]
    first = read(client, limit="2").get_json()
    assert ids(first["comments"]) == tops[:2]
    second = read(client, limit="2", cursor=first["next_cursor"]).get_json()
    assert ids(second["comments"]) == tops[2:4]
    assert second["comments"][1]["replies"][0]["replies"][0]["id"] == deep
    last = read(client, limit="2", cursor=second["next_cursor"]).get_json()
    assert ids(last["comments"]) == tops[4:] and last["next_cursor"] is None
    newest = read(client, sort="newest", limit="3").get_json()
    assert ids(newest["comments"]) == tops[::-1][:3]
    rest = read(client, sort="newest", limit="3", cursor=newest["next_cursor"]).get_json()
    assert ids(rest["comments"]) == tops[::-1][3:]


@pytest.mark.parametrize(("query", "field"), [({"limit": "0"}, "limit"), ({"limit": "101"}, "limit"),
                                              ({"limit": "x"}, "limit"), ({"cursor": "bogus"}, "cursor"),
                                              ({"cursor": "W10"}, "cursor"), ({"root": "-1"}, "root")])
def test_bad_paging_parameters_are_422(client: FlaskClient, query: dict, field: str) -> None:
    post(client)
    res = read(client, **query)
    assert res.status_code == 422 and res.get_json()["error"]["field"] == field


def test_a_cursor_of_another_sort_is_refused(client: FlaskClient) -> None:
    for i in range(3):
        post(client, text=f"t{i}")
    cursor = read(client, limit="1").get_json()["next_cursor"]
    res = read(client, sort="top", limit="1", cursor=cursor)
    assert res.status_code == 422 and res.get_json()["error"]["field"] == "cursor"


def test_top_sorts_by_score_and_pages_with_ties(client: FlaskClient) -> None:
    a, b, c, d = (post(client, text=f"t{i}").get_json()["comment"]["id"] for i in range(4))
    for reader, ip in (("1" * 40, "192.0.2.1"), ("2" * 40, "192.0.2.2")):
        vote(client, c, 1, reader, ip)
    vote(client, b, 1)
    page = read(client, sort="top", limit="2").get_json()
    assert ids(page["comments"]) == [c, b]
    assert [x["score"] for x in page["comments"]] == [2, 1]
    rest = read(client, sort="top", limit="2", cursor=page["next_cursor"]).get_json()
    assert ids(rest["comments"]) == [a, d]


def test_root_gives_one_top_level_comment_for_deep_links(client: FlaskClient) -> None:
    tops = [post(client, text=f"top {i}").get_json()["comment"]["id"] for i in range(3)]
    reply = post(client, text="r", parent_id=tops[2]).get_json()["comment"]["id"]
    deeper = post(client, text="rr", parent_id=reply).get_json()["comment"]["id"]
    place = client.get(f"/api/v1/comments/{deeper}", headers={"Origin": ORIGIN}).get_json()
    assert place["ancestors"] == [tops[2], reply] and place["root_id"] == tops[2]
    assert place["thread"]["article"] == "story-1"
    assert place["comment"]["html"].strip() == "<p>rr</p>"
    only = read(client, root=str(place["root_id"])).get_json()
    assert ids(only["comments"]) == [tops[2]]
    assert read(client, root=str(reply)).status_code == 404
    assert client.get("/api/v1/comments/999999").status_code == 404


def test_etag_answers_304_until_the_thread_changes(client: FlaskClient) -> None:
    post(client)
    first = read(client)
    etag = first.headers["ETag"]
    # Anyone may keep an anonymous read, and must ask again before using it.
    assert etag.startswith('W/"') and first.headers["Cache-Control"] == "public, no-cache"
    again = client.get("/api/v1/threads?site=news&article=story-1",
                       headers={"If-None-Match": etag, "Origin": ORIGIN})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["Cache-Control"] == "public, no-cache"
    assert again.headers["Access-Control-Allow-Origin"] == ORIGIN
    post(client, text="new")
    changed = client.get("/api/v1/threads?site=news&article=story-1", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert client.get("/api/v1/threads?site=news&article=story-1&sort=newest",
                      headers={"If-None-Match": changed.headers["ETag"]}).status_code == 200


def test_edit_within_the_window_re_renders_and_marks_edited(app: Flask, client: FlaskClient) -> None:
    body = post(client, text="Frist").get_json()
    cid, token = body["comment"]["id"], body["edit_token"]
    res = edit(client, cid, token, "First, *fixed*")
    assert res.status_code == 200
    assert res.get_json()["comment"]["html"].strip() == "<p>First, <em>fixed</em></p>"
    assert res.get_json()["comment"]["edited_at"]
    shown = read(client).get_json()["comments"][0]
    assert shown["edited_at"] and "fixed" in shown["html"]
    with app.app_context():
        assert db.session.get(Comment, cid).text == "First, *fixed*"


def test_edits_and_deletes_are_refused_with_another_token_or_after_the_window(
    app: Flask, client: FlaskClient
) -> None:
    one = post(client, text="one").get_json()
    two = post(client, text="two").get_json()
    for res in (edit(client, one["comment"]["id"], two["edit_token"]),
                delete(client, one["comment"]["id"], two["edit_token"]),
                edit(client, one["comment"]["id"], None)):
        assert res.status_code == 403 and res.get_json()["error"]["code"] == "wrong_token"
    with app.app_context():
        db.session.get(Comment, one["comment"]["id"]).created_at = utcnow() - timedelta(minutes=16)
        db.session.commit()
    late = edit(client, one["comment"]["id"], one["edit_token"])
    assert late.status_code == 403 and late.get_json()["error"]["code"] == "edit_window_closed"
    assert "15 minutes" in late.get_json()["error"]["message"]
    assert delete(client, one["comment"]["id"], one["edit_token"]).status_code == 403
    settings(app, edit_window_minutes="30")
    assert edit(client, one["comment"]["id"], one["edit_token"]).status_code == 200
    assert edit(client, one["comment"]["id"], one["edit_token"], "").status_code == 422


@pytest.mark.parametrize("text", ["\u200b", "\u200c\u200d\u2060", "\ufeff\u00ad", "\u202e \u2066\n\u2069"])
def test_an_edit_to_only_invisible_characters_is_refused(app: Flask, client: FlaskClient,
                                                         text: str) -> None:
    body = post(client, text="Visible").get_json()
    res = edit(client, body["comment"]["id"], body["edit_token"], text)
    assert res.status_code == 422 and res.get_json()["error"]["field"] == "text"
    with app.app_context():
        assert db.session.get(Comment, body["comment"]["id"]).text == "Visible"
    assert earlier_versions(app, body["comment"]["id"]) == []


def test_an_edit_into_spam_goes_back_to_the_queue(app: Flask, client: FlaskClient) -> None:
    app.config["SPAM_ENABLED"] = True
    settings(app, blocked_domains="spam.example")
    body = post(client, text="A fine comment").get_json()
    assert body["status"] == "approved"
    res = edit(client, body["comment"]["id"], body["edit_token"], "now see https://spam.example/buy")
    assert res.get_json()["status"] == "pending"
    assert read(client).get_json()["thread"]["count"] == 0
    with app.app_context():
        comment = db.session.get(Comment, body["comment"]["id"])
        assert comment.status.value == "pending"
        assert any("after an edit" in r for r in comment.reasons)


def test_an_edit_on_a_premoderated_site_goes_back_to_the_queue(app: Flask, client: FlaskClient) -> None:
    premoderate(app)
    body = post(client, text="A harmless remark").get_json()
    cid, token = body["comment"]["id"], body["edit_token"]
    with app.app_context():
        apply(boss(app), [cid], "approve")
    assert ids(read(client).get_json()["comments"]) == [cid]
    res = edit(client, cid, token, "Cheap pills at https://pills.example/buy")
    assert res.status_code == 200
    assert res.get_json()["status"] == "pending" and res.get_json()["comment"]["status"] == "pending"
    # Readers no longer see it (the cached page of the thread included), nor its new text.
    thread = read(client).get_json()
    assert thread["comments"] == [] and thread["thread"]["count"] == 0
    assert client.get(f"/api/v1/comments/{cid}").status_code == 404
    # Its author still does, marked as waiting, as after posting a held comment.
    mine = client.get(f"/api/v1/comments/{cid}", headers={"Authorization": f"Bearer {token}"})
    assert mine.status_code == 200 and mine.get_json()["comment"]["status"] == "pending"
    assert "pills.example" in mine.get_json()["comment"]["html"]
    with app.app_context():
        comment = db.session.get(Comment, cid)
        assert comment.status.value == "pending"
        assert "edited after approval" in comment.reasons
    [(text, html, editor, moderator)] = earlier_versions(app, cid)
    assert (text, editor, moderator) == ("A harmless remark", "author", None)
    assert html == "<p>A harmless remark</p>\n"


def test_an_edit_of_a_held_comment_keeps_it_held_without_claiming_it_was_approved(
    app: Flask, client: FlaskClient
) -> None:
    premoderate(app)
    body = post(client, text="Waiting").get_json()
    res = edit(client, body["comment"]["id"], body["edit_token"], "Still waiting")
    assert res.get_json()["status"] == "pending"
    with app.app_context():
        assert db.session.get(Comment, body["comment"]["id"]).reasons == ["site is pre-moderated"]
    assert [v[0] for v in earlier_versions(app, body["comment"]["id"])] == ["Waiting"]


def test_an_edit_on_a_postmoderated_site_stays_published_and_keeps_the_earlier_text(
    app: Flask, client: FlaskClient
) -> None:
    body = post(client, text="one").get_json()
    cid, token = body["comment"]["id"], body["edit_token"]
    assert edit(client, cid, token, "two").get_json()["status"] == "approved"
    assert edit(client, cid, token, "three").get_json()["status"] == "approved"
    assert read(client).get_json()["comments"][0]["html"] == "<p>three</p>\n"
    assert [(v[0], v[2]) for v in earlier_versions(app, cid)] == [("one", "author"), ("two", "author")]


@pytest.mark.parametrize("moderation", ["pre", "post"])
def test_an_edit_unfeatures_a_comment(app: Flask, client: FlaskClient, moderation: str) -> None:
    if moderation == "pre":
        premoderate(app)
    body = post(client, text="Pinned").get_json()
    cid = body["comment"]["id"]
    with app.app_context():
        apply(boss(app), [cid], "feature")
    assert read(client).get_json()["comments"][0]["featured"] is True
    assert edit(client, cid, body["edit_token"], "Pinned, then changed").get_json()["comment"][
        "featured"] is False
    with app.app_context():
        assert db.session.get(Comment, cid).featured is False
        assert db.session.scalar(db.select(AuditEntry.action).filter_by(comment_id=cid)
                                 .order_by(AuditEntry.id.desc()).limit(1)) == "edited_by_author"
    assert all(not c["featured"] for c in read(client).get_json()["comments"])


def test_deleting_an_edited_comment_erases_its_earlier_versions(app: Flask, client: FlaskClient) -> None:
    body = post(client, text="regrettable").get_json()
    cid, token = body["comment"]["id"], body["edit_token"]
    edit(client, cid, token, "better")
    assert delete(client, cid, token).status_code == 200
    assert earlier_versions(app, cid) == []


def test_delete_leaves_a_placeholder_only_when_replies_show(app: Flask, client: FlaskClient) -> None:
    parent = post(client, text="parent").get_json()
    post(client, text="child", parent_id=parent["comment"]["id"])
    lonely = post(client, text="lonely").get_json()
    assert delete(client, parent["comment"]["id"], parent["edit_token"]).get_json() == {"deleted": True}
    assert delete(client, lonely["comment"]["id"], lonely["edit_token"]).status_code == 200
    body = read(client).get_json()
    assert body["thread"]["count"] == 1
    assert len(body["comments"]) == 1 and body["comments"][0]["status"] == "deleted"
    assert body["comments"][0]["html"] is None
    with app.app_context():
        row = db.session.get(Comment, parent["comment"]["id"])
        assert row.text == "" and row.html == ""
    assert delete(client, lonely["comment"]["id"], lonely["edit_token"]).status_code == 404


def test_votes_one_per_reader_undoable_and_down_only_where_allowed(app: Flask, client: FlaskClient) -> None:
    cid = post(client).get_json()["comment"]["id"]
    assert vote(client, cid, 1).get_json() == {"score": 1, "value": 1}
    assert vote(client, cid, 1).get_json() == {"score": 1, "value": 1}
    assert vote(client, cid, 1, "w" * 40, "192.0.2.2").get_json()["score"] == 2
    assert vote(client, cid, 0).get_json() == {"score": 1, "value": 0}
    refused = vote(client, cid, -1)
    assert refused.status_code == 422 and refused.get_json()["error"]["field"] == "value"
    settings(app, downvotes="true")
    assert vote(client, cid, -1).get_json() == {"score": 0, "value": -1}
    assert read(client).get_json()["thread"]["downvotes"] is True
    for bad in (2, "1", True, None):
        assert vote(client, cid, bad).status_code == 422
    assert vote(client, 987654, 1).status_code == 404


def test_fresh_reader_keys_from_one_address_vote_once(app: Flask, client: FlaskClient) -> None:
    cid = post(client).get_json()["comment"]["id"]
    scores = [vote(client, cid, 1, f"{i:02d}" * 20, "203.0.113.7").get_json()["score"]
              for i in range(20)]
    assert scores == [1] * 20
    # An IPv6 client counts by its /64, whichever address of it and key it uses.
    for i in range(5):
        assert vote(client, cid, 1, f"six{i}" * 10, f"2001:db8:1:2::{i + 1}").get_json()["score"] == 2
    assert vote(client, cid, 1, "other" * 8, "2001:db8:1:3::1").get_json()["score"] == 3
    # A second key from a counted address changes that address's vote instead of adding one.
    settings(app, downvotes="true")
    assert vote(client, cid, -1, "late" * 10, "203.0.113.7").get_json() == {"score": 1, "value": -1}
    assert vote(client, cid, 0, "later" * 8, "2001:db8:1:2::99").get_json() == {"score": 0, "value": 0}
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Vote.id))) == 2


def test_own_pending_comment_is_readable_with_its_token_only(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        db.session.scalar(db.select(Site)).moderation = "pre"
        db.session.commit()
    body = post(client).get_json()
    cid, token = body["comment"]["id"], body["edit_token"]
    assert client.get(f"/api/v1/comments/{cid}").status_code == 404
    mine = client.get(f"/api/v1/comments/{cid}", headers={"Authorization": f"Bearer {token}"})
    assert mine.status_code == 200 and mine.get_json()["comment"]["status"] == "pending"
    settings(app, show_own_pending="false")
    assert client.get(f"/api/v1/comments/{cid}",
                      headers={"Authorization": f"Bearer {token}"}).status_code == 404


def test_closed_threads_refuse_posts(app: Flask, client: FlaskClient) -> None:
    post(client)
    with app.app_context():
        thread_id = db.session.scalar(db.select(Thread.id))
        set_closed(boss(app), thread_id, True)
    assert read(client).get_json()["thread"]["closed"] is True
    refused = post(client, text="late")
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "thread_closed"
    with app.app_context():
        set_closed(boss(app), thread_id, False)
    assert post(client, text="reopened").status_code == 201


def test_threads_close_by_themselves_after_the_sites_age(app: Flask, client: FlaskClient) -> None:
    post(client)
    settings(app, auto_close_days="7")
    assert post(client, text="still open").status_code == 201
    with app.app_context():
        db.session.scalar(db.select(Thread)).created_at = utcnow() - timedelta(days=8)
        db.session.commit()
    assert read(client).get_json()["thread"]["closed"] is True
    assert post(client, text="too late").status_code == 403
    assert post(client, article="story-2", text="new thread").status_code == 201


def test_moderators_close_threads_from_the_comment_page_and_the_api(app: Flask, client: FlaskClient) -> None:
    from .modhelpers import PASSWORD, login

    cid = post(client).get_json()["comment"]["id"]
    with app.app_context():
        create_moderator("m@example.org", PASSWORD, "admin")
        thread_id = db.session.scalar(db.select(Thread.id))
    web, token = login(app, "m@example.org")
    page = web.get(f"/mod/comments/{cid}").get_data(as_text=True)
    assert "Close comments on this article" in page
    web.post(f"/mod/threads/{thread_id}/close", data={"csrf_token": token, "next": f"/mod/comments/{cid}"})
    assert read(client).get_json()["thread"]["closed"] is True
    assert "close_thread" in web.get("/mod/log").get_data(as_text=True)
    web.post(f"/mod/threads/{thread_id}/open", data={"csrf_token": token})
    assert read(client).get_json()["thread"]["closed"] is False


def test_featured_only_on_the_first_page(app: Flask, client: FlaskClient) -> None:
    tops = [post(client, text=f"t{i}").get_json()["comment"]["id"] for i in range(4)]
    with app.app_context():
        apply(boss(app), [tops[3]], "feature")
    first = read(client, limit="2").get_json()
    assert ids(first["comments"]) == [tops[3], tops[0], tops[1]]
    second = read(client, limit="2", cursor=first["next_cursor"]).get_json()
    assert ids(second["comments"]) == [tops[2]]
