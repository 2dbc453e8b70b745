"""The queue and the all-comments page: what they show, the actions, CSRF and the audit log."""
from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
import re
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, text

from comments.extensions import db
from comments.models import AuditEntry, Comment, CommentStatus, Moderator, Site, Thread
from comments.services import queue

from .helpers import read
from .modhelpers import approved_then_edited, login, post_comment, setup_sites, status_of


@pytest.fixture
def queued(app: Flask) -> dict[str, int]:
    setup_sites(app)
    first = post_comment(app, text="First, *kept*", name="Ann")
    return {"first": first,
            "second": post_comment(app, text="Second", name="Bob", email="bob@example.net"),
            "third": post_comment(app, text="Third <script>alert(1)</script>", name="Cy", email=None,
                                  ip="192.0.2.77"),
            "blog": post_comment(app, "blog", text="On the blog")}


def approved_count(app: Flask, article: str = "a1", site: str = "news") -> int:
    with app.app_context():
        return db.session.scalar(db.select(Thread.comment_count).join(Site).where(
            Thread.article_key == article, Site.slug == site))


def test_queue_shows_each_comment_with_its_context(app: Flask, queued: dict[str, int]) -> None:
    client, token = login(app, "admin@example.org")
    client.post("/mod/actions", data={"csrf_token": token, "one": f"approve:{queued['first']}"})
    reply = post_comment(app, text="A reply", name="Dee", parent_id=queued["first"])
    page = client.get("/mod/queue?site=news").get_data(as_text=True)
    assert "3 waiting" in page
    for expected in ("Article a1", 'href="https://news.example/a1"', "reader@example.net",
                     "203.0.113.9", "site is pre-moderated", "In reply to", "First, kept",
                     "1 approved · 0 removed · 0 spam", "first seen"):
        assert expected in page, expected
    # Oldest first, and the approved one has left the queue.
    assert page.index(f'id="c{queued["second"]}"') < page.index(f'id="c{reply}"')
    assert f'id="c{queued["first"]}"' not in page
    # Comment bodies are the stored sanitized HTML: markup from readers is text.
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    # The total waiting is on every moderator page.
    assert 'id="queue-count">4<' in client.get("/mod/log").get_data(as_text=True)


def test_queue_filters_by_article(app: Flask, queued: dict[str, int]) -> None:
    other = post_comment(app, article="a2", text="Elsewhere")
    client, _ = login(app, "admin@example.org")
    page = client.get("/mod/queue?article=a2").get_data(as_text=True)
    assert f'id="c{other}"' in page and f'id="c{queued["first"]}"' not in page
    assert "1 waiting" in page


def test_approve_and_remove_take_effect_for_readers_at_once(app: Flask, queued: dict[str, int]) -> None:
    client, token = login(app, "admin@example.org")
    reader = app.test_client()
    assert read(reader, "a1").get_json()["comments"] == []
    res = client.post("/mod/actions", data={"csrf_token": token, "one": f"approve:{queued['first']}",
                                            "next": "/mod/queue", "order": ",".join(
                                                str(queued[k]) for k in ("first", "second", "third"))})
    assert res.status_code == 302
    assert res.headers["Location"] == f"/mod/queue#c{queued['second']}"
    thread = read(reader, "a1").get_json()
    assert [c["id"] for c in thread["comments"]] == [queued["first"]]
    assert thread["thread"]["count"] == 1
    counts = reader.get("/api/v1/counts?site=news&article=a1").get_json()
    assert counts == {"counts": {"a1": 1}}
    client.post("/mod/actions", data={"csrf_token": token, "one": f"remove:{queued['first']}",
                                      f"reason-{queued['first']}": "off topic"})
    assert read(reader, "a1").get_json()["comments"] == []
    assert approved_count(app) == 0
    with app.app_context():
        entry = db.session.scalars(db.select(AuditEntry).order_by(AuditEntry.id.desc())).first()
        assert (entry.action, entry.status_before, entry.status_after, entry.reason) == (
            "remove", "approved", "removed", "off topic")
        assert entry.moderator.email == "admin@example.org"
        assert entry.comment_id == queued["first"]


