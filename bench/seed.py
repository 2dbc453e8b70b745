"""The benchmark's data: a realistic site of threads and nested comments, written in bulk.

`python -m bench.seed --url URL --threads N --comments M` builds the schema with
`flask --app wsgi db upgrade` and fills it. PostgreSQL gets COPY, SQLite batched INSERTs, both with
the secondary indexes dropped during the load and rebuilt from their own definitions afterwards.
Bodies come from a pool rendered once by `comments.sanitize.render` and reused.
"""
from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from . import texts
from .bulk import Writer, secondary_indexes
from .databases import Manifest, migrate, read_manifest, reset, store_manifest

# Bump when the shape of the data changes: a stored database of another version is rebuilt.
GENERATOR_VERSION = 3
SITE = "bench"
ORIGIN = "http://bench.example"
MODERATOR = "bench-admin@example.com"
# The two hot articles: approved comments each, and at most this many top-level ones (the widget's
# largest page is 100 top-level comments, so the whole 200-comment thread is one page).
HOT = {"hot200": (200, 90), "hot1000": (1000, 330)}
# Held and spam comments in the hot threads besides the approved ones: the read filters them out.
HOT_EXTRA = 0.02
# A normal thread has at most this many comments, so the hot ones stay the largest.
MAX_THREAD = 900
# Articles on the "front page" whose counts are read, and which the posting test writes to.
FRONT_PAGE = 20
BODY_POOL = 3000
NOW = datetime(2026, 11, 1, 12, 0, 0)
Progress = Callable[[str], None]


def prepare(url: str, threads: int, comments: int, reseed: bool = False,
            progress: Progress = print) -> Manifest:
    """A database of this size: the stored one when it matches, else a new one."""
    found = None if reseed else read_manifest(url)
    if found and (found.version, found.threads, found.comments) == (GENERATOR_VERSION, threads,
                                                                     comments):
        migrate(url)
        progress(f"reusing {found.comments:,} comments in {found.threads:,} threads ({url})")
        return found
    reset(url)
    migrate(url)
    return seed(url, threads, comments, progress=progress)


# --- the shape of the site ---------------------------------------------------------------------

def thread_sizes(rng: random.Random, threads: int, comments: int) -> list[int]:
    """Comments per normal thread: at least one, heavy-tailed, summing to `comments`."""
    if comments < threads:
        raise ValueError(f"{comments} comments cannot fill {threads} threads")
    weights = [rng.paretovariate(1.5) for _ in range(threads)]
    total = sum(weights)
    spare = comments - threads
    sizes = [min(MAX_THREAD, 1 + int(spare * w / total)) for w in weights]
    missing = comments - sum(sizes)
    while missing > 0:
        i = rng.randrange(threads)
        if sizes[i] < MAX_THREAD:
            sizes[i] += 1
            missing -= 1
    return sizes


@dataclass
class Planned:
    """One comment of a thread before it has an id: parent (index in the thread), time, status."""

    parent: int | None
    at: datetime
    status: str
    featured: bool = False
    flagged: bool = False


