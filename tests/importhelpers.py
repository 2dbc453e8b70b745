"""Builders for the importer tests: generated export files, Isso's database, a site's contents."""
from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from comments.extensions import db
from comments.models import Comment, Site, Thread

DATA = Path(__file__).parent / "data" / "imports"
DISQUS_HEAD = ('<?xml version="1.0" encoding="utf-8"?>\n<disqus xmlns="http://disqus.com" '
               'xmlns:dsq="http://disqus.com/disqus-internals">\n')


def disqus_post(post_id: int, thread: str, parent: int | None = None,
                date: str = "2021-05-01T10:00:00Z", body: str = "<p>Comment {id}</p>") -> str:
    """One <post> element on one line."""
    parent_tag = f'<parent dsq:id="{parent}"/>' if parent is not None else ""
    return (f'<post dsq:id="{post_id}"><message><![CDATA[{body.format(id=post_id)}]]></message>'
            f"<createdAt>{date}</createdAt><isDeleted>false</isDeleted><isSpam>false</isSpam>"
            f"<author><name>Reader {post_id}</name><email>r{post_id}@example.org</email></author>"
            f'<thread dsq:id="{thread}"/>{parent_tag}</post>\n')


def disqus_thread(thread: str, key: str) -> str:
    """One <thread> element on one line."""
    return (f'<thread dsq:id="{thread}"><id>{key}</id><link>https://news.example/{key}/</link>'
            f"<title>About {key}</title><createdAt>2021-05-01T09:00:00Z</createdAt></thread>\n")


def large_disqus(path: Path, comments: int, broken: int) -> int:
    """A Disqus file of `comments` posts over 20 threads, four in five of them replies, the post
    numbered `broken` with a date that is not one; returns the line that post is on."""
    lines = [DISQUS_HEAD] + [disqus_thread(f"t{t}", f"article-{t}") for t in range(20)]
    for i in range(comments):
        parent = i - 20 if i % 5 and i >= 20 else None
        date = "the day before" if i == broken else "2021-05-01T10:00:00Z"
        lines.append(disqus_post(i, f"t{i % 20}", parent, date=date))
    lines.append("</disqus>\n")
    path.write_text("".join(lines), encoding="utf-8")
    # Two lines of header, one per thread, then one per post.
    return 2 + 20 + broken + 1


def deep_disqus(path: Path, levels: int) -> None:
    """A chain of `levels` replies, each answering the one before, written deepest first."""
    posts = [disqus_post(i, "deep", i - 1 if i else None, date=f"2021-05-01T10:{i:02d}:00Z")
             for i in range(levels)]
    path.write_text(DISQUS_HEAD + disqus_thread("deep", "deep-thread") + "".join(reversed(posts))
                    + "</disqus>\n", encoding="utf-8")


def isso_database(path: Path, threads: list[tuple[int, str, str | None]],
                  comments: list[dict[str, Any]], session_key: str | None = None) -> None:
    """An SQLite file with Isso's own tables (isso/db/threads.py, comments.py, preferences.py);
    Isso writes a random session key into its preferences when it first opens a database."""
    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE threads (id INTEGER PRIMARY KEY, uri VARCHAR(256) UNIQUE, title VARCHAR(256));
        CREATE TABLE comments (
            tid REFERENCES threads(id), id INTEGER PRIMARY KEY, parent INTEGER,
            created FLOAT NOT NULL, modified FLOAT, mode INTEGER, remote_addr VARCHAR,
            text VARCHAR, author VARCHAR, email VARCHAR, website VARCHAR,
            likes INTEGER DEFAULT 0, dislikes INTEGER DEFAULT 0, voters BLOB NOT NULL,
            notification INTEGER DEFAULT 0);
        CREATE TABLE preferences (key VARCHAR PRIMARY KEY, value VARCHAR);
    """)
    conn.executemany("INSERT INTO threads VALUES (?, ?, ?)", threads)
    if session_key is not None:
        conn.execute("INSERT INTO preferences VALUES ('session-key', ?)", (session_key,))
    for row in comments:
        values = {"parent": None, "modified": None, "remote_addr": "127.0.0.0", "author": None,
                  "email": None, "website": None, "likes": 0, "dislikes": 0, "voters": b"",
                  "notification": 0, **row}
        conn.execute(f"INSERT INTO comments ({', '.join(values)}) "
                     f"VALUES ({', '.join('?' * len(values))})", list(values.values()))
    conn.commit()
    conn.close()


def contents(slug: str) -> dict[str, Any]:
    """Everything a site holds, without our ids: threads by article, comments by their origin,
    each naming its parent and root the same way. Equal for a site and its round-tripped copy."""
    site = db.session.scalar(db.select(Site).filter_by(slug=slug))
    comments = db.session.scalars(db.select(Comment).where(Comment.site_id == site.id)).all()
    origin = {c.id: c.import_key or f"json:{slug}:{c.id}" for c in comments}
    threads = {t.id: t for t in db.session.scalars(db.select(Thread).filter_by(site_id=site.id))}
    skip = {"id", "thread_id", "site_id", "parent_id", "root_id", "import_key"}
    return {
        "threads": {t.article_key: (t.url, t.title, t.created_at, t.closed_at, t.comment_count)
                    for t in threads.values()},
        "comments": {
            origin[c.id]: {
                **{col.key: getattr(c, col.key) for col in Comment.__table__.columns
                   if col.key not in skip},
                "article": threads[c.thread_id].article_key,
                "parent": origin.get(c.parent_id), "root": origin.get(c.root_id),
            } for c in comments
        },
    }
