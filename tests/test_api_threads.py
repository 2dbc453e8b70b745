"""GET /api/v1/threads and /api/v1/counts: the reader's view of a thread, and CORS."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from comments import invalidation
from comments.extensions import db
from comments.models import Comment, CommentStatus, Moderation, Site

from .helpers import ORIGIN, post, read, soon

pytestmark = pytest.mark.usefixtures("site")


def set_status(app: Flask, comment_id: int, status: CommentStatus) -> None:
    with app.app_context():
        db.session.get(Comment, comment_id).status = status
        db.session.commit()


@contextmanager
def counted_queries(app: Flask) -> Iterator[list[str]]:
    """Collect the SQL statements the app runs inside the block."""
    statements: list[str] = []
    with app.app_context():
        engine = db.engine

    def record(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_unknown_article_is_an_empty_thread(client: FlaskClient) -> None:
    res = read(client, "never-commented")
    assert res.status_code == 200
    body = res.get_json()
    assert body.pop("form_token")
    assert body == {
        "thread": {"article": "never-commented", "url": None, "title": None, "count": 0,
                   "closed": False, "downvotes": False, "edit_window": 900},
        "comments": [],
        "next_cursor": None,
    }


def test_thread_nests_replies_to_any_depth(client: FlaskClient) -> None:
    a = post(client, text="first").get_json()["comment"]["id"]
    b = post(client, text="second").get_json()["comment"]["id"]
    a1 = post(client, text="reply", parent_id=a).get_json()["comment"]["id"]
    a11 = post(client, text="deeper", parent_id=a1).get_json()["comment"]["id"]
    body = read(client).get_json()
    assert body["thread"] == {"article": "story-1", "url": "https://news.example/2026/story-1",
                              "title": "Story one", "count": 4, "closed": False,
                              "downvotes": False, "edit_window": 900}
    top = body["comments"]
    assert [c["id"] for c in top] == [a, b]
    assert top[0]["replies"][0]["id"] == a1
    assert top[0]["replies"][0]["replies"][0]["id"] == a11
    assert top[0]["replies"][0]["replies"][0]["parent_id"] == a1
    assert set(top[0]) == {"id", "parent_id", "author", "html", "created_at", "status", "featured",
                           "score", "edited_at", "replies"}
    assert top[0]["author"] == {"name": "Ada", "website": "https://ada.example", "verified": False,
                                "avatar": None}


def test_sort_newest_reverses_top_level_only(client: FlaskClient) -> None:
    a = post(client, text="first").get_json()["comment"]["id"]
    b = post(client, text="second").get_json()["comment"]["id"]
    r1 = post(client, text="r1", parent_id=a).get_json()["comment"]["id"]
    r2 = post(client, text="r2", parent_id=a).get_json()["comment"]["id"]
    top = read(client, sort="newest").get_json()["comments"]
    assert [c["id"] for c in top] == [b, a]
    assert [c["id"] for c in top[1]["replies"]] == [r1, r2]


def test_invalid_sort_is_422(client: FlaskClient) -> None:
    res = read(client, sort="random")
    assert res.status_code == 422
    assert res.get_json()["error"]["field"] == "sort"


@pytest.mark.parametrize("query", [{"article": "x"}, {"site": "news"}, {"site": "news", "article": ""},
                                   {"site": "news", "article": "a" * 513}])
def test_missing_or_bad_parameters_are_422(client: FlaskClient, query: dict) -> None:
    res = client.get("/api/v1/threads", query_string=query)
    assert res.status_code == 422
    assert res.get_json()["error"]["field"] in ("site", "article")


def test_unknown_site_is_404_and_unknown_parameters_are_ignored(client: FlaskClient) -> None:
    res = client.get("/api/v1/threads", query_string={"site": "nope", "article": "x"})
    assert res.status_code == 404
    assert res.get_json()["error"]["field"] == "site"
    assert read(client, utm_source="mail", page="x").status_code == 200


def test_hidden_comments_leave_placeholders_only_where_replies_are_visible(
    app: Flask, client: FlaskClient
) -> None:
    removed = post(client, text="removed with reply").get_json()["comment"]["id"]
    post(client, text="visible reply", parent_id=removed)
    deleted = post(client, text="deleted with reply").get_json()["comment"]["id"]
    post(client, text="visible reply 2", parent_id=deleted)
    lonely = post(client, text="removed alone").get_json()["comment"]["id"]
    pending = post(client, text="pending").get_json()["comment"]["id"]
    spam_parent = post(client, text="spam later").get_json()["comment"]["id"]
    spam_reply = post(client, text="reply to spam", parent_id=spam_parent).get_json()["comment"]["id"]
    set_status(app, removed, CommentStatus.REMOVED)
    set_status(app, deleted, CommentStatus.DELETED)
    set_status(app, lonely, CommentStatus.REMOVED)
    set_status(app, pending, CommentStatus.PENDING)
    set_status(app, spam_parent, CommentStatus.SPAM)
    top = read(client).get_json()["comments"]
    by_id = {c["id"]: c for c in top}
    assert set(by_id) == {removed, deleted, spam_parent}
    for cid, status in ((removed, "removed"), (deleted, "deleted"), (spam_parent, "removed")):
        assert by_id[cid]["status"] == status
        assert by_id[cid]["author"] is None and by_id[cid]["html"] is None
    assert by_id[removed]["replies"][0]["html"].strip() == "<p>visible reply</p>"
    assert by_id[spam_parent]["replies"][0]["id"] == spam_reply
    text = str(top)
    for hidden in ("removed with reply", "deleted with reply", "removed alone", "pending", "spam later"):
        assert f"<p>{hidden}</p>" not in text


def test_thread_read_costs_the_same_queries_for_any_size(app: Flask, client: FlaskClient) -> None:
    post(client, article="small")
    parent = post(client, article="big").get_json()["comment"]["id"]
    for i in range(40):
        parent = post(client, article="big", text=f"c{i}", parent_id=parent if i % 3 else None) \
            .get_json()["comment"]["id"]
    with counted_queries(app) as small:
        assert len(read(client, "small").get_json()["comments"]) == 1
    with counted_queries(app) as big:
        assert read(client, "big").get_json()["thread"]["count"] == 41
    # Site with its thread, featured comments, a page of top-level comments, all their replies.
    assert len(small) == len(big) == 4
    # Read again once the invalidation channel is live: the site, the thread (with its version)
    # and the page all come from the worker's memory, and no query is sent.
    assert soon(lambda: app.extensions[invalidation.EXTENSION].live(), 5.0)
    read(client, "big")
    with counted_queries(app) as warm:
        assert read(client, "big").get_json()["thread"]["count"] == 41
    assert warm == []


def test_reads_never_render_markdown(app: Flask, client: FlaskClient) -> None:
    cid = post(client, text="*stored*").get_json()["comment"]["id"]
    with app.app_context():
        db.session.get(Comment, cid).html = "<p>made at write time</p>"
        db.session.commit()
    assert read(client).get_json()["comments"][0]["html"] == "<p>made at write time</p>"


def test_counts_of_many_articles_in_one_request(app: Flask, client: FlaskClient) -> None:
    post(client, article="a")
    post(client, article="a")
    post(client, article="b")
    with app.app_context():
        db.session.scalar(db.select(Site)).moderation = Moderation.PRE
        db.session.commit()
    assert post(client, article="b").get_json()["status"] == "pending"
    with counted_queries(app) as statements:
        res = client.get("/api/v1/counts", query_string=[("site", "news"), ("article", "a"),
                                                         ("article", "b"), ("article", "c")])
    assert res.status_code == 200
    assert res.get_json() == {"counts": {"a": 2, "b": 1, "c": 0}}
    assert len(statements) == 1 and res.headers["Cache-Control"] == "public, no-cache"


def test_counts_refuses_more_than_100_articles_or_none(client: FlaskClient) -> None:
    many = [("site", "news")] + [("article", f"a{i}") for i in range(101)]
    res = client.get("/api/v1/counts", query_string=many)
    assert res.status_code == 422 and res.get_json()["error"]["field"] == "article"
    res = client.get("/api/v1/counts", query_string={"site": "news"})
    assert res.status_code == 422
    ok = client.get("/api/v1/counts", query_string=many[:101])
    assert ok.status_code == 200 and len(ok.get_json()["counts"]) == 100


def test_cors_answers_only_the_sites_origins(app: Flask, client: FlaskClient) -> None:
    res = read(client)
    assert res.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "Origin" in res.headers["Vary"]
    evil = client.get("/api/v1/threads", query_string={"site": "news", "article": "x"},
                      headers={"Origin": "https://evil.example"})
    assert evil.status_code == 403
    assert evil.get_json()["error"]["code"] == "origin_not_allowed"
    assert "Access-Control-Allow-Origin" not in evil.headers


def test_cors_refuses_writes_from_other_origins(app: Flask, client: FlaskClient) -> None:
    from .helpers import comment_payload

    res = client.post("/api/v1/comments", json=comment_payload(),
                      headers={"Origin": "https://evil.example"})
    assert res.status_code == 403
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Comment.id))) == 0


def test_preflight_from_allowed_origin(client: FlaskClient) -> None:
    res = client.options("/api/v1/comments", headers={
        "Origin": ORIGIN, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert res.status_code == 200
    assert res.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "POST" in res.headers["Access-Control-Allow-Methods"]
    assert "Content-Type" in res.headers["Access-Control-Allow-Headers"]
    other = client.options("/api/v1/comments", headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert "Access-Control-Allow-Origin" not in other.headers


def test_featured_comments_come_first_in_either_order(app: Flask, client: FlaskClient) -> None:
    from comments.models import Moderator
    from comments.services.accounts import create_moderator
    from comments.services.moderation import apply

    ids = [post(client, text=f"c{i}").get_json()["comment"]["id"] for i in range(4)]
    with app.app_context():
        create_moderator("boss@example.org", "long enough password", "admin")
        boss = db.session.scalar(db.select(Moderator))
        apply(boss, [ids[2]], "feature")
    for sort, rest in (("oldest", [ids[0], ids[1], ids[3]]), ("newest", [ids[3], ids[1], ids[0]])):
        top = read(client, sort=sort).get_json()["comments"]
        assert [c["id"] for c in top] == [ids[2], *rest]
        assert top[0]["featured"] is True and top[1]["featured"] is False


@pytest.mark.parametrize("query", ["site=ne%00ws&article=a", "site=news&article=a%00b",
                                   "site=news&article=a&limit=%C2%B2",
                                   "site=news&article=a&cursor=%0A", "site=news&article=a&cursor=%22"])
def test_reads_with_text_no_database_can_hold_are_4xx(client: FlaskClient, query: str) -> None:
    res = client.get(f"/api/v1/threads?{query}")
    assert 400 <= res.status_code < 500
    assert res.get_json()["error"]["field"] in ("site", "article", "limit", "cursor")
    counts = client.get(f"/api/v1/counts?{query.replace('&limit=%C2%B2', '').split('&cursor')[0]}")
    assert counts.status_code in (200, 404, 422)


def _ids(nodes: list[dict]) -> list[tuple[int, list]]:
    """The shape of a (sub)thread: each comment's id with its replies'."""
    return [(n["id"], _ids(n["replies"])) for n in nodes]


def _folds(nodes: list[dict]) -> dict[int, int]:
    """Every `more_replies` in a (sub)thread, by comment id."""
    found = {n["id"]: n["more_replies"] for n in nodes if "more_replies" in n}
    for n in nodes:
        found.update(_folds(n["replies"]))
    return found


def _branch(client: FlaskClient) -> dict[str, int]:
    """A top-level comment `a` with replies a1 (a1x, a1y), a2, a3, and `b` with one reply."""
    ids = {"a": post(client, text="a").get_json()["comment"]["id"]}
    ids["b"] = post(client, text="b").get_json()["comment"]["id"]
    for name, parent in (("a1", "a"), ("a1x", "a1"), ("a1y", "a1"), ("a2", "a"), ("a3", "a"),
                         ("b1", "b")):
        ids[name] = post(client, text=name, parent_id=ids[parent]).get_json()["comment"]["id"]
    return ids


def test_a_page_carries_each_top_level_comments_first_replies_depth_first(
    app: Flask, client: FlaskClient
) -> None:
    i = _branch(client)
    body = read(client).get_json()
    assert app.config["THREAD_FOLD_REPLIES"] == 3
    assert body["thread"]["count"] == 8
    assert _ids(body["comments"]) == [(i["a"], [(i["a1"], [(i["a1x"], []), (i["a1y"], [])])]),
                                      (i["b"], [(i["b1"], [])])]
    assert _folds(body["comments"]) == {i["a"]: 2}
    app.config["THREAD_FOLD_REPLIES"] = 2
    body = read(client).get_json()
    # A reply shown always has its parent shown; each cut is counted once, where it was made.
    assert _ids(body["comments"]) == [(i["a"], [(i["a1"], [(i["a1x"], [])])]),
                                      (i["b"], [(i["b1"], [])])]
    assert _folds(body["comments"]) == {i["a"]: 2, i["a1"]: 1}
    app.config["THREAD_FOLD_REPLIES"] = 0
    body = read(client).get_json()
    assert len(body["comments"][0]["replies"]) == 3 and _folds(body["comments"]) == {}


def test_root_gives_the_whole_branch_unfolded_and_is_cached_apart_from_the_page(
    app: Flask, client: FlaskClient
) -> None:
    i = _branch(client)
    page = read(client)
    branch = read(client, root=str(i["a"]))
    assert page.headers["ETag"] != branch.headers["ETag"]
    assert _ids(branch.get_json()["comments"]) == [
        (i["a"], [(i["a1"], [(i["a1x"], []), (i["a1y"], [])]), (i["a2"], []), (i["a3"], [])])]
    assert _folds(branch.get_json()["comments"]) == {}
    assert "more_replies" in read(client).get_json()["comments"][0]
    # A new reply to a folded comment moves the page's count and the branch alike.
    a4 = post(client, text="a4", parent_id=i["a"]).get_json()["comment"]["id"]
    assert _folds(read(client).get_json()["comments"]) == {i["a"]: 3}
    assert _ids(read(client, root=str(i["a"])).get_json()["comments"])[0][1][-1] == (a4, [])


@pytest.mark.parametrize("sort", ["oldest", "newest", "top"])
def test_folding_is_the_same_on_every_read_and_in_every_sort(
    app: Flask, client: FlaskClient, sort: str
) -> None:
    i = _branch(client)
    post(client, text="vote me", parent_id=i["a3"])
    expected = [(i["a1"], [(i["a1x"], []), (i["a1y"], [])])]
    first = read(client, sort=sort).get_json()["comments"]
    by_id = {c["id"]: c for c in first}
    assert _ids(by_id[i["a"]]["replies"]) == expected
    assert by_id[i["a"]]["more_replies"] == 3
    # Byte for byte the same answer from a fresh render as from the cache.
    app.extensions["comments.thread_cache"].max_bytes = 0
    assert read(client, sort=sort).get_json()["comments"] == first
