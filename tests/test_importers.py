"""Importers against real export files and our own, the export, and the import commands."""
from __future__ import annotations

import gzip
import json
import sqlite3
import tracemalloc
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner

from comments import importers
from comments.extensions import db
from comments.importers.export import (DERIVED_COLUMNS, EXTRA_COLUMNS, FORMAT, VERSION,
                                       comment_json)
from comments.models import Comment, CommentStatus, Site, Thread
from comments.services.posting import post_comment
from comments.services.sites import create_site

from .helpers import ORIGIN, read
from .importhelpers import DATA, contents, deep_disqus, isso_database, large_disqus

# Every well-formed real fixture with its counts from SOURCES.md: threads in the file, threads
# with comments, comments, deleted, spam, pending, replies, and what is left out of the comments
# (pingbacks and trackbacks; comments whose thread is not in the file).
WELL_FORMED = {
    "comentario/comentario-ok-empty-v1.json.gz": ("commento", 0, 0, 0, 0, 0, 0, 0, 0, 0),
    "comentario/comentario-ok-empty-v3.json.gz": ("commento", 0, 0, 0, 0, 0, 0, 0, 0, 0),
    "comentario/comentario-ok-single-v1.json.gz": ("commento", 1, 1, 1, 0, 0, 0, 0, 0, 0),
    "comentario/comentario-ok-single-v3.json.gz": ("commento", 1, 1, 1, 0, 0, 0, 0, 0, 0),
    "comentario/disqus-ok-empty.xml.gz": ("disqus", 0, 0, 0, 0, 0, 0, 0, 0, 0),
    "comentario/disqus-ok-single.xml.gz": ("disqus", 1, 1, 1, 0, 0, 0, 0, 0, 0),
    "comentario/wordpress-ok-empty.zip": ("wordpress", 0, 0, 0, 0, 0, 0, 0, 0, 0),
    "comentario/wordpress-ok-long.zip": ("wordpress", 1, 1, 1, 0, 0, 0, 0, 0, 0),
    "comentario/wordpress-ok-single.zip": ("wordpress", 1, 1, 1, 0, 0, 0, 0, 0, 0),
    "disqus-import-format-sample/disqus.xml": ("disqus", 1, 1, 1, 0, 0, 0, 0, 0, 0),
    "isso/disqus.xml": ("disqus", 3, 2, 6, 1, 0, 0, 2, 0, 1),
    "isso/generic.json": ("isso", 2, 2, 2, 0, 0, 0, 0, 0, 0),
    "isso/wordpress.xml": ("wordpress", 3, 2, 8, 0, 0, 0, 3, 0, 0),
    "remark42/commento.json": ("commento", 2, 2, 3, 0, 0, 0, 1, 0, 0),
    "remark42/rest-api-commento.json": ("commento", 1, 1, 7, 0, 0, 0, 2, 0, 0),
    "schnack/disqus.xml": ("disqus", 2, 2, 5, 0, 0, 0, 3, 0, 0),
    "wordpress-importer/a11y-unit-test-data.xml": ("wordpress", 154, 5, 29, 0, 0, 0, 9, 4, 0),
    "wordpress-importer/slashes.xml": ("wordpress", 1, 1, 1, 0, 0, 0, 0, 0, 0),
    "wordpress-importer/small-export.xml": ("wordpress", 11, 1, 1, 0, 0, 0, 0, 0, 0),
    "wordpress-importer/test-serialized-comment-meta.xml": ("wordpress", 1, 1, 1, 0, 0, 0, 0, 0, 0),
    "wordpress-importer/theme-unit-test-data.xml": ("wordpress", 186, 7, 33, 0, 0, 3, 10, 4, 0),
    "wordpress-importer/valid-wxr-1.0.xml": ("wordpress", 6, 1, 1, 0, 0, 0, 0, 0, 0),
    "wordpress-importer/valid-wxr-1.1.xml": ("wordpress", 2, 1, 1, 0, 0, 0, 0, 0, 0),
    "wordpress-importer/wxr-comprehensive.xml": ("wordpress", 2, 1, 1, 0, 0, 0, 0, 0, 0),
    "wordpress-importer/wxr-with-sub-data.xml": ("wordpress", 1, 1, 1, 0, 0, 0, 0, 0, 0),
}
# Every file meant to be broken (and remark42's, which a strict XML parser rejects), with the
# format it claims to be and words its refusal must contain.
BROKEN = {
    "comentario/comentario-bad-format.json.gz": ("commento", "not valid JSON"),
    "comentario/comentario-bad-version.json.gz": ("commento", "unknown export version 481"),
    "comentario/disqus-bad-format.xml.gz": ("disqus", "line 2: the file is not well-formed XML"),
    "comentario/wordpress-bad-format.zip": ("wordpress", "line 1: the file is not well-formed XML"),
    "comentario/wordpress-bad-no-files.zip": ("wordpress", "exactly one export file; it holds no"),
    "comentario/wordpress-bad-two-files.zip": ("wordpress", "exactly one export file; it holds "
                                                            "wordpress-ok-empty.xml, wordpress"),
    "remark42/disqus.xml": ("disqus", "line 1: the file is not well-formed XML"),
    "remark42/disqus-deleted-post.xml": ("disqus", "line 1: the file is not well-formed XML"),
    "remark42/disqus-deleted-thread.xml": ("disqus", "line 1: the file is not well-formed XML"),
}


