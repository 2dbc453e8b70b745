"""Personal data: addresses kept only so long, and an author's data given back or forgotten."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from .. import outbox
from ..errors import Conflict, Invalid
from ..extensions import db
from ..models import (AuditEntry, Comment, CommentRevision, CommentStatus, Moderator, OutboxItem,
                      Site, Thread, utcnow)
from .moderation import bump_threads

# How an author is named: an email address, a site's single sign-on identity, or (for an author who
# left neither) one comment's id.
Kind = Literal["email", "sso", "comment"]

# The outbox row that books the next daily purge (one row, never sent: claiming it books the next).
PURGE = "purge"
PURGE_EVERY = timedelta(days=1)


def purge_addresses(days: int, now: datetime | None = None, actor: Moderator | None = None) -> int:
    """Erase the client address of every comment older than `days`, logged; returns how many."""
    cutoff = (now or utcnow()) - timedelta(days=days)
    result = db.session.execute(db.update(Comment).where(
        Comment.created_at < cutoff, Comment.client_ip.is_not(None)).values(client_ip=None,
                                                                            client_net=None))
    erased = result.rowcount or 0
    db.session.add(AuditEntry(moderator_id=actor.id if actor else None, site_id=None,
                              action="purge", detail={"days": days, "erased": erased}))
    db.session.commit()
    return erased


def purge_if_due(days: int, now: datetime | None = None) -> int | None:
    """Run `purge_addresses` if no worker has in the last day; how many it erased, or None.

    The purge row in the outbox holds the next run. Claiming it books the one after, in one atomic
    update, so of several workers one a day purges. Two first-ever rounds may each add a row; the
    newer is deleted and the purge, idempotent, runs at most twice that once.
    """
    now = now or utcnow()
    rows = _purge_rows()
    if not rows:
        db.session.add(OutboxItem(kind=PURGE, payload={}, next_attempt_at=now))
        db.session.commit()
        rows = _purge_rows()
    if len(rows) > 1:
        db.session.execute(db.delete(OutboxItem).where(OutboxItem.id.in_([r.id for r in rows[1:]])))
        db.session.commit()
    first = rows[0]
    if first.next_attempt_at > now or not outbox.claim(first.id, first.attempts, now,
                                                       retry_at=now + PURGE_EVERY):
        return None
    return purge_addresses(days, now)


def _purge_rows() -> list[Any]:
    """The purge rows, oldest first: (id, attempts, next_attempt_at)."""
    rows = list(db.session.execute(
        db.select(OutboxItem.id, OutboxItem.attempts, OutboxItem.next_attempt_at)
        .where(OutboxItem.kind == PURGE).order_by(OutboxItem.id)))
    db.session.commit()
    return rows


@dataclass(frozen=True)
class Share:
    """An author's comments on one site."""

    site: str
    comments: int
    # Comments others replied to: kept as erased placeholders even when rows are deleted.
    replied: int


@dataclass(frozen=True)
class Erasure:
    """What forgetting an author touches: their comments per site, and mail queued to them."""

    who: str
    sites: list[Share]
    mails: int
    delete_rows: bool

    @property
    def comments(self) -> int:
        """Their comments on every site in reach."""
        return sum(share.comments for share in self.sites)


def _scope(who: str, site: Site | None, all_sites: bool,
           kind: Kind | None = None) -> tuple[str, Any]:
    """The author (trimmed) and which of their comments are in reach, or Invalid.

    A single sign-on identity is a reader of one site only (another site's `sub` 42 is someone
    else), so it needs a site. An email address names one person everywhere, but acting on every
    site must be asked for. Without a `kind`, an author with an "@" is taken for an email address.
    """
    who = who.strip()
    if not who:
        raise Invalid("Name an author by email address or single sign-on identity.", "who")
    if site is not None and all_sites:
        raise Invalid("Name one site, or every site, not both.", "site")
    kind = kind or ("email" if "@" in who else "sso")
    if kind == "comment":
        if site is None or not (who.isascii() and who.isdigit()):
            raise Invalid("An author without an identity is named by one comment of one site.", "who")
        return who, db.and_(Comment.id == int(who), Comment.site_id == site.id)
    if kind == "email":
        if site is None and not all_sites:
            raise Invalid(f"{who} may have commented on several sites: name one with --site, "
                          "or say --all-sites.", "site")
        match = db.func.lower(Comment.author_email) == who.lower()
    else:
        if site is None:
            raise Invalid("A single sign-on identity belongs to one site only: name it with --site "
                          "(the same identity on another site is someone else).", "site")
        match = Comment.sso_id == who
    return who, match if site is None else db.and_(match, Comment.site_id == site.id)


def statuses(who: str, site: Site, kind: Kind | None = None) -> dict[str, int]:
    """How many of an author's comments on `site` are in each status."""
    _who, authored = _scope(who, site, False, kind)
    return {status.value: count for status, count in db.session.execute(
        db.select(Comment.status, db.func.count(Comment.id)).where(authored)
        .group_by(Comment.status))}