def test_bulk_actions_apply_to_all_selected(app: Flask, queued: dict[str, int]) -> None:
    client, token = login(app, "admin@example.org")
    ids = [str(queued["first"]), str(queued["second"]), str(queued["blog"])]
    client.post("/mod/actions", data={"csrf_token": token, "action": "approve", "ids": ids})
    assert [status_of(app, int(i)) for i in ids] == ["approved"] * 3
    assert approved_count(app) == 2
    client.post("/mod/actions", data={"csrf_token": token, "action": "spam", "ids": ids[:2],
                                      "reason": "link farm"})
    assert [status_of(app, int(i)) for i in ids[:2]] == ["spam", "spam"]
    assert approved_count(app) == 0
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(AuditEntry.id)).where(
            AuditEntry.action.in_(["approve", "spam"]))) == 5


def test_feature_pins_and_approves(app: Flask, queued: dict[str, int]) -> None:
    client, token = login(app, "admin@example.org")
    client.post("/mod/actions", data={"csrf_token": token, "one": f"feature:{queued['second']}"})
    with app.app_context():
        comment = db.session.get(Comment, queued["second"])
        assert comment.featured and comment.status.value == "approved"
    client.post("/mod/actions", data={"csrf_token": token, "one": f"spam:{queued['third']}"})
    res = client.post("/mod/actions", data={"csrf_token": token, "one": f"feature:{queued['third']}"})
    assert res.status_code == 409
    assert "cannot be featured" in res.get_data(as_text=True)


def test_a_bulk_action_with_one_forbidden_comment_changes_nothing(app: Flask,
                                                                  queued: dict[str, int]) -> None:
    client, token = login(app, "newsmod@example.org")
    res = client.post("/mod/actions", data={"csrf_token": token, "action": "approve",
                                            "ids": [str(queued["first"]), str(queued["blog"])]})
    assert res.status_code == 403
    assert status_of(app, queued["first"]) == "pending"
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(AuditEntry.id)).where(
            AuditEntry.comment_id.is_not(None))) == 0


@pytest.mark.parametrize("data", [{"action": "approve"}, {"action": "explode", "ids": ["1"]},
                                  {"one": "approve:x"}, {"action": "approve", "ids": ["99999"]}])
def test_bad_action_forms_are_4xx_pages(app: Flask, queued: dict[str, int], data: dict) -> None:
    client, token = login(app, "admin@example.org")
    res = client.post("/mod/actions", data=data | {"csrf_token": token})
    assert 400 <= res.status_code < 500
    assert res.mimetype == "text/html"
    assert status_of(app, queued["first"]) == "pending"


@pytest.mark.parametrize("token", [None, "", "forged-token"])
def test_state_changes_without_a_valid_csrf_token_are_refused(app: Flask, queued: dict[str, int],
                                                              token: str | None) -> None:
    client, _ = login(app, "admin@example.org")
    data = {"one": f"approve:{queued['first']}"}
    if token is not None:
        data["csrf_token"] = token
    res = client.post("/mod/actions", data=data)
    assert res.status_code == 400
    assert "CSRF" in res.get_data(as_text=True)
    assert status_of(app, queued["first"]) == "pending"
    res = client.post("/mod/bans", data={"site": "news", "by_ip": "on", "ip": "1.2.3.4"})
    assert res.status_code == 400


def test_all_comments_page_filters(app: Flask, queued: dict[str, int]) -> None:
    client, token = login(app, "admin@example.org")
    client.post("/mod/actions", data={"csrf_token": token, "one": f"approve:{queued['first']}"})

    def shown(query: str) -> set[int]:
        page = client.get(f"/mod/comments?{query}").get_data(as_text=True)
        return {i for i in queued.values() if f'id="c{i}"' in page}

    assert shown("") == set(queued.values())
    assert shown("status=approved") == {queued["first"]}
    assert shown("site=blog") == {queued["blog"]}
    assert shown("author=bob@example.net") == {queued["second"]}
    assert shown("author=Cy") == {queued["third"]}
    assert shown("author=192.0.2.77") == {queued["third"]}
    assert shown("q=kept") == {queued["first"]}
    assert shown("q=100%25") == set()
    assert client.get("/mod/comments?status=nonsense").status_code == 400
    page = client.get("/mod/comments").get_data(as_text=True)
    assert page.index(f'id="c{queued["blog"]}"') < page.index(f'id="c{queued["first"]}"')


