"""The writer of one import run: threads by key, each comment once, parents linked last."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import current_app
from sqlalchemy.dialects import postgresql, sqlite

from ... import invalidation, sanitize
from ...extensions import db
from ...models import Comment, CommentStatus, Site, Thread, utcnow
from ...security import address_key
from ...services import authors
from .. import values
from ..records import CommentRecord, Pingback, Problem, Record, Summary, ThreadRecord
from . import known

# Comments written (and committed) together.
BATCH = 500
HELD = "held for moderation before the import"
# Columns a file may claim but only a trusted file keeps: they make an author "verified" (sso_id),
# give them a reader's history and trust (reader_hash), or let them edit (edit_token_hash).
CLAIMS = ("sso_id", "reader_hash", "edit_token_hash")
# INSERT ... ON CONFLICT DO NOTHING, on the two databases the service runs on.
_INSERT = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}

Rewrite = Sequence[tuple[str, str]]
# Where a comment sits: (parent_id, root_id, depth).
Link = tuple[int | None, int | None, int]


class _Node:
    """A comment of the file: its row, and its place in the tree as stored."""

    __slots__ = ("id", "thread_id", "parent", "line", "parent_id", "root_id", "depth")

    def __init__(self, row_id: int, thread_id: int, parent: str | None, line: int | None,
                 link: Link) -> None:
        self.id, self.thread_id, self.parent, self.line = row_id, thread_id, parent, line
        self.parent_id, self.root_id, self.depth = link


def rewrite_url(value: str | None, rules: Rewrite) -> str | None:
    """`value` with the longest matching OLD prefix replaced by its NEW."""
    if value is None:
        return None
    matches = [(old, new) for old, new in rules if value.startswith(old)]
    if not matches:
        return value
    old, new = max(matches, key=lambda rule: len(rule[0]))
    return new + value[len(old):]


class Writer:
    """The state of one run: the file's threads and comments so far, and the batch being written."""

    def __init__(self, site: Site, rewrite: Rewrite, dry_run: bool,
                 trust_identities: bool = False) -> None:
        self.site_id = site.id
        self.slug = site.slug
        self.rewrite = rewrite
        self.dry_run = dry_run
        self.trust_identities = trust_identities
        self.claims_dropped = 0
        self.max_depth = current_app.config["MAX_DEPTH"]
        self.summary = Summary(dry_run=dry_run)
        self.threads: dict[str, ThreadRecord] = {}
        self.thread_ids: dict[str, int | None] = {}
        self.nodes: dict[str, _Node] = {}
        self.batch: list[CommentRecord] = []
        self.waiting: list[CommentRecord] = []
        self.touched: set[int] = set()

    def take(self, record: Record) -> None:
        """Route one record; comments are written a batch at a time."""
        if isinstance(record, ThreadRecord):
            self.summary.threads += 1
            self.threads.setdefault(record.source_id, record)
        elif isinstance(record, CommentRecord):
            # A thread may come later in the file than its comments: those wait for the end.
            if record.thread_source_id in self.threads:
                self.batch.append(record)
            else:
                self.waiting.append(record)
            if len(self.batch) >= BATCH:
                self.flush()
        elif isinstance(record, Pingback):
            self.summary.pingbacks += 1
        elif isinstance(record, Problem):
            self.summary.add(record)

    def finish(self) -> None:
        """Write what is left, attach every reply to its parent, and commit."""
        for record in self.waiting:
            if record.thread_source_id in self.threads:
                self.batch.append(record)
            else:
                self.summary.add(Problem(record.line, f"{_label(record)}: its thread "
                                         f"{record.thread_source_id} is not in the file; skipped"))
        self.flush()
        self._link()
        if self.claims_dropped:
            self.summary.add(Problem(None, f"{self.claims_dropped} comments came with a single "
                                     "sign-on identity, reader key or edit token, left out: "
                                     "--trust-identities keeps them (for a file you made)",
                                     skipped=False))
        self._commit()

    def flush(self) -> None:
        """Write the batch: known comments are counted, new ones inserted parents first."""
        batch, self.batch = self.batch, []
        fresh: list[tuple[CommentRecord, int]] = []
        pending: set[str] = set()
        keys: set[str] = set()
        for record in batch:
            thread_id = self._thread_id(record)
            if thread_id is None:
                continue
            seen = record.source_id in self.nodes or record.source_id in pending
            if seen or known.key(record) in keys:
                self.summary.add(Problem(record.line, f"{_label(record)} appears twice in the "
                                                      "file; the first is kept"))
                continue
            pending.add(record.source_id)
            keys.add(known.key(record))
            fresh.append((record, thread_id))
        fresh = self._known(fresh)
        while fresh:
            # Replies whose parent is in this batch wait for the parent's row (and id).
            ready = [(r, t) for r, t in fresh if r.parent_source_id not in pending
                     or r.parent_source_id in self.nodes] or fresh
            rows = [self._row(r, t) for r, t in ready]
            inserted = db.session.execute(
                db.insert(Comment).returning(Comment.import_key, Comment.id), rows)
            ids = {key: row_id for key, row_id in inserted}
            for (record, thread_id), row in zip(ready, rows, strict=True):
                row_id = ids[row["import_key"]]
                pending.discard(record.source_id)
                link = (row["parent_id"], row["root_id"], row["depth"])
                self.nodes[record.source_id] = _Node(row_id, thread_id, record.parent_source_id,
                                                     record.line, link)
                self.touched.add(thread_id)
            self.summary.comments += len(rows)
            done = {r.source_id for r, _t in ready}
            fresh = [(r, t) for r, t in fresh if r.source_id not in done]
        self._commit()

    def _known(self, fresh: list[tuple[CommentRecord, int]]) -> list[tuple[CommentRecord, int]]:
        """Leave out the comments the site holds already (known.stored), remembering where."""
        if not fresh:
            return fresh
        found = known.stored(self.site_id, self.slug, [r for r, _t in fresh])
        for record, (row_id, thread_id, parent_id, root_id, depth) in found.values():
            self.nodes[record.source_id] = _Node(row_id, thread_id, record.parent_source_id,
                                                 record.line, (parent_id, root_id, depth))
        self.summary.already += len(found)
        return [(r, t) for r, t in fresh if r.source_id not in found]

    def _row(self, record: CommentRecord, thread_id: int) -> dict[str, Any]:
        """The columns of a new row for `record`, under its parent when that is already written."""
        parent = self.nodes.get(record.parent_source_id or "")
        link: Link = (None, None, 0)
        if parent is not None and parent.thread_id == thread_id:
            link = self._under(parent.id, (parent.parent_id, parent.root_id, parent.depth))
        html = (sanitize.clean_html(record.html) if record.html is not None
                else sanitize.render(record.text))
        extra = record.extra
        if not self.trust_identities and any(extra.get(c) is not None for c in CLAIMS):
            extra = {column: value for column, value in extra.items() if column not in CLAIMS}
            self.claims_dropped += 1
        return {
            "thread_id": thread_id, "site_id": self.site_id, "parent_id": link[0],
            "root_id": link[1], "depth": link[2], "author_name": record.author_name,
            "author_email": record.author_email, "author_website": record.author_website,
            "text": record.text, "html": html, "status": record.status,
            "created_at": record.created, "edited_at": record.edited,
            "client_ip": record.client_ip,
            "client_net": address_key(record.client_ip) if record.client_ip else None,
            "text_hash": authors.text_hash(record.text),
            "score": record.score, "featured": record.featured,
            "notify_replies": record.notify_replies, "import_key": known.key(record),
            "reasons": [HELD] if record.status is CommentStatus.PENDING else [],
            **extra,
        }

    def _under(self, parent_id: int, parent: Link) -> Link:
        """(parent_id, root_id, depth) of a reply; past MAX_DEPTH it joins its parent's level."""
        grand_id, root_id, depth = parent
        if depth + 1 > self.max_depth and grand_id is not None:
            return grand_id, root_id, depth
        return parent_id, root_id or parent_id, depth + 1

    def _thread_id(self, record: CommentRecord) -> int | None:
        """Our thread for the comment's source thread, created on its first comment."""
        source_id = record.thread_source_id
        if source_id not in self.thread_ids:
            self.thread_ids[source_id] = self._find_or_create(self.threads[source_id], record)
        thread_id = self.thread_ids[source_id]
        if thread_id is None:
            self.summary.add(Problem(record.line, f"{_label(record)}: its thread {source_id} has "
                                                  "no identifier or link (of at most "
                                                  f"{values.KEY_MAX} characters); skipped"))
        return thread_id

    def _find_or_create(self, thread: ThreadRecord, first: CommentRecord) -> int | None:
        """Our thread under the (rewritten) key, made when missing; None when there is no key."""
        key = rewrite_url(thread.key, self.rewrite)
        if not key or len(key) > values.KEY_MAX:
            return None
        found = db.session.scalar(db.select(Thread.id).filter_by(site_id=self.site_id,
                                                                 article_key=key))
        if found is not None:
            return found
        # The widget may create the same thread meanwhile: the unique key settles it, and a
        # savepoint would not do (SQLite's driver commits on releasing an outermost one).
        insert = _INSERT[db.engine.dialect.name](Thread).values(
            site_id=self.site_id, article_key=key, comment_count=0, version=0,
            url=values.url(rewrite_url(thread.url, self.rewrite)), title=thread.title,
            created_at=thread.created or first.created,
            closed_at=(thread.closed_at or utcnow()) if thread.closed else None)
        db.session.execute(insert.on_conflict_do_nothing(index_elements=["site_id", "article_key"]))
        invalidation.stale(sites=[self.site_id])
        return db.session.scalar(db.select(Thread.id).filter_by(site_id=self.site_id,
                                                                article_key=key))

    def _link(self) -> None:
        """Put every comment of the file under its parent, now that all of them are known."""
        wanted: dict[str, Link] = {}
        for source_id in self.nodes:
            self._place(source_id, wanted)
        changes = []
        for source_id, link in wanted.items():
            node = self.nodes[source_id]
            if link != (node.parent_id, node.root_id, node.depth):
                changes.append({"id": node.id, "parent_id": link[0], "root_id": link[1],
                                "depth": link[2]})
                node.parent_id, node.root_id, node.depth = link
                self.touched.add(node.thread_id)
        for start in range(0, len(changes), BATCH):
            db.session.execute(db.update(Comment), changes[start:start + BATCH])

    def _place(self, source_id: str, wanted: dict[str, Link]) -> None:
        """Place `source_id` and its unplaced ancestors, top-down and without recursion."""
        chain: list[str] = []
        seen: set[str] = set()
        current = source_id
        while current not in wanted:
            if current in seen:
                self._orphan(current, "its chain of parents leads back to itself", wanted)
                break
            chain.append(current)
            seen.add(current)
            node = self.nodes[current]
            parent = self.nodes.get(node.parent or "")
            if node.parent is None:
                wanted[current] = (None, None, 0)
            elif parent is None:
                self._orphan(current, f"its parent {node.parent} is not in the file", wanted)
            elif parent.thread_id != node.thread_id:
                self._orphan(current, f"its parent {node.parent} is under another article", wanted)
            else:
                current = node.parent
                continue
            break
        for child in reversed(chain):
            if child not in wanted:
                parent_source = self.nodes[child].parent or ""
                wanted[child] = self._under(self.nodes[parent_source].id, wanted[parent_source])

    def _orphan(self, source_id: str, why: str, wanted: dict[str, Link]) -> None:
        """Put a comment at the top level, and say why."""
        wanted[source_id] = (None, None, 0)
        self.summary.add(Problem(self.nodes[source_id].line, f"comment {source_id}: {why}; "
                                 "imported as a top-level comment", skipped=False))

    def _commit(self) -> None:
        """Bring the touched threads' counts up to date and commit (a dry run only flushes)."""
        if self.touched:
            approved = (db.select(db.func.count(Comment.id))
                        .where(Comment.thread_id == Thread.id,
                               Comment.status == CommentStatus.APPROVED)
                        .scalar_subquery())
            db.session.execute(db.update(Thread).where(Thread.id.in_(sorted(self.touched)))
                               .values(comment_count=approved, version=Thread.version + 1))
            invalidation.stale(threads=self.touched)
            self.touched.clear()
        if self.dry_run:
            db.session.flush()
        else:
            db.session.commit()


def _label(record: CommentRecord) -> str:
    return f"comment {record.source_id}"
