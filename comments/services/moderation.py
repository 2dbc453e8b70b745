"""Moderation actions and bans: access checked by role and site, every step written to the log."""
from __future__ import annotations

import ipaddress
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement

from .. import invalidation
from ..errors import Conflict, Forbidden, Invalid, NotFound
from ..extensions import db
from ..models import (AuditEntry, Ban, Comment, CommentStatus, LabelledExample, Moderator, Report,
                      Role, Site, Thread, utcnow)
from ..security import address_key
from . import notify, webhooks
from .fields import MAX_ID, storable

ACTIONS = ("approve", "remove", "spam", "feature", "unfeature")
_TARGET = {"approve": CommentStatus.APPROVED, "remove": CommentStatus.REMOVED,
           "spam": CommentStatus.SPAM, "feature": CommentStatus.APPROVED}
# Actions that keep a comment published: readers' reports before them are answered.
_KEEPS = ("approve", "feature")
MAX_REASON = 500
MAX_EMAIL = 254


def site_ids(moderator: Moderator) -> set[int] | None:
    """The sites a moderator acts on; None for an admin, who acts on all."""
    return None if moderator.is_admin else {site.id for site in moderator.sites}


def require_site(moderator: Moderator, site_id: int) -> None:
    """Refuse a moderator outside their sites."""
    allowed = site_ids(moderator)
    if allowed is not None and site_id not in allowed:
        raise Forbidden("You do not moderate this site.")


def visible_site(moderator: Moderator, slug: str | None) -> Site | None:
    """The site a filter names, checked against the moderator's sites; None when none is named."""
    if not slug:
        return None
    site = db.session.scalar(db.select(Site).filter_by(slug=slug)) if storable(slug) else None
    if site is None:
        raise NotFound("No such site.", "site")
    require_site(moderator, site.id)
    return site


def get_comment(moderator: Moderator, comment_id: int) -> Comment:
    """A comment the moderator may see: 404 when absent, 403 on another site."""
    comment = db.session.get(Comment, comment_id)
    if comment is None:
        raise NotFound("No such comment.")
    require_site(moderator, comment.site_id)
    return comment


def _reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if len(reason) > MAX_REASON:
        raise Invalid(f"A reason is at most {MAX_REASON} characters.", "reason")
    if storable(reason) is None:
        raise Invalid("A reason cannot hold NUL characters or invalid Unicode.", "reason")
    return reason


def apply(moderator: Moderator, comment_ids: Sequence[int], action: str,
          reason: str | None = None) -> list[Comment]:
    """Apply one action to every listed comment, or to none of them: one commit, one log entry each."""
    if action not in ACTIONS:
        raise Invalid(f"Unknown action {action!r}.", "action")
    if not comment_ids:
        raise Invalid("Select at least one comment.", "ids")
    reason = _reason(reason)
    ids = list(dict.fromkeys(comment_ids))
    if any(not 1 <= i <= MAX_ID for i in ids):
        raise NotFound("Some of these comments do not exist.", "ids")
    comments = db.session.scalars(db.select(Comment).where(Comment.id.in_(ids))).all()
    if len(comments) != len(ids):
        raise NotFound("Some of these comments do not exist.", "ids")
    for comment in comments:
        require_site(moderator, comment.site_id)
    deltas: Counter[int] = Counter()
    touched: set[int] = set()
    for comment in sorted(comments, key=lambda c: ids.index(c.id)):
        before = comment.status
        if action in ("feature", "unfeature") and before in (CommentStatus.REMOVED,
                                                               CommentStatus.SPAM,
                                                               CommentStatus.DELETED):
            raise Conflict(f"Comment {comment.id} is {before.value}: it cannot be featured.", "ids")
        if action in _TARGET:
            comment.status = _TARGET[action]
            comment.moderated_at = utcnow()
            comment.flagged = False
            _label(moderator, comment, before, action)
            if before is not CommentStatus.APPROVED and comment.status is CommentStatus.APPROVED:
                notify.reply_published(comment)
            if before is not comment.status:
                webhooks.emit_status(comment)
        if action in ("feature", "unfeature"):
            comment.featured = action == "feature"
        dismissed = dismiss_reports(comment.id) if action in _KEEPS else 0
        deltas[comment.thread_id] += _count_delta(before, comment.status)
        touched.add(comment.thread_id)
        _log(moderator, comment.site_id, action, comment=comment, before=before, reason=reason,
             detail={"reports_dismissed": dismissed} if dismissed else None)
    bump_threads(touched, deltas)
    db.session.commit()
    return list(comments)