def _status(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.935:
        return "approved"
    if r < 0.941:
        return "pending"
    if r < 0.971:
        return "spam"
    return "removed" if r < 0.991 else "deleted"


def plan_thread(rng: random.Random, n: int, start: datetime, hot: tuple[int, int] | None = None
                ) -> list[Planned]:
    """A thread's comments in time order: replies to earlier ones, most within the first day.

    A hot thread has `hot[0]` approved comments, at most `hot[1]` of them top-level and at most three
    direct replies under each (so the widget shows every one without unfolding), plus a few held and
    spam comments nobody answered.
    """
    offsets = sorted(rng.expovariate(1 / 30000) for _ in range(n))
    times = [min(NOW, start + timedelta(seconds=o - offsets[0])) for o in offsets]
    plan: list[Planned] = []
    children: list[int] = []
    # Comments a reply may go under: readers answer what they see (approved, later maybe removed).
    open_parents: list[int] = []
    tops = 0
    extras = set(rng.sample(range(3, n), round(n * HOT_EXTRA / (1 + HOT_EXTRA)))) if hot else set()
    for j in range(n):
        if hot:
            status = rng.choice(("pending", "spam")) if j in extras else "approved"
        else:
            status = _status(rng)
        top = j == 0 or not open_parents or rng.random() < 0.42
        if hot and top and open_parents and status == "approved" and tops >= hot[1]:
            top = False
        parent = None
        if not top:
            recent = [i for i in open_parents[-8:] if i >= j - 8]
            parent = rng.choice(recent if recent and rng.random() < 0.55 else open_parents)
            children[parent] += 1
            if hot and children[parent] >= 3:
                open_parents.remove(parent)
        elif status == "approved":
            tops += 1
        plan.append(Planned(parent, times[j], status))
        children.append(0)
        if status == "approved" or (not hot and status in ("removed", "deleted")):
            open_parents.append(j)
    for p in plan:
        p.flagged = p.status == "approved" and rng.random() < 0.001
    top_level = [p for p in plan if p.parent is None and p.status == "approved"]
    if hot and len(top_level) > 2:
        top_level[2].featured = True
    elif top_level and rng.random() < 0.0005:
        top_level[0].featured = True
    return plan


# --- rows -----------------------------------------------------------------------------------

SIGNALS = {
    "pending": [{"rule": "links", "score": 4, "reason": "4 links, where the site allows 2"}],
    "spam": [{"rule": "blocked_domain", "score": 10,
              "reason": "links to a blocked domain: casino.example"}],
}


def comment_rows(rng: random.Random, plan: list[Planned], thread_id: int, site_id: int,
                 first_id: int, bodies: list[texts.Body], people: texts.People
                 ) -> list[dict[str, Any]]:
    """The rows of one planned thread, ids from `first_id`, with root, depth and parent set."""
    rows: list[dict[str, Any]] = []
    for j, p in enumerate(plan):
        cid = first_id + j
        parent = rows[p.parent] if p.parent is not None else None
        body = bodies[rng.randrange(len(bodies))]
        name, email, website, reader, ip = people.pick()
        signals = SIGNALS.get(p.status, [])
        verdict = {"action": {"pending": "hold", "spam": "spam"}.get(p.status, "publish"),
                   "score": sum(s["score"] for s in signals), "signals": signals}
        reasons = [s["reason"] for s in signals]
        if p.flagged:
            reasons = ["reported by 3 readers: off-topic"]
        decided = p.status in ("removed", "spam", "deleted") or p.flagged
        recent = (NOW - p.at).days < 30
        rows.append({
            "id": cid, "thread_id": thread_id, "site_id": site_id,
            "parent_id": parent["id"] if parent else None,
            "root_id": (parent["root_id"] or parent["id"]) if parent else None,
            "depth": parent["depth"] + 1 if parent else 0,
            "author_name": name, "author_email": email, "author_website": website,
            "text": body.text, "html": body.html, "status": p.status, "featured": p.featured,
            "score": 0, "notify_replies": bool(email) and rng.random() < 0.05,
            "reasons": reasons, "verdict": verdict, "flagged": p.flagged,
            "reader_hash": reader, "text_hash": body.digest, "created_at": p.at,
            "edited_at": p.at + timedelta(minutes=3) if rng.random() < 0.02 else None,
            "moderated_at": p.at + timedelta(hours=2) if decided else None,
            # Addresses are purged after 30 days (`comments purge`), as on a real site.
            "client_ip": ip if recent else None,
            "edit_token_hash": f"{rng.getrandbits(256):064x}",
        })
    return rows


# --- the whole site ---------------------------------------------------------------------------

def _app_setup(url: str, password: str) -> int:
    """The site and an admin account, through the app's own services; the site's id."""
    from comments import create_app
    from comments.extensions import db
    from comments.services import accounts, sites

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-seed", "TESTING": True,
                      "LOG_LEVEL": "WARNING"})
    with app.app_context():
        site = sites.create_site(SITE, "The Bench Gazette", [ORIGIN])
        accounts.create_moderator(MODERATOR, password, "admin")
        site_id = site.id
        db.session.remove()
        db.engine.dispose()
    return site_id


