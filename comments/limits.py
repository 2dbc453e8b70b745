"""Rate-limit strings read from settings, and the keys they count by."""
from __future__ import annotations

from flask import current_app, request

from .security import client_ip


def login_ip() -> str:
    """Failed moderator logins allowed per client address."""
    return current_app.config["RATELIMIT_LOGIN_IP"]


def login_account() -> str:
    """Failed moderator logins allowed per account."""
    return current_app.config["RATELIMIT_LOGIN_ACCOUNT"]


def ip_key() -> str:
    """Count by client address (after the configured proxies)."""
    return client_ip()


def login_email_key() -> str:
    """Count by the account a login names, whatever address it comes from."""
    return "login:" + (request.form.get("email") or "").strip().lower()[:254]


def failed(response) -> bool:  # type: ignore[no-untyped-def]
    """Only refusals count against a login limit."""
    return response.status_code == 401