def export_author(who: str, site: Site | None = None, all_sites: bool = False,
                  kind: Kind | None = None) -> Iterator[dict[str, Any]]:
    """Everything stored about an author's comments on `site` (or every site), for handing back."""
    _who, authored = _scope(who, site, all_sites, kind)
    rows = db.session.execute(db.select(Comment, Thread).join(Thread, Thread.id == Comment.thread_id)
                              .where(authored).order_by(Comment.created_at, Comment.id)).all()
    earlier: dict[int, list[dict[str, Any]]] = {}
    for revision in db.session.scalars(db.select(CommentRevision).where(
            CommentRevision.comment_id.in_([c.id for c, _ in rows])).order_by(CommentRevision.id)):
        earlier.setdefault(revision.comment_id, []).append({
            "text": revision.text, "html": revision.html,
            "replaced_at": revision.created_at.isoformat() + "Z", "editor": revision.editor.value})
    for comment, thread in rows:
        yield {
            "id": comment.id, "site": thread.site.slug, "article": thread.article_key,
            "url": thread.url, "title": thread.title, "parent_id": comment.parent_id,
            "status": comment.status.value, "created_at": comment.created_at.isoformat() + "Z",
            "edited_at": comment.edited_at.isoformat() + "Z" if comment.edited_at else None,
            "author": {"name": comment.author_name, "email": comment.author_email,
                       "website": comment.author_website, "sso_id": comment.sso_id,
                       "avatar": comment.author_avatar},
            "ip": comment.client_ip, "text": comment.text, "html": comment.html,
            "notify_replies": comment.notify_replies,
            "earlier_versions": earlier.get(comment.id, []),
        }


def _plan(who: str, site: Site | None, all_sites: bool, delete_rows: bool,
          kind: Kind | None) -> tuple[Erasure, list[Comment], set[int], list[OutboxItem]]:
    """What an erasure would touch: the author's comments, those replied to, and queued mail."""
    who, authored = _scope(who, site, all_sites, kind)
    comments = list(db.session.scalars(db.select(Comment).where(authored).order_by(Comment.id)))
    replied = set(db.session.scalars(db.select(Comment.parent_id).where(
        Comment.parent_id.in_([c.id for c in comments])))) if comments else set()
    # Mail to the author: to the address named, and to the ones on their comments in reach.
    addresses = {c.author_email.lower() for c in comments if c.author_email}
    if kind == "email" or (kind is None and "@" in who):
        addresses.add(who.lower())
    pending = db.select(OutboxItem).where(OutboxItem.kind == outbox.MAIL,
                                          OutboxItem.sent_at.is_(None))
    if site is not None:
        pending = pending.where(OutboxItem.site_id == site.id)
    mails = [item for item in db.session.scalars(pending)
             if str(item.payload.get("to", "")).lower() in addresses]
    slugs = dict(db.session.execute(db.select(Site.id, Site.slug).where(
        Site.id.in_({c.site_id for c in comments}))).all()) if comments else {}
    shares = []
    for site_id, slug in sorted(slugs.items(), key=lambda item: item[1]):
        mine = [c for c in comments if c.site_id == site_id]
        shares.append(Share(slug, len(mine), sum(c.id in replied for c in mine)))
    return Erasure(who, shares, len(mails), delete_rows), comments, replied, mails


def preview(who: str, site: Site | None = None, all_sites: bool = False,
            delete_rows: bool = False, kind: Kind | None = None) -> Erasure:
    """What `forget` with the same arguments would touch, per site; changes nothing."""
    return _plan(who, site, all_sites, delete_rows, kind)[0]


def forget(who: str, site: Site | None = None, all_sites: bool = False,
           delete_rows: bool = False, kind: Kind | None = None,
           actor: Moderator | None = None, expect: tuple[int, int] | None = None) -> Erasure:
    """Erase an author's personal data on `site` (or every site); returns what it touched.

    Their comments become deleted placeholders, or with `delete_rows` the ones nobody replied to
    are deleted (those with replies stay as erased placeholders so the replies keep their place).
    Queued mail to them goes too. One transaction: all of it, or nothing. The log says, per site,
    who asked (`actor`, or none from the command line) and how much went, but not whom it was.
    With `expect` (the comments and queued mails someone confirmed), anything else is a Conflict.
    """
    erasure, comments, replied, mails = _plan(who, site, all_sites, delete_rows, kind)
    if expect is not None and expect != (erasure.comments, erasure.mails):
        raise Conflict("What would be erased has changed since you confirmed: look again.")
    actor_id = actor.id if actor else None
    per_site: dict[int, list[Comment]] = {site.id: []} if site is not None else {}
    for comment in comments:
        per_site.setdefault(comment.site_id, []).append(comment)
    for site_id, theirs in per_site.items():
        db.session.add(AuditEntry(
            moderator_id=actor_id, site_id=site_id, action="reader_forget",
            reason="author's erasure request",
            detail={"by": kind or ("email" if "@" in erasure.who else "sso"),
                    "comments": len(theirs), "replied": sum(c.id in replied for c in theirs),
                    "mails": erasure.mails, "delete_rows": delete_rows}))
    deltas: dict[int, int] = {}
    for comment in comments:
        deltas[comment.thread_id] = deltas.get(comment.thread_id, 0) - (
            comment.status is CommentStatus.APPROVED)
        gone = delete_rows and comment.id not in replied
        db.session.add(AuditEntry(moderator_id=actor_id, site_id=comment.site_id, comment_id=None,
                                  action="forget", status_before=comment.status.value,
                                  status_after=None if gone else CommentStatus.DELETED.value,
                                  reason="author's erasure request", detail={"comment": comment.id}))
        if gone:
            db.session.delete(comment)
            continue
        comment.status = CommentStatus.DELETED
        comment.text = comment.html = comment.author_name = ""
        comment.author_email = comment.author_website = comment.author_avatar = None
        comment.client_ip = comment.client_net = comment.reader_hash = comment.sso_id = None
        comment.text_hash = None
        comment.edit_token_hash, comment.notify_replies = None, False
        comment.featured, comment.verdict, comment.reasons = False, None, []
    if comments:
        db.session.execute(db.delete(CommentRevision).where(
            CommentRevision.comment_id.in_([c.id for c in comments])))
    bump_threads(set(deltas), deltas)
    for item in mails:
        db.session.delete(item)
    db.session.commit()
    return erasure