def test_comment_page_shows_its_own_history(app: Flask, queued: dict[str, int]) -> None:
    client, token = login(app, "admin@example.org")
    cid = queued["first"]
    client.post("/mod/actions", data={"csrf_token": token, "one": f"approve:{cid}", "stay": "1",
                                      "next": f"/mod/comments/{cid}", "order": str(cid)})
    res = client.post("/mod/actions", data={"csrf_token": token, "one": f"remove:{cid}",
                                            f"reason-{cid}": "spoilers", "stay": "1",
                                            "next": f"/mod/comments/{cid}", "order": str(cid)})
    assert res.headers["Location"] == f"/mod/comments/{cid}#c{cid}"
    page = client.get(f"/mod/comments/{cid}").get_data(as_text=True)
    assert "pending → approved" in page and "approved → removed" in page and "spoilers" in page
    log = client.get("/mod/log?site=news").get_data(as_text=True)
    assert "spoilers" in log and "admin@example.org" in log
    with app.app_context():
        from comments.models import Moderator
        other = db.session.scalar(db.select(Moderator.id).filter_by(email="newsmod@example.org"))
    assert "spoilers" not in client.get(f"/mod/log?moderator={other}").get_data(as_text=True)


def test_a_comment_held_after_an_edit_shows_why_and_its_earlier_text(app: Flask) -> None:
    setup_sites(app)
    cid = approved_then_edited(app, "Nice *article*", "Visit https://pills.example/ now")
    client, _ = login(app, "admin@example.org")
    for page in (client.get("/mod/queue").get_data(as_text=True),
                 client.get(f"/mod/comments/{cid}").get_data(as_text=True)):
        item = page[page.index(f'id="c{cid}"'):]
        item = item[:item.index("</article>")]
        assert "edited after approval" in item
        assert "pills.example" in item
        before = item[item.index('class="previous"'):]
        assert "Nice <em>article</em>" in before and "by its author" in before


@pytest.mark.parametrize("query", ["q=a%00b", "author=%00", "article=x%00", "site=%00", "q=%ED%A0%80",
                                   "author=%F0%9F%98%80"])
def test_filters_no_database_can_hold_are_4xx_or_empty_never_500(app: Flask, queued: dict[str, int],
                                                                 query: str) -> None:
    client, _ = login(app, "admin@example.org")
    res = client.get(f"/mod/comments?{query}")
    if "%00" in query:
        assert res.status_code == 400  # refused before any view runs
    else:
        assert res.status_code in (200, 404)


