"""Logging moderators in and out."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Response, redirect, render_template, request, session, url_for

from ... import limits
from ...extensions import limiter
from ...services import accounts

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    """Only a path on this server: never an open redirect."""
    if target and target.startswith("/mod") and not urlsplit(target).netloc and "\\" not in target:
        return target
    return url_for("mod.moderate.queue_page")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(limits.login_ip, key_func=limits.ip_key, methods=["POST"],
               deduct_when=limits.failed)
@limiter.limit(limits.login_account, key_func=limits.login_pair_key, methods=["POST"],
               deduct_when=limits.failed)
@limiter.limit(limits.login_account_global, key_func=limits.login_email_key, methods=["POST"],
               deduct_when=limits.failed)
def login() -> Response | tuple[str, int] | str:
    """The login form; a wrong email or password gets one message for both."""
    if request.method == "GET":
        return render_template("mod/login.html", next=request.args.get("next", ""))
    moderator = accounts.authenticate(request.form.get("email", ""),
                                      request.form.get("password", ""))
    if moderator is None:
        return render_template("mod/login.html", error="Wrong email or password.",
                               next=request.form.get("next", ""),
                               email=request.form.get("email", "")), 401
    # A fresh session at login: nothing from before survives (no fixation).
    session.clear()
    session.permanent = True
    session["moderator_id"] = moderator.id
    session["fp"] = accounts.session_fingerprint(moderator)
    return redirect(_safe_next(request.form.get("next")))


@bp.post("/logout")
def logout() -> Response:
    """End the session."""
    session.clear()
    return redirect(url_for("mod.auth.login"))
