"""Creating and looking up sites, and the origin rules that bind a site to its pages."""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.exc import IntegrityError

from ..errors import Invalid, NotFound
from ..extensions import db
from ..models import SETTINGS, Moderation, Moderator, Site
from .moderation import log_site_change

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")


def normalize_origin(value: str) -> str:
    """`https://Example.com:443/path` -> `https://example.com`; raises Invalid for anything else."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Invalid(f"{value!r} is not an http(s) origin such as https://news.example", "origin")
    try:
        port = parts.port
    except ValueError:
        raise Invalid(f"{value!r} has an invalid port", "origin") from None
    default = {"http": 80, "https": 443}[parts.scheme]
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default else "")


def url_origin(url: str) -> str | None:
    """The origin of an absolute http(s) URL, or None when it is not one."""
    try:
        return normalize_origin(url) if urlsplit(url).scheme in ("http", "https") else None
    except Invalid:
        return None


def _name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 200:
        raise Invalid("A site name is 1-200 characters.", "name")
    return name


def _mode(moderation: Moderation | str) -> Moderation:
    try:
        return Moderation(moderation)
    except ValueError:
        raise Invalid("Moderation is 'pre' or 'post'.", "moderation") from None


def create_site(slug: str, name: str, origins: Iterable[str],
                moderation: Moderation | str = Moderation.POST,
                actor: Moderator | None = None) -> Site:
    """Create a site; raises Invalid for a bad slug, name or origin, or a slug in use."""
    if not SLUG_RE.match(slug):
        raise Invalid("A site slug is 1-64 lowercase letters, digits and dashes.", "slug")
    normalized = list(dict.fromkeys(normalize_origin(o) for o in origins))
    site = Site(slug=slug, name=_name(name), origins=normalized, moderation=_mode(moderation),
                settings={})
    db.session.add(site)
    try:
        db.session.flush()
        log_site_change(actor, site, {"created": {"name": site.name, "origins": normalized,
                                                  "moderation": site.moderation.value}})
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Invalid(f"A site with the slug {slug!r} exists already.", "slug") from None
    return site


def edit_origins(site: Site, add: Iterable[str] = (), remove: Iterable[str] = ()) -> list[str]:
    """SITE's origins less `remove`, plus `add`; Invalid for a bad origin or one not there to remove."""
    added = [normalize_origin(o) for o in add]
    removed = list(dict.fromkeys(normalize_origin(o) for o in remove))
    if missing := [o for o in removed if o not in site.origins]:
        raise Invalid(f"{', '.join(missing)} is not an origin of site {site.slug!r}.", "origin")
    return list(dict.fromkeys([o for o in site.origins if o not in removed] + added))


def update_site(site: Site, *, actor: Moderator | None, name: str | None = None,
                origins: Iterable[str] | None = None,
                moderation: Moderation | str | None = None,
                values: dict[str, Any] | None = None) -> Site:
    """Change a site's name, origins, mode and settings in one commit, logging what changed."""
    changes: dict[str, Any] = {}
    for key, value in (values or {}).items():
        if value != site.setting(key):
            changes[key] = [site.setting(key), value]
    if values:
        site.settings = {**site.settings, **values}
    if name is not None and _name(name) != site.name:
        changes["name"] = [site.name, _name(name)]
        site.name = _name(name)
    if origins is not None:
        normalized = list(dict.fromkeys(normalize_origin(o) for o in origins))
        if normalized != site.origins:
            changes["origins"] = [site.origins, normalized]
            site.origins = normalized
    if moderation is not None and _mode(moderation) is not site.moderation:
        changes["moderation"] = [site.moderation.value, _mode(moderation).value]
        site.moderation = _mode(moderation)
    if changes:
        log_site_change(actor, site, changes)
    db.session.commit()
    return site


def is_slug(slug: object) -> bool:
    """A well-formed slug: only those reach the database (no NUL or surrogate can fail there)."""
    return isinstance(slug, str) and SLUG_RE.match(slug) is not None


def get_site(slug: object) -> Site:
    """The site with this slug; NotFound otherwise."""
    site = db.session.scalar(db.select(Site).filter_by(slug=slug)) if is_slug(slug) else None
    if site is None:
        raise NotFound("No site with that name is served here.", "site")
    return site


def any_site_allows(origin: str) -> bool:
    """True when some site lists `origin`: enough to answer a CORS preflight, which names no site."""
    sites = db.session.scalars(db.select(Site.origins)).all()
    return any(origin in origins for origins in sites)


def parse_setting(name: str, raw: str) -> Any:
    """A setting's value from text (CLI, forms): `true`/`false`, a whole number, or a comma list."""
    if name not in SETTINGS:
        raise Invalid(f"Unknown setting {name!r}; known: {', '.join(sorted(SETTINGS))}.", name)
    kind = SETTINGS[name][0]
    raw = raw.strip()
    if kind is bool:
        if raw.lower() not in ("true", "false", "yes", "no", "on", "off", "1", "0"):
            raise Invalid(f"{name} is true or false.", name)
        return raw.lower() in ("true", "yes", "on", "1")
    if kind is int:
        if not (raw.isascii() and raw.isdigit()) or int(raw) > 1_000_000:
            raise Invalid(f"{name} is a whole number.", name)
        return int(raw)
    return [part.strip().lower() for part in raw.split(",") if part.strip()]


def update_settings(site: Site, *, actor: Moderator | None, values: dict[str, Any]) -> Site:
    """Change per-site settings (already parsed), logging old and new values."""
    return update_site(site, actor=actor, values=values)


def settings_from_form(form: Mapping[str, str]) -> dict[str, Any]:
    """Every per-site setting from an HTML form, where an unticked checkbox is absent."""
    values = {}
    for key, (kind, _default, _doc) in SETTINGS.items():
        if kind is bool:
            values[key] = form.get(key) == "on"
        elif key in form:
            values[key] = parse_setting(key, form[key])
    return values