@contextmanager
def _sent() -> Iterator[list[tuple[str, Any]]]:
    """Every statement on the comments table sent meanwhile, as the driver got it."""
    sent: list[tuple[str, Any]] = []

    def grab(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "FROM comments" in statement:
            sent.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", grab)
    try:
        yield sent
    finally:
        event.remove(db.engine, "before_cursor_execute", grab)


def _plan(statement: str, parameters: Any) -> str:
    conn = db.session.connection()
    if conn.dialect.name == "sqlite":
        rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
        return "\n".join(row[3] for row in rows)
    return "\n".join(conn.exec_driver_sql("EXPLAIN " + statement, parameters).scalars())


def _reads_through_an_index(plan: str) -> bool:
    """Whether a plan reads comments only through an index, never by scanning the table.

    On SQLite any index will do: its planner ties the partial index with any (site_id, ...) one
    when one site holds every comment, and settles the tie by the order the indexes were created
    in. PostgreSQL weighs the partial index's size, so there the plan must name it.
    """
    if db.session.connection().dialect.name == "postgresql":
        return "ix_comments_waiting" in plan
    reads = [line for line in plan.splitlines() if re.match(r"(SCAN|SEARCH) comments\b", line)]
    return bool(reads) and all(re.match(r"SEARCH comments USING (COVERING )?INDEX |"
                                        r"SCAN comments USING (COVERING )?INDEX ix_comments_waiting",
                                        line) for line in reads)


def test_the_queue_and_authors_histories_read_their_indexes(app: Flask) -> None:
    setup_sites(app)
    with app.app_context():
        site_id = db.session.scalar(db.select(Site.id).filter_by(slug="news"))
        thread = Thread(site_id=site_id, article_key="a1")
        db.session.add(thread)
        db.session.flush()
        # Enough published comments that reading them all costs more than the index; ten by each
        # author, whose email is typed in two cases.
        db.session.execute(db.insert(Comment), [
            {"thread_id": thread.id, "site_id": site_id, "author_name": "A", "text": "t", "html": "t",
             "author_email": f"{'Author' if i // 300 % 2 else 'author'}{i % 300}@example.org",
             "status": "pending" if i % 500 == 0 else "approved", "flagged": i % 700 == 1,
             "created_at": datetime(2026, 1, 1) + timedelta(minutes=i)} for i in range(3000)])
        db.session.commit()
        db.session.execute(text("ANALYZE comments"))
        if db.engine.dialect.name == "postgresql":
            # Only an index or a scan of the whole table can answer: the plan must name the index.
            db.session.execute(text("SET LOCAL enable_seqscan = off"))
        admin, newsmod = (db.session.scalar(db.select(Moderator).filter_by(email=e))
                          for e in ("admin@example.org", "newsmod@example.org"))
        with _sent() as sent:
            page = queue.pending(admin, "news")
            assert queue.pending(newsmod).total == page.total == queue.pending_count(admin) == 6 + 5
            history = queue.histories(page.items)[queue.author_key(page.items[0])]
        assert (history.approved, history.pending) == (8, 2)
        waiting = [s for s in sent if "flagged" in s[0].partition("WHERE")[2]]
        by_email = [s for s in sent if "lower(comments.author_email)" in s[0]]
        assert len(waiting) == 5 and len(by_email) == 1
        for statement, parameters in waiting:
            assert _reads_through_an_index(_plan(statement, parameters)), statement
            # Inline, so that the generic plan of a prepared statement can use the index too.
            assert "'pending'" in statement and "'approved'" in statement
        assert "ix_comments_site_id_lower_author_email" in _plan(*by_email[0])
        # An admin's queue spans the sites: its own index gives the order, with no sort.
        with _sent() as sent:
            assert queue.pending(admin).total == 11
        statement, parameters = next(s for s in sent if "ORDER BY" in s[0])
        plan = _plan(statement, parameters)
        assert "ix_comments_waiting_created_at" in plan, plan
        assert "TEMP B-TREE" not in plan and "Sort" not in plan, plan
        db.session.rollback()


HUGE = "9" * 5000


@pytest.mark.parametrize("form", [
    {"one": f"approve:{HUGE}"},
    {"action": "approve", "ids": ["{first}", HUGE]},
    {"action": "approve", "ids": ["{first}", "99999999999999999999999"]},
    {"action": "approve", "ids": ["{first}", "x"]},
    {"action": "approve", "ids": ["{first}"], "order": f"{{first}},{HUGE}"},
    {"action": "approve", "ids": ["{first}"], "order": "{first},x"},
    {"one": "approve:{first}", "next": "/mod/queue\r\nSet-Cookie: a=b"},
    {"one": "approve:{first}", "next": "/mod/queue\nX: y"},
])
def test_hostile_action_forms_are_refused_before_anything_changes(app: Flask, queued: dict[str, int],
                                                                  form: dict[str, Any]) -> None:
    client, token = login(app, "admin@example.org")
    data = {k: [v.format(**queued) for v in vs] if isinstance(vs, list) else vs.format(**queued)
            for k, vs in form.items()}
    res = client.post("/mod/actions", data=data | {"csrf_token": token})
    assert 400 <= res.status_code < 500
    assert res.mimetype == "text/html"
    assert status_of(app, queued["first"]) == "pending"
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(AuditEntry.id)).where(
            AuditEntry.comment_id.is_not(None))) == 0


@pytest.mark.parametrize("page", ["/mod/comments", "/mod/queue"])
@pytest.mark.parametrize("query", ["endpoint=x", "_external=1", "_scheme=javascript", "_anchor=x",
                                   "_method=POST", "values=x"])
def test_query_arguments_never_reach_the_pagers_links(app: Flask, page: str, query: str) -> None:
    setup_sites(app)
    with app.app_context():
        first = db.session.get(Comment, post_comment(app))
        db.session.add_all([Comment(thread_id=first.thread_id, site_id=first.site_id, text="t", html="<p>t</p>",
                                    author_name="R", status=CommentStatus.PENDING)
                            for _ in range(queue.PER_PAGE)])
        db.session.commit()
    client, _ = login(app, "admin@example.org")
    res = client.get(f"{page}?{query}&page=1")
    assert res.status_code == 200
    html = res.get_data(as_text=True)
    assert 'rel="next"' in html
    link = re.search(r'rel="next" href="([^"]+)"', html).group(1)
    assert link.startswith(f"{page}?") and "page=2" in link
    assert query.split("=")[0] not in link and "#" not in link
