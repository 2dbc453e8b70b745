"""Following the signed links in mail: a reader's unsubscribe, a moderator's approve or remove."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired
from sqlalchemy.exc import IntegrityError

from ..errors import Conflict, Forbidden, NotFound
from ..extensions import db
from ..models import Comment, Moderator, Site, UsedLink
from .moderation import apply, get_comment
from .notify import LINK_ACTIONS, MODERATION_SALT, UNSUBSCRIBE_SALT, serializer


@dataclass(frozen=True)
class Subscriber:
    """Whose reply emails an unsubscribe link stops: one address on one site."""

    email: str
    site: Site


@dataclass(frozen=True)
class ModerationLink:
    """A verified, unused moderation link: who acts, on what, how."""

    moderator: Moderator
    comment: Comment
    action: str
    jti: str


def read_unsubscribe(token: str) -> Subscriber:
    """Whom an unsubscribe link names; Forbidden when it is not one of ours."""
    try:
        data: Any = serializer(UNSUBSCRIBE_SALT).loads(token)
    except BadSignature:
        raise Forbidden("This unsubscribe link is not valid.", code="invalid_link") from None
    if not (isinstance(data, dict) and isinstance(data.get("email"), str)
            and isinstance(data.get("site"), str)):
        raise Forbidden("This unsubscribe link is not valid.", code="invalid_link")
    site = db.session.scalar(db.select(Site).filter_by(slug=data["site"]))
    if site is None:
        raise NotFound("This site no longer exists.")
    return Subscriber(data["email"], site)


def unsubscribe(token: str) -> Subscriber:
    """Stop reply emails to the link's address for all its comments on the link's site."""
    subscriber = read_unsubscribe(token)
    db.session.execute(
        db.update(Comment)
        .where(Comment.site_id == subscriber.site.id,
               db.func.lower(Comment.author_email) == subscriber.email,
               Comment.notify_replies.is_(True))
        .values(notify_replies=False)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return subscriber


def read_moderation_link(token: str) -> ModerationLink:
    """Verify a moderation link: ours, not expired, not used, and still in its moderator's reach."""
    max_age = current_app.config["MAIL_LINK_MAX_AGE_HOURS"] * 3600
    try:
        data: Any = serializer(MODERATION_SALT).loads(token, max_age=max_age)
    except SignatureExpired:
        raise Forbidden("This link has expired. Open the queue to decide on the comment.",
                        code="link_expired") from None
    except BadSignature:
        raise Forbidden("This link is not valid.", code="invalid_link") from None
    if not (isinstance(data, dict) and data.get("action") in LINK_ACTIONS
            and isinstance(data.get("jti"), str) and len(data["jti"]) <= 64
            and all(type(data.get(key)) is int for key in ("moderator", "comment"))):
        raise Forbidden("This link is not valid.", code="invalid_link")
    if db.session.get(UsedLink, data["jti"]) is not None:
        raise Conflict("This link has been used already.", code="link_used")
    moderator = db.session.get(Moderator, data["moderator"])
    if moderator is None or not moderator.active:
        raise Forbidden("The account this link was sent to can no longer moderate.")
    comment = get_comment(moderator, data["comment"])
    return ModerationLink(moderator, comment, data["action"], data["jti"])


def use_moderation_link(token: str, reason: str | None = None) -> ModerationLink:
    """Act on a moderation link as its moderator (audit-logged) and spend it, in one commit."""
    link = read_moderation_link(token)
    # Spent in the action's transaction: a concurrent second use collides on the key right here.
    db.session.add(UsedLink(id=link.jti))
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise Conflict("This link has been used already.", code="link_used") from None
    apply(link.moderator, [link.comment.id], link.action, reason)
    return link
