"""Single sign-on: a site signs its logged-in readers with an HS256 JWT, and we verify it."""
from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

from ..errors import Invalid, Unauthorized
from ..extensions import db
from ..models import Moderator, Site
from . import fields
from .moderation import log_site_change

# Clocks of the site and of this server may differ a little.
LEEWAY_SECONDS = 30
# The longest cap a site may set on its tokens' lifetime: a year.
MAX_LIFETIME_MINUTES = 365 * 24 * 60


@dataclass(frozen=True)
class Identity:
    """A reader the site vouches for."""

    sub: str
    name: str
    email: str | None
    avatar: str | None


def verify(site: Site, token: object) -> Identity:
    """The identity in a token signed with this site's secret; Unauthorized when it is not one."""
    if not site.sso_secret:
        raise Invalid("This site does not use single sign-on.", "sso")
    if not isinstance(token, str) or len(token) > 4096 or fields.storable(token) is None:
        raise Unauthorized("The sign-in token is not valid.", "sso", code="sso_invalid")
    # Loaded on the first signed-in post: PyJWT brings the cryptography package with it (about
    # 10 MB a worker), which sites without single sign-on never need.
    import jwt

    try:
        claims = jwt.decode(token, site.sso_secret, algorithms=["HS256"], leeway=LEEWAY_SECONDS,
                            options={"require": ["sub", "exp"], "verify_aud": False})
    except jwt.ExpiredSignatureError:
        raise Unauthorized("Your sign-in has expired: reload the page to sign in again.", "sso",
                           code="sso_expired") from None
    except jwt.InvalidTokenError:
        raise Unauthorized("The sign-in token is not valid for this site.", "sso",
                           code="sso_invalid") from None
    _check_lifetime(site, claims)
    audience = claims.get("aud")
    if audience is not None and site.slug not in (audience if isinstance(audience, list) else [audience]):
        raise Unauthorized("The sign-in token is for another site.", "sso", code="sso_invalid")
    try:
        sub = fields.string(claims, "sub", "sso.sub", max_len=200, required=True) or ""
        name = fields.string(claims, "name", "sso.name", max_len=64, required=True) or ""
        email = fields.email(claims, "email", "sso.email")
        avatar = fields.web_url(claims, "avatar", "sso.avatar")
    except Invalid as e:
        raise Unauthorized(f"The sign-in token's claims are not usable: {e.message}", "sso",
                           code="sso_invalid") from None
    return Identity(sub=sub, name=name, email=email, avatar=avatar)


def _check_lifetime(site: Site, claims: dict[str, Any]) -> None:
    """Refuse a token that lives longer than the site allows: one that leaked would sign its
    reader in until it expired. Without `iat`, the lifetime left is what counts."""
    expires, issued = claims["exp"], claims.get("iat", time.time())
    if not all(isinstance(t, int | float) and not isinstance(t, bool) for t in (expires, issued)):
        raise Unauthorized("The sign-in token's times are not numbers.", "sso", code="sso_invalid")
    if expires - issued > site.sso_max_lifetime_minutes * 60 + LEEWAY_SECONDS:
        raise Unauthorized(f"The sign-in token lives longer than this site allows (at most "
                           f"{site.sso_max_lifetime_minutes} minutes).", "sso", code="sso_lifetime")


def parse_max_lifetime(raw: str) -> int:
    """A cap on tokens' lifetime from text (CLI, forms): whole minutes from 1 to a year."""
    raw = raw.strip()
    return _max_lifetime(int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 7 else 0)


def _max_lifetime(minutes: int) -> int:
    if not 1 <= minutes <= MAX_LIFETIME_MINUTES:
        raise Invalid(f"The longest a sign-in token may live is a whole number of minutes from 1 "
                      f"to {MAX_LIFETIME_MINUTES}.", "sso_max_lifetime_minutes")
    return minutes


def set_max_lifetime(site: Site, minutes: int, actor: Moderator | None = None) -> None:
    """Change how long the site's sign-on tokens may live at most (logged)."""
    if _max_lifetime(minutes) != site.sso_max_lifetime_minutes:
        log_site_change(actor, site, {"sso_max_lifetime_minutes": [site.sso_max_lifetime_minutes,
                                                                   minutes]})
        site.sso_max_lifetime_minutes = minutes
    db.session.commit()


def rotate_secret(site: Site, actor: Moderator | None = None) -> str:
    """Give the site a new signing secret (tokens signed with the old one stop working)."""
    site.sso_secret = secrets.token_urlsafe(48)
    log_site_change(actor, site, {"sso_secret": "rotated"})
    db.session.commit()
    return site.sso_secret


def disable(site: Site, actor: Moderator | None = None) -> None:
    """Stop accepting sign-in tokens for the site."""
    site.sso_secret = None
    log_site_change(actor, site, {"sso_secret": "removed"})
    db.session.commit()