def seed(url: str, threads: int, comments: int, rng_seed: int = 7,
         progress: Progress = print) -> Manifest:
    """Fill a freshly migrated database: `threads` threads holding `comments` comments in all."""
    from comments.models import Comment, Thread

    started = time.monotonic()
    rng = random.Random(rng_seed)
    password = f"bench-{rng.getrandbits(64):016x}"
    site_id = _app_setup(url, password)
    progress(f"rendering {BODY_POOL} comment bodies with comments.sanitize.render")
    bodies = texts.bodies(rng, BODY_POOL)
    people = texts.People(rng)
    hot_total = {k: n + round(n * HOT_EXTRA) for k, (n, _) in HOT.items()}
    normal = thread_sizes(rng, threads - len(HOT), comments - sum(hot_total.values()))
    articles = texts.articles(rng, len(normal), NOW)
    engine: Engine = create_engine(url)
    pending = 0
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SET session_replication_role = replica"))
            conn.execute(text("SET maintenance_work_mem = '256MB'"))
        else:
            conn.exec_driver_sql("PRAGMA foreign_keys = OFF")
        indexes = secondary_indexes(conn, "comments")
        for name, _ in indexes:
            conn.execute(text(f'DROP INDEX "{name}"'))
        cw: Writer | None = None
        thread_rows = []
        next_id = 1
        hot_keys = {k: f"/2026/10/the-big-debate-{n}-comments/" for k, (n, _) in HOT.items()}
        plan_list: list[tuple[str, str, int, datetime, tuple[int, int] | None]] = [
            (hot_keys[k], f"The big debate ({HOT[k][0]} comments)", hot_total[k],
             NOW - timedelta(days=2 + i), HOT[k]) for i, k in enumerate(HOT)]
        plan_list += [(key, title, n, start, None)
                      for (key, title, start), n in zip(articles, normal)]
        done = 0
        for tid, (key, title, n, start, hot) in enumerate(plan_list, start=1):
            rows = comment_rows(rng, plan_thread(rng, n, start, hot), tid, site_id, next_id,
                                bodies, people)
            if cw is None:
                cw = Writer(conn, Comment.__table__, list(rows[0]))
            cw.add(rows)
            next_id += len(rows)
            approved = sum(r["status"] == "approved" for r in rows)
            pending += sum(r["status"] == "pending" or r["flagged"] for r in rows)
            thread_rows.append({"id": tid, "site_id": site_id, "article_key": key,
                                "url": ORIGIN + key, "title": title, "comment_count": approved,
                                "version": len(rows), "created_at": rows[0]["created_at"],
                                "closed_at": None})
            done += len(rows)
            if tid % 10000 == 0:
                progress(f"  {done:,} comments in {tid:,} threads")
        assert cw is not None
        cw.flush()
        tw = Writer(conn, Thread.__table__, list(thread_rows[0]))
        tw.add(thread_rows)
        tw.flush()
        progress(f"  {done:,} comments written; rebuilding {len(indexes)} indexes")
        for _, sql in indexes:
            conn.execute(text(sql))
        if conn.dialect.name == "postgresql":
            for table in ("threads", "comments"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                  f"(SELECT max(id) FROM {table}))"))
            conn.execute(text("SET session_replication_role = DEFAULT"))
        newest = sorted(thread_rows[len(HOT):], key=lambda r: r["created_at"])[-FRONT_PAGE:]
        manifest = Manifest(
            version=GENERATOR_VERSION, backend=conn.dialect.name, threads=len(thread_rows),
            comments=done, pending=pending, site=SITE, origin=ORIGIN, hot=hot_keys,
            front_page=[r["article_key"] for r in reversed(newest)], moderator=MODERATOR,
            password=password, seconds=round(time.monotonic() - started, 1),
            extra={"front_page_counts": [r["comment_count"] for r in reversed(newest)],
                   "body_pool": BODY_POOL})
        store_manifest(conn, manifest)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE"))
    engine.dispose()
    progress(f"seeded {done:,} comments in {len(thread_rows):,} threads "
             f"in {time.monotonic() - started:.0f} s")
    return manifest


def main(argv: list[str] | None = None) -> None:
    """Seed one database from the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="SQLAlchemy URL (a PostgreSQL one may name a "
                        "schema with ?options=-csearch_path%%3DNAME)")
    parser.add_argument("--threads", type=int, default=100_000)
    parser.add_argument("--comments", type=int, default=1_000_000)
    parser.add_argument("--reseed", action="store_true", help="rebuild even when the sizes match")
    args = parser.parse_args(argv)
    prepare(args.url, args.threads, args.comments, reseed=args.reseed)


if __name__ == "__main__":
    main()