def dismiss_reports(comment_id: int) -> int:
    """Keep a reported comment: its reports stay on record but stop counting toward a flag, so
    only reports made after this decision can flag it again (the caller commits); how many."""
    result = db.session.execute(db.update(Report).where(
        Report.comment_id == comment_id, Report.dismissed_at.is_(None)).values(dismissed_at=utcnow()))
    return result.rowcount or 0


def _label(moderator: Moderator, comment: Comment, before: CommentStatus, action: str) -> None:
    """Keep a moderator's verdict on a held or filtered comment as an example for tuning."""
    label = {"approve": "ham", "feature": "ham", "spam": "spam"}.get(action)
    held = before in (CommentStatus.PENDING, CommentStatus.SPAM)
    if label is None or not (held or label == "spam") or before is comment.status:
        return
    db.session.add(LabelledExample(comment_id=comment.id, site_id=comment.site_id, label=label,
                                   text=comment.text, verdict=comment.verdict,
                                   moderator_id=moderator.id))


def _count_delta(before: CommentStatus, after: CommentStatus) -> int:
    return (after is CommentStatus.APPROVED) - (before is CommentStatus.APPROVED)


def bump_threads(thread_ids: set[int], deltas: Mapping[int, int]) -> None:
    """Adjust approved counts and bump versions in SQL, so concurrent writers lose nothing."""
    for thread_id in thread_ids:
        db.session.execute(
            db.update(Thread).where(Thread.id == thread_id).values(
                comment_count=Thread.comment_count + deltas[thread_id],
                version=Thread.version + 1,
            )
        )
    invalidation.stale(threads=thread_ids)


def _log(moderator: Moderator | None, site_id: int | None, action: str, *,
         comment: Comment | None = None, before: CommentStatus | None = None, reason: str = "",
         detail: dict[str, Any] | None = None) -> None:
    db.session.add(AuditEntry(
        moderator_id=moderator.id if moderator else None, site_id=site_id,
        comment_id=comment.id if comment else None, action=action,
        status_before=before.value if before else None,
        status_after=comment.status.value if comment else None,
        reason=reason, detail=detail or {},
    ))


def ban(moderator: Moderator, site: Site, *, email: str | None, ip: str | None,
        reason: str | None, days: int | None, remove_pending: bool = False,
        identity: str | None = None, only_this_address: bool = False) -> Ban:
    """Ban an author from a site by email, address, sign-in identity or several; optionally remove
    their pending comments. An IPv6 address bans its /64 unless `only_this_address`."""
    require_site(moderator, site.id)
    email = (email or "").strip().lower() or None
    if email is not None and (len(email) > MAX_EMAIL or storable(email) is None):
        raise Invalid(f"An email address is at most {MAX_EMAIL} characters of valid text.", "email")
    ip = _banned_address(ip, only_this_address)
    identity = (identity or "").strip() or None
    if email is None and ip is None and identity is None:
        raise Invalid("Ban by email, by address, by sign-in identity, or several.", "email")
    if days is not None and not 1 <= days <= 36500:
        raise Invalid("A ban lasts 1 to 36500 days, or for good.", "days")
    if email is not None:
        account = db.session.scalar(db.select(Moderator).filter_by(email=email))
        if account is not None and (account.role is Role.ADMIN or not moderator.is_admin):
            raise Forbidden("That address belongs to a moderation account; it cannot be banned here.")
    existing = active_ban(site.id, email, ip, identity)
    if existing is not None and (existing.email, existing.ip, existing.identity) == (email, ip, identity):
        raise Conflict(f"This author is already banned here (ban #{existing.id}); lift it to change it.")
    entry = Ban(site_id=site.id, email=email, ip=ip, identity=identity, reason=_reason(reason),
                created_by_id=moderator.id,
                expires_at=utcnow() + timedelta(days=days) if days else None)
    db.session.add(entry)
    _log(moderator, site.id, "ban", reason=entry.reason,
         detail={"email": email, "ip": ip, "identity": identity, "days": days})
    if remove_pending:
        _remove_pending(moderator, site, email, ip, identity)
    db.session.commit()
    return entry