def _site(slug: str = "news") -> Site:
    return db.session.scalar(db.select(Site).filter_by(slug=slug))


def _import(kind: str, path: Path | str, slug: str = "news", **kwargs: Any) -> importers.Summary:
    return importers.run(importers.READERS[kind](path), _site(slug), **kwargs)


def _comments(slug: str = "news") -> dict[str, Comment]:
    """A site's comments by their import keys without the source's tag ("disqus:7")."""
    rows = db.session.scalars(db.select(Comment).where(Comment.site_id == _site(slug).id))
    return {_untagged(c.import_key) if c.import_key else str(c.id): c for c in rows}


def _untagged(key: str) -> str:
    parts = key.split(":", 2)
    if len(parts) == 3 and parts[0] in ("disqus", "isso", "isso-json", "wordpress"):
        return f"{parts[0]}:{parts[2]}"
    return key


def _snapshot() -> tuple[Any, ...]:
    threads = db.session.execute(db.select(Thread.id, Thread.comment_count, Thread.version)).all()
    rows = db.session.execute(db.select(Comment.id, Comment.status, Comment.parent_id)).all()
    return tuple(sorted(threads)), tuple(sorted(rows))


@pytest.mark.parametrize("name", sorted(WELL_FORMED))
def test_real_export_imports_with_its_counts(app: Flask, site: Site, name: str) -> None:
    kind, threads, with_comments, total, deleted, spam, pending, replies, pings, orphans = \
        WELL_FORMED[name]
    with app.app_context():
        summary = _import(kind, DATA / name)
        assert (summary.threads, summary.pingbacks, summary.skipped) == (threads, pings, orphans)
        assert summary.comments + summary.pingbacks + summary.skipped == total
        stored = _comments().values()
        statuses = Counter(c.status for c in stored)
        assert statuses[CommentStatus.REMOVED] == deleted
        assert statuses[CommentStatus.SPAM] == spam
        assert statuses[CommentStatus.PENDING] == pending
        left_out = pings + orphans
        assert statuses[CommentStatus.APPROVED] == total - left_out - deleted - spam - pending
        assert sum(c.parent_id is not None for c in stored) == replies
        rows = db.session.scalars(db.select(Thread)).all()
        assert len(rows) == with_comments
        assert all(t.comment_count == statuses_in(t) for t in rows)

        again = _import(kind, DATA / name)
        assert (again.comments, again.already) == (0, summary.comments)
        assert db.session.scalar(db.select(db.func.count(Comment.id))) == summary.comments


def statuses_in(thread: Thread) -> int:
    return db.session.scalar(db.select(db.func.count(Comment.id)).where(
        Comment.thread_id == thread.id, Comment.status == CommentStatus.APPROVED))


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_export_fails_clearly_and_changes_nothing(app: Flask, site: Site, name: str) -> None:
    kind, words = BROKEN[name]
    with app.app_context():
        _import("disqus", DATA / "schnack/disqus.xml")
        before = _snapshot()
        with pytest.raises(importers.ImportFailed) as failed:
            _import(kind, DATA / name)
        assert words in str(failed.value)
        db.session.rollback()
        assert _snapshot() == before


def test_a_file_broken_after_many_batches_writes_nothing(app: Flask, site: Site,
                                                         tmp_path: Path) -> None:
    whole = tmp_path / "whole.xml"
    large_disqus(whole, 2_000, broken=-1)
    cut = tmp_path / "cut.xml.gz"
    cut.write_bytes(gzip.compress(whole.read_bytes()[:-200]))
    with app.app_context():
        with pytest.raises(importers.ImportFailed, match="not well-formed XML"):
            _import("disqus", cut)
        assert db.session.scalar(db.select(db.func.count(Comment.id))) == 0
        truncated = tmp_path / "truncated.xml.gz"
        truncated.write_bytes(gzip.compress(whole.read_bytes())[:-30])
        with pytest.raises(importers.ImportFailed, match="gzip file is damaged or cut short"):
            _import("disqus", truncated)
        assert db.session.scalar(db.select(db.func.count(Comment.id))) == 0


def test_a_wrong_format_is_refused_before_reading(app: Flask, site: Site) -> None:
    with app.app_context():
        with pytest.raises(importers.ImportFailed, match="starts with <disqus>, not <rss>"):
            _import("wordpress", DATA / "isso/disqus.xml")
        with pytest.raises(importers.ImportFailed, match="not an SQLite database"):
            _import("isso", DATA / "isso/wordpress.xml")
        with pytest.raises(importers.ImportFailed, match="not a comments export"):
            _import("json", DATA / "isso/generic.json")


