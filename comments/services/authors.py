"""What the database knows about an author: identity by reader key, history, trust, duplicates."""
from __future__ import annotations

import functools
import hashlib
import re
from typing import Any

from sqlalchemy import Select

from ..extensions import db
from ..models import Ban, Comment, CommentStatus, Site, utcnow
from ..security import address_key
from ..spam import Facts
from .moderation import ANY_LIVE_BAN

READER_KEY_RE = re.compile(r"^[A-Za-z0-9_-]{16,128}$")


def reader_hash(key: str | None) -> str | None:
    """The stored form of a well-formed reader key; None for none or a malformed one."""
    if not key or not READER_KEY_RE.match(key):
        return None
    return hashlib.sha256(key.encode()).hexdigest()


def address_hash(client_ip: str) -> str:
    """The stored form of an address's key (an IPv6 address by its /64)."""
    return hashlib.sha256(f"ip:{address_key(client_ip)}".encode()).hexdigest()


def actor_hash(reader_key: str | None, client_ip: str) -> str:
    """Who votes or reports: the reader key when there is one, else the address's key."""
    return reader_hash(reader_key) or address_hash(client_ip)


def text_hash(text: str) -> str:
    """Equal for texts that differ only in case and spacing."""
    return hashlib.sha256(" ".join(text.lower().split()).encode()).hexdigest()


def _count(*where: object) -> int:
    return db.session.scalar(db.select(db.func.count(Comment.id)).where(*where)) or 0


@functools.cache
def _facts_query(author_by: str) -> Select[Any]:
    """The spam filter's counts with every value bound: built once per way of naming an author.

    The rows with this text and the rows by this author, each through its own index (a union:
    under an OR of the two the planner walks the whole site), then counted three ways. An absent
    reader, email or identity is bound as NULL, which matches no row.
    """
    c = Comment.__table__.c
    columns = (c.id, c.thread_id, c.status, c.text_hash, c.client_net, c.reader_hash,
               c.author_email, c.sso_id)
    site_rows = (c.site_id == db.bindparam("site_id"), c.id != db.bindparam("exclude"))
    same_text = c.text_hash == db.bindparam("text_hash")
    r = db.union(db.select(*columns).where(*site_rows, same_text),
                 db.select(*columns).where(*site_rows, c[author_by] == db.bindparam(author_by))
                 ).subquery().c
    same_text = r.text_hash == db.bindparam("text_hash")
    same_author = db.or_(*(r[name] == db.bindparam(name)
                           for name in ("client_net", "reader_hash", "author_email", "sso_id")))
    return db.select(
        db.func.count(r.id).filter(same_text, same_author),
        db.func.count(db.distinct(r.thread_id)).filter(same_text,
                                                       r.thread_id != db.bindparam("thread_id")),
        db.func.count(r.id).filter(r[author_by] == db.bindparam(author_by),
                                   r.status == CommentStatus.APPROVED),
    )


def facts(site: Site, thread_id: int | None, text_digest: str, reader: str | None,
          email: str | None, ip: str, exclude: int | None = None,
          identity: str | None = None) -> Facts:
    """Duplicates, links to banned authors, and whether this is the author's first comment."""
    # The author is the sign-in identity, else the reader key, else the address (IPv6: its /64).
    author_by = "sso_id" if identity else "reader_hash" if reader else "client_net"
    net = address_key(ip)
    by_author, threads, approved = db.session.execute(_facts_query(author_by), {
        "site_id": site.id, "exclude": exclude or 0, "text_hash": text_digest,
        "thread_id": thread_id or 0, "client_net": net, "reader_hash": reader,
        "author_email": email, "sso_id": identity,
    }).one()
    return Facts(same_text_by_author=by_author, same_text_threads=threads,
                 banned_link=_banned_link(site, reader, net), first_time=approved == 0)


def _banned_link(site: Site, reader: str | None, net: str) -> str | None:
    """Which of this post's identities an earlier comment shares with a banned author."""
    now = utcnow()
    live = db.and_(Ban.site_id == site.id, Ban.lifted_at.is_(None),
                   db.or_(Ban.expires_at.is_(None), Ban.expires_at > now))
    # Most sites have no ban in force: then one small look-up settles it.
    if not db.session.scalar(ANY_LIVE_BAN, {"site_id": site.id, "now": now}):
        return None
    by_email = db.select(db.func.lower(Ban.email)).where(live, Ban.email.is_not(None))
    # A ban names one address or an IPv6 /64 (a comment's client_net is its /64).
    by_ip = db.select(Ban.ip).where(live, Ban.ip.is_not(None))
    banned_author = db.or_(db.func.lower(Comment.author_email).in_(by_email.scalar_subquery()),
                           Comment.client_ip.in_(by_ip.scalar_subquery()),
                           Comment.client_net.in_(by_ip.scalar_subquery()))
    if reader and _count(Comment.site_id == site.id, Comment.reader_hash == reader, banned_author):
        return "reader key"
    if _count(Comment.site_id == site.id, Comment.client_net == net,
              db.func.lower(Comment.author_email).in_(by_email.scalar_subquery())):
        return "address"
    return None


def is_trusted(site: Site, reader: str | None, identity: str | None = None) -> bool:
    """Enough approved comments under this sign-in identity (else reader key), none removed or spam."""
    needed = site.setting("trusted_after")
    if not (identity or reader) or needed <= 0:
        return False
    author = Comment.sso_id == identity if identity else Comment.reader_hash == reader
    rows = db.session.execute(
        db.select(Comment.status, db.func.count(Comment.id))
        .where(Comment.site_id == site.id, author)
        .group_by(Comment.status)
    )
    counts = {status: n for status, n in rows}
    bad = counts.get(CommentStatus.REMOVED, 0) + counts.get(CommentStatus.SPAM, 0)
    return bad == 0 and counts.get(CommentStatus.APPROVED, 0) >= needed
