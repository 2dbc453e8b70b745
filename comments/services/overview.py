"""The editors' overview of a site: what came in, what was decided, how fast, and why held."""
from __future__ import annotations

import csv
import io
import re
import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from ..extensions import db
from ..models import Comment, CommentStatus, Moderator, Site, Thread, utcnow
from .moderation import site_ids
from .queue import WAITING

DAYS = 30
OUTCOMES = ("published", "held", "removed", "spam")
_OUTCOME = {CommentStatus.APPROVED: "published", CommentStatus.PENDING: "held",
            CommentStatus.REMOVED: "removed", CommentStatus.DELETED: "removed",
            CommentStatus.SPAM: "spam"}
CHARTS = ("daily", "threads", "reasons")
# A spreadsheet runs a cell starting with one of these as a formula (OWASP, "CSV Injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Sample sizes that keep the page fast on a large site.
MAX_DECISIONS = 10_000
MAX_REASONS = 5_000


@dataclass
class Day:
    """Comments posted on one day, by what became of them."""

    day: date
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))

    @property
    def total(self) -> int:
        """All comments of the day."""
        return sum(self.counts.values())


@dataclass
class Overview:
    """Everything on the overview page."""

    days: list[Day]
    queue_length: int
    oldest_waiting: datetime | None
    median_decision: timedelta | None
    active_threads: list[tuple[Thread, int]]
    top_reasons: list[tuple[str, int]]


def _scope(moderator: Moderator, site: Site | None) -> object:
    if site is not None:
        return Comment.site_id == site.id
    allowed = site_ids(moderator)
    return db.true() if allowed is None else Comment.site_id.in_(allowed)


def _as_date(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def build(moderator: Moderator, site: Site | None, now: datetime | None = None) -> Overview:
    """The overview of one site, or of every site the moderator acts on."""
    now = now or utcnow()
    scope = _scope(moderator, site)
    start = (now - timedelta(days=DAYS - 1)).replace(hour=0, minute=0, second=0, microsecond=0)
    days = {(start + timedelta(days=i)).date(): Day((start + timedelta(days=i)).date())
            for i in range(DAYS)}
    day_col = db.func.date(Comment.created_at)
    for day, status, count in db.session.execute(
            db.select(day_col, Comment.status, db.func.count(Comment.id))
            .where(scope, Comment.created_at >= start).group_by(day_col, Comment.status)):
        bucket = days.get(_as_date(day))
        if bucket is not None:
            bucket.counts[_OUTCOME[status]] += count
    queue_length, oldest = db.session.execute(
        db.select(db.func.count(Comment.id), db.func.min(Comment.created_at)).where(scope, WAITING)).one()
    decided = db.session.execute(
        db.select(Comment.created_at, Comment.moderated_at)
        .where(scope, Comment.moderated_at.is_not(None), Comment.created_at >= start)
        .order_by(Comment.moderated_at.desc()).limit(MAX_DECISIONS)).all()
    median = (timedelta(seconds=statistics.median((m - c).total_seconds() for c, m in decided))
              if decided else None)
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    active = db.session.execute(
        db.select(Thread, db.func.count(Comment.id).label("n")).join(Comment, Comment.thread_id == Thread.id)
        .where(scope, Comment.created_at >= today).group_by(Thread.id)
        .order_by(db.desc("n"), Thread.id).limit(10)).all()
    return Overview(days=list(days.values()), queue_length=queue_length or 0, oldest_waiting=oldest,
                    median_decision=median, active_threads=[(t, n) for t, n in active],
                    top_reasons=_reasons(scope, start))


def _reasons(scope: object, start: datetime) -> list[tuple[str, int]]:
    """Why comments were held, grouped: numbers and quoted details are folded away."""
    counter: Counter[str] = Counter()
    rows = db.session.scalars(db.select(Comment.reasons).where(
        scope, Comment.created_at >= start, Comment.status != CommentStatus.APPROVED)
        .order_by(Comment.id.desc()).limit(MAX_REASONS))
    for reasons in rows:
        for reason in reasons or []:
            counter[re.sub(r"\d+(\.\d+)?", "N", reason.split(":")[0]).strip()] += 1
    return counter.most_common(8)


def _cell(value: object) -> object:
    """A cell a spreadsheet shows as written: text that would start a formula gets a leading quote."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def to_csv(data: Overview, chart: str) -> str:
    """The numbers behind one chart (one of CHARTS) as CSV, safe to open in a spreadsheet."""
    rows: list[list[object]]
    if chart == "daily":
        rows = [["day", *OUTCOMES], *([d.day.isoformat(), *(d.counts[o] for o in OUTCOMES)]
                                      for d in data.days)]
    elif chart == "threads":
        rows = [["article", "title", "url", "comments_today"],
                *([t.article_key, t.title or "", t.url or "", n] for t, n in data.active_threads)]
    else:
        rows = [["reason", "comments"], *([reason, n] for reason, n in data.top_reasons)]
    out = io.StringIO()
    csv.writer(out).writerows([_cell(value) for value in row] for row in rows)
    return out.getvalue()