def test_threads_are_keyed_like_the_widget_keys_them(app: Flask, site: Site) -> None:
    with app.app_context():
        _import("disqus", DATA / "isso/disqus.xml")
        _import("wordpress", DATA / "isso/wordpress.xml")
        _import("disqus", DATA / "disqus-import-format-sample/disqus.xml")
        keys = {t.article_key: t.url for t in db.session.scalars(db.select(Thread))}
    assert keys == {
        # Disqus: the thread's <id> (the page's disqus_identifier), else its <link>.
        "some-id": "http://example.org/",
        "http://localhost:4000/blog/2013/02/12/redacted/index.html":
            "http://localhost:4000/blog/2013/02/12/redacted/index.html",
        # WordPress: the item's permalink.
        "http://example.tld/2014/test/": "http://example.tld/2014/test/",
        "http://example.tld/?p=4": "http://example.tld/?p=4",
        # Disqus's WXR import format: its thread identifier.
        "disqus_identifier": "http://foo.com/example",
    }


def test_rewrite_url_moves_keys_and_urls(app: Flask, site: Site) -> None:
    rules = [("http://example.tld/", "https://news.example/"),
             ("http://localhost:4000", "https://news.example"),
             ("http://localhost:4000/blog/2013", "https://news.example/archive")]
    with app.app_context():
        _import("wordpress", DATA / "isso/wordpress.xml", rewrite=rules)
        _import("disqus", DATA / "isso/disqus.xml", rewrite=rules)
        keys = {t.article_key: t.url for t in db.session.scalars(db.select(Thread))}
    assert keys == {
        "https://news.example/2014/test/": "https://news.example/2014/test/",
        "https://news.example/?p=4": "https://news.example/?p=4",
        "some-id": "http://example.org/",
        # The longest matching prefix wins.
        "https://news.example/archive/02/12/redacted/index.html":
            "https://news.example/archive/02/12/redacted/index.html",
    }


def test_disqus_edge_cases(app: Flask, site: Site) -> None:
    with app.app_context():
        summary = _import("disqus", DATA / "own/disqus-edge-cases.xml")
        assert str(summary) == ("threads: 2, comments: 6, skipped: 3, pingbacks: 0, "
                                "already imported: 0")
        assert sorted(map(str, summary.problems)) == [
            "line 49: comment disqus:4: its parent disqus:999 is not in the file; imported as a "
            "top-level comment",
            "line 74: post 7: <createdAt>: 'yesterday' is not a date; skipped",
            "line 82: a <post> without a dsq:id; skipped",
            "line 88: comment disqus:8: its thread 555 is not in the file; skipped",
        ]
        c = _comments()
        hostile = c["disqus:1"].html
        assert hostile == ('<p>Hello bold &amp; friends</p><p><a href="https://example.org/x" '
                           'rel="nofollow ugc noopener">a link</a> and a bad one</p>')
        assert c["disqus:1"].text.startswith("<p>Hello <b>bold</b>")
        # Markup escaped with entities is markup too: never shown as escaped tags.
        assert c["disqus:3"].html == "<p>Fish &amp; chips — café</p>"
        assert c["disqus:3"].author_name == "carol"
        # A reply written before its parent is put under it.
        assert (c["disqus:2"].parent_id, c["disqus:2"].depth) == (c["disqus:1"].id, 1)
        assert c["disqus:2"].created_at.isoformat() == "2020-01-01T12:00:00"
        assert c["disqus:4"].parent_id is None
        assert (c["disqus:5"].status, c["disqus:6"].status) == (CommentStatus.SPAM,
                                                                CommentStatus.REMOVED)
        threads = {t.article_key: t for t in db.session.scalars(db.select(Thread))}
        assert threads["story-1"].title == "Story & one" and threads["story-1"].comment_count == 3
        story_2 = threads["https://old.example/2020/story-2/"]
        assert story_2.title == "Story <two>" and story_2.closed_at is not None
        assert story_2.comment_count == 1 and story_2.version > 0


def test_wordpress_edge_cases(app: Flask, site: Site) -> None:
    with app.app_context():
        summary = _import("wordpress", DATA / "own/wordpress-edge-cases.xml")
        assert str(summary) == ("threads: 2, comments: 7, skipped: 1, pingbacks: 2, "
                                "already imported: 0")
        assert [str(p) for p in summary.problems] == [
            "line 101: comment 10: <wp:comment_date_gmt>: '2020-13-45 99:00:00' is not a date; "
            "skipped",
            "line 77: comment wordpress:10:7: its parent wordpress:10:99 is not in the file; "
            "imported as a top-level comment",
        ]
        c = {key.rsplit(":", 1)[1]: comment for key, comment in _comments().items()}
        # Paragraphs as WordPress shows them: blank lines part them, newlines break lines.
        assert c["1"].html == ("<p>First paragraph,<br>\nsecond line.</p>\n<p>Second paragraph "
                               "with <strong>strong</strong> words &amp; an entity.</p>")
        assert c["1"].text.startswith("First paragraph,\nsecond line.\n\nSecond")
        assert (c["1"].author_website, c["1"].client_ip) == ("https://ada.example/", "192.0.2.1")
        assert c["1"].created_at.isoformat() == "2020-03-01T10:00:00"
        assert c["2"].status is CommentStatus.PENDING and c["2"].parent_id == c["1"].id
        assert c["2"].author_website is None
        assert (c["3"].status, c["4"].status) == (CommentStatus.SPAM, CommentStatus.REMOVED)
        assert c["7"].parent_id is None
        assert "script" not in c["8"].html and "onmouseover" not in c["8"].html
        assert c["8"].html.startswith("<p>Already laid out.</p>") and "In a div" in c["8"].html
        assert c["9"].html == "<p>Café <em>emphasis</em> &amp; more</p>"
        assert c["9"].author_name == "Entity & Co"
        assert {"5", "6", "10"}.isdisjoint(c)


