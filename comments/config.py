"""Settings: every key with its default, and the one path that overrides them."""
from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask


class Defaults:
    """Every setting, its default, and why. Override any key with COMMENTS_<KEY> in the environment."""

    # Database: DATABASE_URL wins; else a SQLite file in instance/ (WAL journal, see extensions.py).
    SQLALCHEMY_DATABASE_URI: str | None = None
    # Pooled connections idle for 5 s are pinged before use (extensions.py); "pool_pre_ping": true
    # pings before every use instead.
    SQLALCHEMY_ENGINE_OPTIONS: dict[str, Any] = {}
    # Milliseconds a SQLite writer waits for the lock before giving up.
    SQLITE_BUSY_TIMEOUT_MS = 10_000
    # Redis for shared rate-limit counts across workers and machines; None keeps them in memory.
    REDIS_URL: str | None = None
    # Flask-Limiter: storage follows REDIS_URL; a moving window never doubles a burst at an edge.
    RATELIMIT_ENABLED = True
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_STRATEGY = "moving-window"
    RATELIMIT_HEADERS_ENABLED = True
    RATELIMIT_HEADER_LIMIT = "RateLimit-Limit"
    RATELIMIT_HEADER_REMAINING = "RateLimit-Remaining"
    RATELIMIT_HEADER_RESET = "RateLimit-Reset"
    # If Redis goes away, count in memory (and log it) rather than fail every post.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_SWALLOW_ERRORS = True
    # Give up on an unreachable Redis quickly: a post must not hang on the limiter.
    RATELIMIT_STORAGE_OPTIONS: dict[str, Any] = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}
    # Comments per client address, per author email, and per thread (everyone together).
    RATELIMIT_POST = "5 per minute; 30 per hour; 200 per day"
    RATELIMIT_POST_EMAIL = "5 per minute; 50 per day"
    RATELIMIT_POST_THREAD = "30 per minute"
    # Reports and votes per client address.
    RATELIMIT_REPORT = "10 per minute; 50 per day"
    RATELIMIT_VOTE = "30 per minute; 500 per day"
    # Failed moderator logins allowed per client address, and per account from one address (so
    # someone else's failures do not lock the owner out), and per account from every address
    # together: a much higher ceiling against guessing spread over many addresses.
    RATELIMIT_LOGIN_IP = "10 per minute; 50 per hour"
    RATELIMIT_LOGIN_ACCOUNT = "5 per minute; 20 per hour"
    RATELIMIT_LOGIN_ACCOUNT_GLOBAL = "100 per hour; 500 per day"
    # Moderator sessions end after this many minutes without a request.
    MOD_IDLE_MINUTES = 60
    # Session cookies only over HTTPS; None means "on unless debugging".
    SESSION_COOKIE_SECURE: bool | None = None
    # CSRF tokens live as long as the session that holds them.
    WTF_CSRF_TIME_LIMIT = None
    # Request bodies over 128 KiB are refused with 413 before they are parsed.
    MAX_CONTENT_LENGTH = 128 * 1024
    # How many reverse proxies in front of us may set X-Forwarded-For (0: trust none).
    PROXY_COUNT = 0
    # Logging: the level of the `comments` loggers, and JSON lines (false: plain text for people).
    LOG_LEVEL = "INFO"
    LOG_JSON = True
    # Take a well-formed X-Request-ID from the client (a proxy that sets one); else always make one.
    TRUST_REQUEST_ID = False
    # Who may read /metrics (addresses or CIDRs, after PROXY_COUNT): loopback and private networks.
    METRICS_ALLOW: list[str] = ["127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12",
                                "192.168.0.0/16", "fc00::/7"]
    # Signing key for sessions and tokens; generated into instance/secret_key when unset.
    SECRET_KEY: str | None = None
    # Webhook URLs resolving to loopback, private, link-local or reserved addresses (and IPv6 forms
    # that lead into IPv4: NAT64, 6to4, Teredo, IPv4-compatible) are refused unless true.
    WEBHOOK_ALLOW_PRIVATE = False
    # Tries per webhook call, with the same backoff as mail, before it is given up on.
    WEBHOOK_MAX_ATTEMPTS = 8
    # Days a comment's IP address is kept; `flask comments purge` erases older ones.
    IP_RETENTION_DAYS = 30
    # The spam filter (spam.py); off for load tests and trusted integrations.
    SPAM_ENABLED = True
    # Comment limits enforced by the API.
    MAX_TEXT_LENGTH = 10_000
    MAX_NAME_LENGTH = 64
    # Deepest reply nesting stored; a reply below it joins its parent's level.
    MAX_DEPTH = 50
    # Articles a single counts request may ask for.
    MAX_COUNT_ARTICLES = 100
    # Megabytes of rendered thread pages each worker keeps (thread_cache.py); 0 turns the cache off.
    THREAD_CACHE_MB = 32
    # Replies of each top-level comment a thread page carries (the first ones, depth-first); the
    # rest are counted in `more_replies` and read with `root=`. 0 sends every reply.
    THREAD_FOLD_REPLIES = 3
    # Seconds a shared cache (a CDN or a caching proxy) may serve a thread or counts answer without
    # asking again; 0 makes it revalidate every time (cheap: the ETag answers 304). Browsers always
    # revalidate, so a reader who just posted never sees an older page.
    SHARED_CACHE_SECONDS = 0
    # The service's address as readers reach it (e.g. https://comments.example), the base of every
    # link in mail; required with MAIL_SERVER, since the mail worker has no request to read it from.
    PUBLIC_URL: str | None = None
    # SMTP host for outgoing mail; None switches mail off (emails wait in the outbox).
    MAIL_SERVER: str | None = None
    MAIL_PORT = 25
    # STARTTLS after connecting (port 587), or TLS from the start (port 465): at most one of them.
    MAIL_USE_TLS = False
    MAIL_USE_SSL = False
    # SMTP login; None sends without authenticating.
    MAIL_USERNAME: str | None = None
    MAIL_PASSWORD: str | None = None
    # The sender of every email.
    MAIL_FROM = "Comments <comments@localhost>"
    # Tries per email, with exponential backoff between them, before it is given up on.
    MAIL_MAX_ATTEMPTS = 8
    # Send mail from a thread in each web process (the single-process default); false when
    # `flask comments send-mail --loop` runs as a worker of its own.
    MAIL_BACKGROUND = True
    # Seconds the background sender waits between rounds.
    MAIL_POLL_SECONDS = 5
    # Hours an emailed approve/remove link stays usable (each works once).
    MAIL_LINK_MAX_AGE_HOURS = 168


