"""Moderators, their API tokens and sites, bans, and the audit log of every action."""
from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Enum, ForeignKey, Index, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .site import Site
from .thread import utcnow

moderator_sites = Table(
    "moderator_sites",
    db.metadata,
    Column("moderator_id", ForeignKey("moderators.id", ondelete="CASCADE"), primary_key=True),
    Column("site_id", ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True),
)


class Role(enum.StrEnum):
    """Admins act on every site and manage sites and accounts; moderators act on their sites."""

    ADMIN = "admin"
    MODERATOR = "moderator"


class Moderator(db.Model):
    """A person who may log in to the moderation pages."""

    __tablename__ = "moderators"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(
        Enum(Role, name="role", native_enum=False, create_constraint=True, length=16,
             values_callable=lambda e: [m.value for m in e]),
        default=Role.MODERATOR,
    )
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    # Wants an email (batched) when comments wait in the queue.
    notify_queue: Mapped[bool] = mapped_column(default=False)
    # The newest queued comment already announced by email.
    notified_up_to: Mapped[int] = mapped_column(default=0)
    # Every session carries the generation it began in; logging out, a new password, a role change
    # or deactivation raises it, which ends all of the account's sessions at once.
    session_generation: Mapped[int] = mapped_column(default=0, server_default="0")

    sites: Mapped[list[Site]] = relationship(secondary=moderator_sites, lazy="selectin",
                                             order_by=Site.slug)
    tokens: Mapped[list[ApiToken]] = relationship(back_populates="moderator",
                                                  order_by="ApiToken.created_at.desc()")

    @property
    def is_admin(self) -> bool:
        """Admins act on every site."""
        return self.role is Role.ADMIN


class ApiToken(db.Model):
    """A bearer token for the moderation API; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    moderator_id: Mapped[int] = mapped_column(ForeignKey("moderators.id", ondelete="CASCADE"),
                                              index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    moderator: Mapped[Moderator] = relationship(lazy="joined", back_populates="tokens")


class Ban(db.Model):
    """Refuses an author's posts on a site, by email, by address or both, for a time or for good."""

    __tablename__ = "bans"
    __table_args__ = (
        Index("ix_bans_site_id_email", "site_id", "email"),
        Index("ix_bans_site_id_ip", "site_id", "ip"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    email: Mapped[str | None] = mapped_column(String(254))
    # One address, or an IPv6 /64 ("2001:db8:1:2::/64"): security.address_key of the address.
    ip: Mapped[str | None] = mapped_column(String(45))
    # A single sign-on identity (the site's `sub` for the reader).
    identity: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # None: for good.
    expires_at: Mapped[datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("moderators.id", ondelete="SET NULL"))
    lifted_at: Mapped[datetime | None]

    site: Mapped[Site] = relationship(lazy="joined")
    created_by: Mapped[Moderator | None] = relationship(lazy="joined")

    @property
    def single_address(self) -> bool:
        """An IPv6 ban narrowed to one address (otherwise an IPv6 ban covers the /64)."""
        return bool(self.ip and ":" in self.ip and "/" not in self.ip)


class AuditEntry(db.Model):
    """One moderation or administration action: who, on what, the status before and after, why."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_site_id_created_at", "site_id", "created_at"),
        Index("ix_audit_log_moderator_id_created_at", "moderator_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    moderator_id: Mapped[int | None] = mapped_column(
        ForeignKey("moderators.id", ondelete="SET NULL"))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    comment_id: Mapped[int | None] = mapped_column(
        ForeignKey("comments.id", ondelete="SET NULL"), index=True)
    action: Mapped[str] = mapped_column(String(32))
    status_before: Mapped[str | None] = mapped_column(String(16))
    status_after: Mapped[str | None] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    moderator: Mapped[Moderator | None] = relationship(lazy="joined")
    site: Mapped[Site | None] = relationship(lazy="joined")


class LabelledExample(db.Model):
    """A moderator's decision on a comment the filter scored, kept for tuning the rules."""

    __tablename__ = "labelled_examples"

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int | None] = mapped_column(
        ForeignKey("comments.id", ondelete="SET NULL"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    # "ham" (a moderator approved it) or "spam" (a moderator marked it).
    label: Mapped[str] = mapped_column(String(8))
    text: Mapped[str] = mapped_column(Text)
    verdict: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    moderator_id: Mapped[int | None] = mapped_column(
        ForeignKey("moderators.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