def test_replies_deeper_than_max_depth_join_the_deepest_level(app: Flask, site: Site,
                                                              tmp_path: Path) -> None:
    deep_disqus(tmp_path / "deep.xml", 60)
    with app.app_context():
        assert app.config["MAX_DEPTH"] == 50
        summary = _import("disqus", tmp_path / "deep.xml")
        assert (summary.comments, summary.problems) == (60, [])
        c = _comments()
        level = {n: c[f"disqus:{n}"] for n in range(60)}
        assert [level[n].depth for n in range(60)] == list(range(51)) + [50] * 9
        assert all(level[n].root_id == level[0].id for n in range(1, 60))
        assert all(level[n].parent_id == level[n - 1].id for n in range(1, 51))
        assert all(level[n].parent_id == level[49].id for n in range(51, 60))
        root = level[0].id
    # The whole branch (a page folds it to its first replies).
    body = read(app.test_client(), "deep-thread", root=str(root)).get_json()
    node, depth = body["comments"][0], 0
    while node["replies"]:
        node, depth = node["replies"][0], depth + 1
    assert depth == 50 and body["thread"]["count"] == 60


def test_a_broken_record_in_a_large_file_is_reported_by_line(app: Flask, site: Site,
                                                             tmp_path: Path) -> None:
    path = tmp_path / "large.xml"
    line = large_disqus(path, 20_000, broken=10_001)
    with app.app_context():
        summary = _import("disqus", path)
        assert (summary.threads, summary.comments, summary.skipped) == (20, 19_999, 1)
        # Post 10021 answered the skipped one: it stays, at the top level, and says so.
        assert [str(p) for p in summary.problems] == [
            f"line {line}: post 10001: <createdAt>: 'the day before' is not a date; skipped",
            f"line {line + 20}: comment disqus:10021: its parent disqus:10001 is not in the "
            "file; imported as a top-level comment",
        ]
        assert path.read_text().splitlines()[line - 1].startswith('<post dsq:id="10001">')
        assert db.session.scalar(db.select(db.func.sum(Thread.comment_count))) == 19_999
        replies = db.session.scalar(db.select(db.func.count(Comment.id))
                                    .where(Comment.parent_id.is_not(None)))
        # Four in five posts after the first twenty answer one: all but those two.
        assert replies == 19_980 * 4 // 5 - 2


def test_imported_comments_show_under_the_embed(app: Flask, site: Site) -> None:
    with app.app_context():
        _import("disqus", DATA / "isso/disqus.xml")
    res = read(app.test_client(), "some-id")
    assert res.status_code == 200 and res.headers["Access-Control-Allow-Origin"] == ORIGIN
    body = res.get_json()
    assert body["thread"]["count"] == 3 and body["thread"]["url"] == "http://example.org/"
    first, deleted = body["comments"]
    assert (first["author"]["name"], first["html"]) == ("peter", "...")
    assert first["replies"][0]["html"] == "<p>Hello, World.</p>"
    # The deleted post stands in as a placeholder for its visible reply.
    assert (deleted["status"], deleted["html"]) == ("removed", None)
    assert deleted["replies"][0]["author"] == {"name": "user", "website": None,
                                               "verified": False, "avatar": None}
    assert "email" not in json.dumps(body)