_INT_KEYS = ("SQLITE_BUSY_TIMEOUT_MS", "MAX_CONTENT_LENGTH", "PROXY_COUNT", "MAX_TEXT_LENGTH",
             "MAX_NAME_LENGTH", "MAX_COUNT_ARTICLES", "MAX_DEPTH",
             "THREAD_CACHE_MB", "THREAD_FOLD_REPLIES", "SHARED_CACHE_SECONDS",
             "MOD_IDLE_MINUTES", "IP_RETENTION_DAYS", "WEBHOOK_MAX_ATTEMPTS", "MAIL_PORT", "MAIL_MAX_ATTEMPTS",
             "MAIL_POLL_SECONDS", "MAIL_LINK_MAX_AGE_HOURS")


def load_config(app: Flask, overrides: Mapping[str, Any] | None = None) -> None:
    """Apply Defaults, then DATABASE_URL/REDIS_URL, then COMMENTS_* variables, then `overrides`."""
    app.config.from_object(Defaults)
    if url := os.environ.get("DATABASE_URL"):
        app.config["SQLALCHEMY_DATABASE_URI"] = url
    if url := os.environ.get("REDIS_URL"):
        app.config["REDIS_URL"] = url
    app.config.from_prefixed_env("COMMENTS")
    if overrides:
        app.config.from_mapping(overrides)
    _finish(app)


def _finish(app: Flask) -> None:
    """Fill derived settings and validate typed ones once, at start-up."""
    cfg = app.config
    uri = cfg.get("SQLALCHEMY_DATABASE_URI")
    if not uri:
        uri = "sqlite:///" + str(Path(app.instance_path) / "comments.sqlite3")
    if uri.startswith("postgres://"):
        uri = "postgresql+psycopg://" + uri.removeprefix("postgres://")
    elif uri.startswith("postgresql://"):
        uri = "postgresql+psycopg://" + uri.removeprefix("postgresql://")
    cfg["SQLALCHEMY_DATABASE_URI"] = uri
    if cfg.get("REDIS_URL") and cfg.get("RATELIMIT_STORAGE_URI") == Defaults.RATELIMIT_STORAGE_URI:
        cfg["RATELIMIT_STORAGE_URI"] = cfg["REDIS_URL"]
    if cfg["RATELIMIT_STORAGE_URI"].startswith("memory"):
        cfg["RATELIMIT_STORAGE_OPTIONS"] = {}
    for key in _INT_KEYS:
        try:
            cfg[key] = int(cfg[key])
        except (TypeError, ValueError):
            raise RuntimeError(f"setting {key} must be an integer, got {cfg[key]!r}") from None
        if cfg[key] < 0:
            raise RuntimeError(f"setting {key} must not be negative")
    cfg["PERMANENT_SESSION_LIFETIME"] = timedelta(minutes=cfg["MOD_IDLE_MINUTES"])
    if cfg.get("SESSION_COOKIE_SECURE") is None:
        cfg["SESSION_COOKIE_SECURE"] = not app.debug
    if not cfg.get("SECRET_KEY"):
        cfg["SECRET_KEY"] = _instance_secret(Path(app.instance_path))


def _instance_secret(instance: Path) -> str:
    """Read instance/secret_key, creating it with a fresh random key on first start."""
    path = instance / "secret_key"
    if not path.exists():
        # Written aside and linked into place, so concurrent workers never read half a key.
        fd, tmp = tempfile.mkstemp(dir=instance, prefix=".secret_key.")
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
    return path.read_text().strip()
