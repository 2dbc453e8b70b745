"""Client address, proxy trust, cookie flags and the security headers of our own pages."""
from __future__ import annotations

import ipaddress

from flask import Flask, Response, request
from werkzeug.middleware.proxy_fix import ProxyFix

# Our own pages load nothing from elsewhere and run no inline script or style.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'self'"
)


def client_ip() -> str:
    """The client's address: the one accessor every consumer uses (ProxyFix has already applied)."""
    return request.remote_addr or "0.0.0.0"


def address_key(address: str, *, single: bool = False) -> str:
    """What an address counts as: IPv4 as itself, IPv6 by its /64, IPv4-mapped IPv6 as the IPv4.

    A client given an IPv6 address holds its whole /64, so everything keyed by address (limits,
    bans, votes, reports, the spam filter's facts) keys it by the network. `single` keeps the one
    address (canonical form), for a ban a moderator narrows. Text that is no address stays as it is.
    """
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        if not single:
            return str(ipaddress.IPv6Network((int(ip) >> 64 << 64, 64)))
    return str(ip)


def _headers(response: Response) -> Response:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    if response.mimetype == "text/html":
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers["Referrer-Policy"] = "no-referrer"
    return response


def init_app(app: Flask) -> None:
    """Trust X-Forwarded-For only as far as PROXY_COUNT says; harden cookies and HTML responses."""
    if app.config["PROXY_COUNT"] > 0:
        count = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=0)  # type: ignore[method-assign]
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = app.config.get("SESSION_COOKIE_SAMESITE") or "Lax"
    app.after_request(_headers)
