"""Logging moderators in and out, and changing one's own password."""
from __future__ import annotations

from flask import (Blueprint, Response, flash, g, redirect, render_template, request, session,
                   url_for)

from ... import limits
from ...extensions import limiter
from ...models import Moderator
from ...security import local_target
from ...services import accounts

bp = Blueprint("auth", __name__)


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
        return render_template("mod/login.html", next=local_target(request.args.get("next")))
    target = local_target(request.form.get("next"))
    moderator = accounts.authenticate(request.form.get("email", ""),
                                      request.form.get("password", ""))
    if moderator is None:
        return render_template("mod/login.html", error="Wrong email or password.", next=target,
                               email=request.form.get("email", "")), 401
    _start_session(moderator)
    return redirect(target or url_for("mod.moderate.queue_page"))


def _start_session(moderator: Moderator) -> None:
    """A fresh session: nothing from before survives (no fixation), not even the CSRF token."""
    session.clear()
    session.permanent = True
    session["moderator_id"] = moderator.id
    session["generation"] = moderator.session_generation


@bp.post("/logout")
def logout() -> Response:
    """End every session of the account, this one and any copy of it, in every browser."""
    accounts.end_sessions(g.moderator)
    session.clear()
    return redirect(url_for("mod.auth.login"))


@bp.post("/account/password")
@limiter.limit(limits.login_ip, key_func=limits.ip_key, deduct_when=limits.failed)
@limiter.limit(limits.login_account_global, key_func=limits.session_account_key,
               deduct_when=limits.failed)
def change_password() -> Response:
    """Change one's own password; this browser stays signed in, every other session ends."""
    accounts.change_password(g.moderator, request.form.get("current_password", ""),
                             request.form.get("password", ""), request.form.get("repeat", ""))
    _start_session(g.moderator)
    flash("Password changed. Your other sessions have ended and your API tokens are revoked.")
    return redirect(url_for("mod.admin.account"))
