"""Client address, proxy trust, cookie flags, the security headers of our own pages, and the
request values no view should see (NUL characters, redirect targets off the site)."""
from __future__ import annotations

import ipaddress

from flask import Flask, Response, abort, request
from werkzeug.middleware.proxy_fix import ProxyFix

from .errors import Invalid, Malformed

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


def local_target(target: str | None, prefix: str = "/mod") -> str | None:
    """`target` when it is a path under `prefix` on this server, else None (never an open redirect);
    Malformed when it holds a control character, which only a forged form sends and which would
    split the Location header."""
    if target and any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in target):
        raise Malformed("The address to return to contains control characters.", "next")
    if not target or len(target) > 2048 or not target.startswith(prefix) or "\\" in target:
        return None
    return target


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _refuse_nul() -> None:
    """A NUL in the path, the query or a form is refused before any view runs: PostgreSQL cannot
    hold one, and no address, id or filter has one (the API names the field, as its checks do)."""
    if "\x00" in request.path:
        abort(404)
    pairs = list(request.args.items(multi=True))
    if request.mimetype in FORM_TYPES:
        pairs += request.form.items(multi=True)
    name = next((key for key, value in pairs if "\x00" in key or "\x00" in value), None)
    if name is None:
        return
    if request.path.startswith("/api/"):
        raise Invalid(f"'{name}' contains a NUL character.", name)
    abort(400, "The request contains a NUL character.")


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
    app.before_request(_refuse_nul)
    app.after_request(_headers)