def _banned_address(ip: str | None, only_this_address: bool) -> str | None:
    """What a ban by address names: the address's key (an IPv6 /64), or the one address."""
    ip = (ip or "").strip()
    if not ip:
        return None
    try:
        ipaddress.ip_address(ip)
    except ValueError:
        raise Invalid("That is not an IP address.", "ip") from None
    return address_key(ip, single=only_this_address)


def _remove_pending(moderator: Moderator, site: Site, email: str | None, ip: str | None,
                    identity: str | None) -> None:
    match = []
    if identity:
        match.append(Comment.sso_id == identity)
    if email:
        match.append(db.func.lower(Comment.author_email) == email)
    if ip:
        match.append(db.or_(Comment.client_ip == ip, Comment.client_net == ip))
    for comment in db.session.scalars(db.select(Comment).where(
            Comment.site_id == site.id, Comment.status == CommentStatus.PENDING, db.or_(*match))):
        comment.status = CommentStatus.REMOVED
        comment.moderated_at = utcnow()
        _log(moderator, site.id, "remove", comment=comment, before=CommentStatus.PENDING,
             reason="author banned")


def lift_ban(moderator: Moderator, ban_id: int) -> Ban:
    """End a ban now."""
    entry = db.session.get(Ban, ban_id)
    if entry is None:
        raise NotFound("No such ban.")
    require_site(moderator, entry.site_id)
    entry.lifted_at = utcnow()
    _log(moderator, entry.site_id, "unban", detail={"ban": entry.id, "email": entry.email,
                                                    "ip": entry.ip})
    db.session.commit()
    return entry


def list_bans(moderator: Moderator, limit: int = 200) -> list[Ban]:
    """The newest bans on the moderator's sites."""
    stmt = db.select(Ban).order_by(Ban.created_at.desc(), Ban.id.desc()).limit(limit)
    allowed = site_ids(moderator)
    if allowed is not None:
        stmt = stmt.where(Ban.site_id.in_(allowed))
    return list(db.session.scalars(stmt))


def _live_ban() -> ColumnElement[bool]:
    """A ban of the bound site, neither lifted nor expired at the bound time."""
    return db.and_(Ban.site_id == db.bindparam("site_id"), Ban.lifted_at.is_(None),
                   db.or_(Ban.expires_at.is_(None), Ban.expires_at > db.bindparam("now")))


# Built once (posting asks for every comment); an absent email, address or identity is bound as
# NULL, which matches no ban. A ban's address is one address or an IPv6 /64 (the address's key).
_ACTIVE_BAN = db.select(Ban).where(_live_ban(), db.or_(
    Ban.email == db.bindparam("email"), Ban.ip == db.bindparam("ip"), Ban.ip == db.bindparam("net"),
    Ban.identity == db.bindparam("identity"))).limit(1)
ANY_LIVE_BAN = db.select(db.select(Ban.id).where(
    _live_ban(), db.or_(Ban.email.is_not(None), Ban.ip.is_not(None))).exists())


def active_ban(site_id: int, email: str | None, ip: str | None,
               identity: str | None = None, now: datetime | None = None) -> Ban | None:
    """The ban in force against this author on this site, if any."""
    if not (email or ip or identity):
        return None
    return db.session.scalar(_ACTIVE_BAN, {
        "site_id": site_id, "now": now or utcnow(), "email": email.lower() if email else None,
        "ip": address_key(ip, single=True) if ip else None, "net": address_key(ip) if ip else None,
        "identity": identity or None})


def set_closed(moderator: Moderator, thread_id: int, closed: bool) -> Thread:
    """Close a thread to new comments, or open it again."""
    thread = db.session.get(Thread, thread_id)
    if thread is None:
        raise NotFound("No such thread.")
    require_site(moderator, thread.site_id)
    thread.closed_at = utcnow() if closed else None
    thread.version = Thread.version + 1
    _log(moderator, thread.site_id, "close_thread" if closed else "open_thread",
         detail={"thread": thread.id, "article": thread.article_key})
    db.session.commit()
    return thread


def log_site_change(moderator: Moderator | None, site: Site, changes: dict[str, Any]) -> None:
    """Record an administrative change of a site (the caller commits)."""
    _log(moderator, site.id, "site_update", detail=changes)


def log_thread_change(moderator: Moderator | None, thread: Thread, action: str,
                      changes: dict[str, Any]) -> None:
    """Record a change of a thread's title, address or lock (the caller commits)."""
    _log(moderator, thread.site_id, action,
         detail={"thread": thread.id, "article": thread.article_key, **changes})