def test_isso_database(app: Flask, site: Site, tmp_path: Path) -> None:
    path = tmp_path / "comments.db"
    isso_database(path, [(1, "/2020/hello/", "Hello"), (2, "/2020/empty/", None)], [
        {"tid": 1, "id": 1, "created": 1600000000.5, "mode": 1, "text": "Hi *there*\n\nSecond",
         "author": "Ada", "email": "ada@example.org", "website": "ada.example", "likes": 3,
         "dislikes": 1, "notification": 1},
        {"tid": 1, "id": 2, "parent": 1, "created": 1600000100.0, "modified": 1600000200.0,
         "mode": 2, "text": "<script>alert(1)</script> held", "author": None},
        {"tid": 1, "id": 3, "parent": 2, "created": 1600000300.0, "mode": 4, "text": ""},
        {"tid": 1, "id": 4, "parent": 3, "created": 1600000400.0, "mode": 1, "text": "deep"},
        {"tid": 1, "id": 5, "created": 1600000500.0, "mode": 8, "text": "odd mode"},
        {"tid": 9, "id": 6, "created": 1600000600.0, "mode": 1, "text": "lost"},
    ])
    with app.app_context():
        summary = _import("isso", path)
        assert str(summary) == ("threads: 2, comments: 4, skipped: 2, pingbacks: 0, "
                                "already imported: 0")
        assert sorted(map(str, summary.problems)) == [
            "comment 5: unknown mode 8; skipped",
            "comment isso:6: its thread 9 is not in the file; skipped",
        ]
        c = _comments()
        assert c["isso:1"].html == "<p>Hi <em>there</em></p>\n<p>Second</p>\n"
        assert c["isso:1"].text == "Hi *there*\n\nSecond"
        assert (c["isso:1"].score, c["isso:1"].notify_replies) == (2, True)
        assert c["isso:1"].author_website == "http://ada.example"
        assert c["isso:1"].created_at.isoformat() == "2020-09-13T12:26:40.500000"
        assert c["isso:2"].status is CommentStatus.PENDING
        assert c["isso:2"].author_name == "Anonymous"
        assert "<script>" not in c["isso:2"].html and "&lt;script&gt;" in c["isso:2"].html
        assert c["isso:2"].edited_at is not None
        assert c["isso:3"].status is CommentStatus.REMOVED
        assert (c["isso:4"].depth, c["isso:4"].root_id) == (3, c["isso:1"].id)
        thread = db.session.scalar(db.select(Thread))
        assert (thread.article_key, thread.title, thread.comment_count) == ("/2020/hello/",
                                                                            "Hello", 2)
        assert _import("isso", path).already == 4


def test_imported_emails_that_are_not_one_plain_address_are_dropped(app: Flask, site: Site,
                                                                    tmp_path: Path) -> None:
    """Reply mail goes to the stored address: an imported list would mail several people."""
    path = tmp_path / "comments.db"
    emails = ["root,attacker@evil.example", "Ada <ada@example.org>", "a@example.org;b@example.org",
              '"a b"@example.org', "ada@example.org\u200b", "fine@example.org"]
    isso_database(path, [(1, "/2020/hello/", "Hello")], [
        {"tid": 1, "id": i, "created": 1600000000.0 + i, "mode": 1, "text": f"comment {i}",
         "author": "Ada", "email": email, "notification": 1} for i, email in enumerate(emails, 1)])
    with app.app_context():
        _import("isso", path)
        c = _comments()
        assert [c[f"isso:{i}"].author_email for i in range(1, len(emails) + 1)] == [
            None, None, None, None, None, "fine@example.org"]


def test_an_imported_name_of_invisible_characters_becomes_anonymous(app: Flask, site: Site,
                                                                    tmp_path: Path) -> None:
    path = tmp_path / "comments.db"
    isso_database(path, [(1, "/2020/hello/", "Hello")], [
        {"tid": 1, "id": 1, "created": 1600000000.0, "mode": 1, "text": "hi",
         "author": "\u200b\u2060\u202e"},
        {"tid": 1, "id": 2, "created": 1600000001.0, "mode": 1, "text": "hi", "author": "Zo\u00eb\u200d"}])
    with app.app_context():
        _import("isso", path)
        c = _comments()
        assert (c["isso:1"].author_name, c["isso:2"].author_name) == ("Anonymous", "Zo\u00eb\u200d")


