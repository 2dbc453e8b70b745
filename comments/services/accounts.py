"""Moderator accounts: password hashing, logins, site access, and API tokens."""
from __future__ import annotations

import functools
import hashlib
import secrets
from collections.abc import Iterable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.exc import IntegrityError

from ..errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized
from ..extensions import db
from ..models import ApiToken, Moderator, Role, Site, moderator_sites, utcnow
from . import fields

_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the email is unknown, so a login takes as long either way (made on
    first use: hashing at import would cost every process argon2's memory before any login)."""
    return _hasher.hash("not a password of anyone")


MIN_PASSWORD = 10


def _sites(slugs: Iterable[str]) -> list[Site]:
    slugs = list(dict.fromkeys(slugs))
    found = db.session.scalars(db.select(Site).where(Site.slug.in_(slugs))).all()
    missing = set(slugs) - {s.slug for s in found}
    if missing:
        raise NotFound(f"No site named {', '.join(sorted(missing))}.", "sites")
    return list(found)


def _password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise Invalid(f"A password has at least {MIN_PASSWORD} characters.", "password")
    return _hasher.hash(password)


def create_moderator(email: str, password: str, role: Role | str = Role.MODERATOR,
                     site_slugs: Iterable[str] = ()) -> Moderator:
    """Create an account; a moderator acts on the named sites, an admin on all of them."""
    address = fields.email({"email": email}, "email", "email")
    if address is None:
        raise Invalid("An email address is required.", "email")
    moderator = Moderator(email=address.lower(), password_hash=_password(password),
                          role=Role(role), sites=_sites(site_slugs))
    db.session.add(moderator)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict(f"An account for {address} exists already.", "email") from None
    return moderator


def _by_email(email: str) -> Moderator | None:
    address = fields.storable(email.strip().lower())
    return db.session.scalar(db.select(Moderator).filter_by(email=address)) if address else None


def authenticate(email: str, password: str) -> Moderator | None:
    """The active account with this email and password, or None."""
    moderator = _by_email(email)
    try:
        _hasher.verify(moderator.password_hash if moderator else _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return None
    if moderator is None or not moderator.active:
        return None
    if _hasher.check_needs_rehash(moderator.password_hash):
        moderator.password_hash = _hasher.hash(password)
    moderator.last_login_at = utcnow()
    db.session.commit()
    return moderator


def end_sessions(moderator: Moderator) -> None:
    """End every session of the account, in every browser (logging out)."""
    moderator.session_generation += 1
    db.session.commit()


def _new_password(moderator: Moderator, password: str) -> None:
    """A new password ends the account's sessions and revokes its API tokens: a token minted from
    a stolen session or password must not outlive the change that was meant to shut it out."""
    moderator.password_hash = _password(password)
    moderator.session_generation += 1
    _revoke_tokens(moderator)


def set_password(moderator: Moderator, password: str) -> None:
    """Replace a password (an admin's reset): every session and API token of the account ends."""
    _new_password(moderator, password)
    db.session.commit()


def change_password(moderator: Moderator, current: str, password: str, repeat: str) -> None:
    """A moderator's own change: the current password, then the new one twice."""
    try:
        _hasher.verify(moderator.password_hash, current)
    except (VerificationError, InvalidHashError):
        raise Unauthorized("Your current password is not right.", "current_password") from None
    if password != repeat:
        raise Invalid("The two new passwords differ.", "repeat")
    _new_password(moderator, password)
    db.session.commit()


def get_moderator(email: str) -> Moderator:
    """The account with this email, active or not."""
    moderator = _by_email(email)
    if moderator is None:
        raise NotFound(f"No account for {email.strip()}.", "email")
    return moderator


def colleagues(moderator: Moderator) -> list[Moderator]:
    """The accounts acting on the moderator's sites (admins, and moderators of one of them); an
    admin sees every account."""
    stmt = db.select(Moderator).order_by(Moderator.email)
    if not moderator.is_admin:
        shared = db.select(moderator_sites.c.moderator_id).where(
            moderator_sites.c.site_id.in_([site.id for site in moderator.sites]))
        stmt = stmt.where((Moderator.role == Role.ADMIN) | Moderator.id.in_(shared))
    return list(db.session.scalars(stmt))


def _active_admins_locked() -> set[int]:
    """The active admins' ids, their rows locked until the commit, so two changes that could
    each remove the last admin run one after the other. PostgreSQL locks them FOR UPDATE (a
    waiting change then sees the committed roles); SQLite has no row locks, so the transaction
    takes the database's write lock before it reads."""
    connection = db.session.connection()
    # pysqlite opens a transaction only before a write: until then a read holds no lock at all.
    if (connection.dialect.name == "sqlite"
            and not connection.connection.dbapi_connection.in_transaction):
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    return set(db.session.scalars(db.select(Moderator.id).where(
        Moderator.role == Role.ADMIN, Moderator.active.is_(True)).with_for_update()))


def update_moderator(actor: Moderator, target: Moderator, *, role: Role | str | None = None,
                     site_slugs: Iterable[str] | None = None, active: bool | None = None) -> None:
    """Change another account: admins only, and never the last active admin away. A new role or
    deactivation ends the account's sessions; deactivation also revokes its API tokens."""
    if not actor.is_admin:
        raise Forbidden("Only an admin can change accounts.")
    admins = _active_admins_locked()
    if actor.id not in admins:
        raise Forbidden("Only an admin can change accounts.")
    new_role = Role(role) if role is not None else target.role
    new_active = active if active is not None else target.active
    if target.id in admins and not (new_role is Role.ADMIN and new_active) and len(admins) <= 1:
        raise Conflict("This is the last active admin: make another admin first.")
    if site_slugs is not None:
        target.sites = _sites(site_slugs)
    if new_role is not target.role or new_active != target.active:
        target.session_generation += 1
    if target.active and not new_active:
        _revoke_tokens(target)
    target.role, target.active = new_role, new_active
    db.session.commit()


def create_api_token(moderator: Moderator, name: str) -> tuple[ApiToken, str]:
    """A new bearer token; the secret is returned once and only its hash is kept."""
    name = fields.string({"name": name}, "name", "name", max_len=100, required=True) or ""
    secret = "cmt_" + secrets.token_urlsafe(32)
    token = ApiToken(moderator_id=moderator.id, name=name, token_hash=_token_hash(secret))
    db.session.add(token)
    db.session.commit()
    return token, secret


def revoke_api_token(moderator: Moderator, token_id: int) -> None:
    """Revoke one of the moderator's own tokens."""
    token = db.session.get(ApiToken, token_id)
    if token is None or token.moderator_id != moderator.id:
        raise NotFound("No such token.")
    token.revoked_at = token.revoked_at or utcnow()
    db.session.commit()


def moderator_for_token(secret: str) -> Moderator | None:
    """The active account a live token belongs to."""
    token = db.session.scalar(db.select(ApiToken).filter_by(token_hash=_token_hash(secret)))
    if token is None or token.revoked_at is not None or not token.moderator.active:
        return None
    token.last_used_at = utcnow()
    db.session.commit()
    return token.moderator


def _revoke_tokens(moderator: Moderator) -> None:
    db.session.execute(db.update(ApiToken).where(ApiToken.moderator_id == moderator.id,
                                                 ApiToken.revoked_at.is_(None))
                       .values(revoked_at=utcnow()))


def _token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