def test_a_database_that_is_not_issos_is_refused(app: Flask, site: Site, tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    sqlite3.connect(path).execute("CREATE TABLE threads (id INTEGER, name TEXT)").connection.close()
    with app.app_context(), pytest.raises(importers.ImportFailed,
                                          match="not an Isso database: table 'threads' lacks uri"):
        _import("isso", path)


def test_export_then_import_json_is_lossless(app: Flask, site: Site, runner: FlaskCliRunner,
                                             tmp_path: Path) -> None:
    with app.app_context():
        _import("disqus", DATA / "own/disqus-edge-cases.xml")
        _import("wordpress", DATA / "wordpress-importer/theme-unit-test-data.xml")
        _import("commento", DATA / "remark42/commento.json")
        post_comment({"site": "news", "article": "story-1", "author": {"name": "Zed"},
                      "text": "Posted **here**, after the import"}, "198.51.100.7")
        comment = _comments()["disqus:2"]
        comment.featured, comment.score, comment.flagged = True, 7, True
        comment.verdict = {"action": "hold", "score": 4, "signals": []}
        comment.reasons = ["reported"]
        db.session.commit()
        create_site("copy", "Copy", ["https://copy.example"])
    out = tmp_path / "news.jsonl"
    result = runner.invoke(args=["comments", "export", "--site", "news", "--output", str(out)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert lines[0]["type"] == "site" and lines[0]["slug"] == "news"
    assert Counter(line["type"] for line in lines) == {"site": 1, "thread": 11, "comment": 39}
    # Our own file: its identities and edit tokens may be trusted.
    result = runner.invoke(args=["comments", "import", "json", str(out), "--site", "copy",
                                 "--trust-identities"])
    assert result.exit_code == 0, result.output
    assert "threads: 11, comments: 39, skipped: 0" in result.output
    with app.app_context():
        original = contents("news")
        assert len(original["comments"]) == 39
        assert contents("copy") == original
    again = runner.invoke(args=["comments", "import", "json", str(out), "--site", "copy"])
    assert "comments: 0, skipped: 0, pingbacks: 0, already imported: 39" in again.output


def test_imported_comments_carry_their_address_key(app: Flask, site: Site, tmp_path: Path) -> None:
    path = tmp_path / "comments.db"
    isso_database(path, [(1, "/2020/hello/", "Hello")], [
        {"tid": 1, "id": 1, "created": 1600000000.0, "mode": 1, "text": "four",
         "remote_addr": "198.51.100.7"},
        {"tid": 1, "id": 2, "created": 1600000100.0, "mode": 1, "text": "six",
         "remote_addr": "2001:db8:1:2::7"},
    ])
    with app.app_context():
        _import("isso", path)
        rows = db.session.execute(db.select(Comment.client_ip, Comment.client_net)
                                  .order_by(Comment.created_at)).all()
    assert [tuple(r) for r in rows] == [("198.51.100.7", "198.51.100.7"),
                                        ("2001:db8:1:2::7", "2001:db8:1:2::/64")]


def test_export_writes_every_column(app: Flask, site: Site) -> None:
    """A column added to Comment must be exported, or named as derived, to stay lossless."""
    with app.app_context():
        _import("disqus", DATA / "schnack/disqus.xml")
        exported = set(comment_json(db.session.scalars(db.select(Comment)).first()))
    columns = {c.key for c in Comment.__table__.columns}
    named = {"author_name", "author_email", "author_website", "parent_id", *EXTRA_COLUMNS,
             *DERIVED_COLUMNS}
    assert columns - named <= exported


def test_import_command(app: Flask, site: Site, runner: FlaskCliRunner) -> None:
    path = str(DATA / "isso/disqus.xml")
    dry = runner.invoke(args=["comments", "import", "disqus", path, "--site", "news", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "Dry run: nothing was written." in dry.output
    assert "threads: 3, comments: 5, skipped: 1" in dry.output
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Comment.id))) == 0
        assert db.session.scalar(db.select(db.func.count(Thread.id))) == 0
    result = runner.invoke(args=["comments", "import", "disqus", path, "--site", "news",
                                 "--rewrite-url", "http://localhost:4000=https://news.example"])
    assert result.exit_code == 0, result.output
    assert "Importing" in result.output
    assert ("threads: 3, comments: 5, skipped: 1, pingbacks: 0, already imported: 0\n"
            "line 66: comment disqus:6: its thread 1337 is not in the file; skipped\n"
            in result.output)
    with app.app_context():
        assert db.session.scalar(db.select(Thread).filter(
            Thread.article_key.startswith("https://news.example/blog/"))) is not None


def test_import_command_refusals(app: Flask, site: Site, runner: FlaskCliRunner) -> None:
    broken = str(DATA / "remark42/disqus.xml")
    result = runner.invoke(args=["comments", "import", "disqus", broken, "--site", "news"])
    assert result.exit_code == 1
    assert "line 1: the file is not well-formed XML" in result.output
    assert "Nothing was imported." in result.output
    good = str(DATA / "schnack/disqus.xml")
    unknown = runner.invoke(args=["comments", "import", "disqus", good, "--site", "nope"])
    assert unknown.exit_code == 1
    rule = runner.invoke(args=["comments", "import", "disqus", good, "--site", "news",
                               "--rewrite-url", "no-separator"])
    assert rule.exit_code == 2 and "OLD=NEW" in rule.output
    missing = runner.invoke(args=["comments", "import", "wordpress", "nope.xml", "--site", "news"])
    assert missing.exit_code == 2
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Comment.id))) == 0


def test_export_command_to_standard_output(app: Flask, site: Site, runner: FlaskCliRunner) -> None:
    with app.app_context():
        _import("commento", DATA / "remark42/commento.json")
    result = runner.invoke(args=["comments", "export", "--site", "news"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [line["type"] for line in lines] == ["site", "thread", "thread", "comment", "comment",
                                                "comment"]
    assert {line["author"]["email"] for line in lines[3:]} == {
        None, "somegreatmail@gmail.com", "moregreatmail@gmail.com"}


def _export_lines(slug: str = "old") -> list[dict[str, Any]]:
    """The start of one of our exports: its header and one thread."""
    return [{"type": "site", "format": FORMAT, "version": VERSION, "slug": slug},
            {"type": "thread", "id": 1, "article": "story-1", "url": None, "title": None,
             "created_at": "2021-01-01T00:00:00Z", "closed_at": None}]


def _exported_comment(comment_id: int, **overrides: Any) -> dict[str, Any]:
    """A comment as our export writes it."""
    return {"type": "comment", "id": comment_id, "thread_id": 1, "parent_id": None,
            "author": {"name": "Ada", "email": None, "website": None}, "text": "Hello",
            "html": "<p>Hello</p>", "status": "approved",
            "created_at": f"2021-01-01T00:00:{comment_id:02d}Z", **overrides}


def test_a_line_over_the_limit_is_skipped_without_being_held(app: Flask, site: Site,
                                                              tmp_path: Path) -> None:
    path = tmp_path / "long.jsonl.gz"
    first, thread = _export_lines()
    with gzip.open(path, "wb", compresslevel=1) as f:
        f.write(json.dumps(first).encode() + b"\n")
        f.write(b'{"type": "comment", "id": 1, "text": "')
        for _ in range(24):
            f.write(b"a" * (1 << 20))
        f.write(b'"}\n')
        for item in (thread, _exported_comment(2)):
            f.write(json.dumps(item).encode() + b"\n")
    source = importers.READERS["json"](path)
    source.check()
    tracemalloc.start()
    try:
        records = list(source)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 3 << 20
    assert [str(r) for r in records if isinstance(r, importers.Problem)] == [
        "line 2: longer than 1 MB; skipped"]
    with app.app_context():
        summary = _import("json", path)
        assert (summary.comments, summary.skipped) == (1, 1)


def _write_lines(path: Path, items: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(item) + "\n" for item in items), encoding="utf-8")
    return path


def test_an_import_keeps_claimed_identities_only_when_trusted(app: Flask, site: Site,
                                                              runner: FlaskCliRunner,
                                                              tmp_path: Path) -> None:
    claims = {"sso_id": "admin", "reader_hash": "a" * 64, "edit_token_hash": "b" * 64}
    path = _write_lines(tmp_path / "claims.jsonl", [*_export_lines(),
                                                    _exported_comment(1, **claims)])
    result = runner.invoke(args=["comments", "import", "json", str(path), "--site", "news"])
    assert result.exit_code == 0, result.output
    assert "--trust-identities" in result.output
    body = read(app.test_client()).get_json()
    assert body["comments"][0]["author"]["verified"] is False
    with app.app_context():
        create_site("copy", "Copy", ["https://copy.example"])
        row = db.session.scalar(db.select(Comment))
        assert (row.sso_id, row.reader_hash, row.edit_token_hash) == (None, None, None)
    trusted = runner.invoke(args=["comments", "import", "json", str(path), "--site", "copy",
                                  "--trust-identities"])
    assert trusted.exit_code == 0, trusted.output
    with app.app_context():
        row = _comments("copy")["json:old:1"]
        assert (row.sso_id, row.reader_hash, row.edit_token_hash) == tuple(claims.values())


def test_an_imported_avatar_must_be_a_web_address(app: Flask, site: Site, tmp_path: Path) -> None:
    path = _write_lines(tmp_path / "avatars.jsonl", [
        *_export_lines(), _exported_comment(1, author_avatar="javascript:alert(1)"),
        _exported_comment(2, author_avatar="https://news.example/ada.png")])
    with app.app_context():
        summary = _import("json", path)
        assert summary.comments == 2
        assert [str(p) for p in summary.problems] == [
            "line 3: comment 1: author_avatar is not an http or https address; left out"]
        c = _comments()
        assert c["json:old:1"].author_avatar is None
        assert c["json:old:2"].author_avatar == "https://news.example/ada.png"


def test_imported_scores_are_range_checked(app: Flask, site: Site, tmp_path: Path) -> None:
    path = _write_lines(tmp_path / "scores.jsonl", [
        *_export_lines(), _exported_comment(1, score=2**31 - 1), _exported_comment(2, score=-7),
        _exported_comment(3, reasons=[{"not": "words"}]),
        _exported_comment(4, verdict={"action": "hold", "score": 4, "signals": 3})])
    isso = tmp_path / "isso.db"
    isso_database(isso, [(1, "/isso/", None)], [
        {"tid": 1, "id": 1, "created": 1600000000.0, "mode": 1, "text": "a", "likes": 2**40},
        {"tid": 1, "id": 2, "created": 1600000001.0, "mode": 1, "text": "b", "likes": 3,
         "dislikes": 1}])
    with app.app_context():
        summary = _import("json", path)
        assert summary.comments == 2
        assert sorted(map(str, summary.problems)) == [
            "line 3: comment 1: score 2147483647 is out of range; imported as 0",
            "line 5: comment 3: reasons is not a list of short texts; skipped",
            "line 6: comment 4: verdict is not a spam filter's verdict; skipped"]
        c = _comments()
        assert (c["json:old:1"].score, c["json:old:2"].score) == (0, -7)
        summary = _import("isso", isso)
        assert [str(p) for p in summary.problems] == [
            "comment 1: likes 1099511627776 is out of range; imported as 0"]
        scores = db.session.scalars(db.select(Comment.score).where(
            Comment.text.in_(["a", "b"])).order_by(Comment.text)).all()
        assert scores == [0, 2]


def test_an_export_imported_into_its_own_site_adds_nothing(app: Flask, site: Site,
                                                          runner: FlaskCliRunner,
                                                          tmp_path: Path) -> None:
    with app.app_context():
        _import("disqus", DATA / "schnack/disqus.xml")
        first = post_comment({"site": "news", "article": "story-1", "author": {"name": "Zed"},
                              "text": "Posted here"}, "198.51.100.7")
        post_comment({"site": "news", "article": "story-1", "author": {"name": "Amy"},
                      "text": "A reply", "parent_id": first.comment.id}, "198.51.100.8")
        create_site("copy", "Copy", ["https://copy.example"])
        before = contents("news")
    news, copy = tmp_path / "news.jsonl", tmp_path / "copy.jsonl"
    runner.invoke(args=["comments", "export", "--site", "news", "--output", str(news)])
    again = runner.invoke(args=["comments", "import", "json", str(news), "--site", "news"])
    assert again.exit_code == 0, again.output
    assert "comments: 0, skipped: 0, pingbacks: 0, already imported: 7" in again.output
    copied = runner.invoke(args=["comments", "import", "json", str(news), "--site", "copy"])
    assert "comments: 7, skipped: 0" in copied.output
    # The copy's export names where its comments came from: back home, they are already there.
    runner.invoke(args=["comments", "export", "--site", "copy", "--output", str(copy)])
    home = runner.invoke(args=["comments", "import", "json", str(copy), "--site", "news"])
    assert "comments: 0, skipped: 0, pingbacks: 0, already imported: 7" in home.output
    with app.app_context():
        assert contents("news") == before
    help_text = runner.invoke(args=["comments", "import", "json", "--help"]).output
    assert "into the site it came from" in " ".join(help_text.split())


def _isso_pair(tmp_path: Path) -> tuple[Path, Path]:
    """Two blogs' Isso databases whose rows have the same ids."""
    paths = []
    for name, start in (("one", 1600000000.0), ("two", 1700000000.0)):
        path = tmp_path / f"{name}.db"
        isso_database(path, [(1, f"/{name}/", None)], [
            {"tid": 1, "id": 1, "created": start, "mode": 1, "text": f"{name} first"},
            {"tid": 1, "id": 2, "parent": 1, "created": start + 1, "mode": 1,
             "text": f"{name} reply"}], session_key=f"{name}-key")
        paths.append(path)
    return paths[0], paths[1]


def test_two_isso_databases_into_one_site_keep_all_their_comments(app: Flask, site: Site,
                                                                   tmp_path: Path) -> None:
    one, two = _isso_pair(tmp_path)
    moved = tmp_path / "elsewhere" / "isso.db"
    moved.parent.mkdir()
    moved.write_bytes(one.read_bytes())
    with app.app_context():
        assert _import("isso", one).comments == 2
        assert _import("isso", two).comments == 2
        texts = {c.text: c for c in db.session.scalars(db.select(Comment))}
        assert sorted(texts) == ["one first", "one reply", "two first", "two reply"]
        assert texts["two reply"].parent_id == texts["two first"].id
        assert texts["one first"].import_key != texts["two first"].import_key
        # The database is named by its own contents, not by where its file lies.
        assert (_import("isso", moved).already, _import("isso", two).already) == (2, 2)
        assert db.session.scalar(db.select(db.func.count(Comment.id))) == 4


def test_two_blogs_exports_into_one_site_keep_all_their_comments(app: Flask, site: Site,
                                                                 tmp_path: Path) -> None:
    wxr = (DATA / "isso/wordpress.xml").read_text(encoding="utf-8")
    other_blog = tmp_path / "other-blog.xml"
    other_blog.write_text(wxr.replace("<channel>", "<channel><link>https://other.example</link>")
                          .replace("http://example.tld/", "https://other.example/"),
                          encoding="utf-8")
    disqus = (DATA / "isso/disqus.xml").read_text(encoding="utf-8")
    other_forum = tmp_path / "other-forum.xml"
    other_forum.write_text(disqus.replace("disqusdev", "otherforum")
                           .replace("<id>some-id</id>", "<id>other-id</id>"), encoding="utf-8")
    with app.app_context():
        first = _import("wordpress", DATA / "isso/wordpress.xml").comments
        assert _import("wordpress", other_blog).comments == first
        posts = _import("disqus", DATA / "isso/disqus.xml").comments
        assert _import("disqus", other_forum).comments == posts
        assert db.session.scalar(db.select(db.func.count(Comment.id))) == 2 * (first + posts)
        for kind, path in (("wordpress", other_blog), ("disqus", other_forum)):
            assert _import(kind, path).comments == 0


def test_comments_imported_under_the_old_keys_are_recognised(app: Flask, site: Site,
                                                             tmp_path: Path) -> None:
    """Before keys named their source, an Isso comment was "isso:ID", a Disqus one "disqus:ID"."""
    one, two = _isso_pair(tmp_path)
    with app.app_context():
        _import("isso", one)
        _import("disqus", DATA / "isso/disqus.xml")
        for comment in db.session.scalars(db.select(Comment)):
            kind, _source, rest = comment.import_key.split(":", 2)
            comment.import_key = f"{kind}:{rest}"
        db.session.commit()
        again = _import("isso", one)
        assert (again.comments, again.already) == (0, 2)
        assert _import("disqus", DATA / "isso/disqus.xml").comments == 0
        # Another database's comment 1 is not the one stored as the old "isso:1".
        assert _import("isso", two).comments == 2
        assert db.session.scalar(db.select(db.func.count(Comment.id))) == 9
        # Recognised once, a comment carries the new key.
        keys = db.session.scalars(db.select(Comment.import_key)).all()
        assert all(key.count(":") >= 2 for key in keys)
