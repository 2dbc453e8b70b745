"""Sites, accounts, API tokens and the audit log."""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import (Blueprint, Response, abort, current_app, flash, g, redirect, render_template,
                   request, url_for)

from ... import charts
from ...extensions import db
from ...models import EVENTS, SETTINGS, Moderation, Moderator, Role, Site, Webhook
from ...services import accounts, moderation, notify, queue, sites, sso, webhooks
from ...services import overview as overview_service
from .. import params

bp = Blueprint("admin", __name__)
F = TypeVar("F", bound=Callable[..., Any])


def admin_required(view: F) -> F:
    """Refuse anyone but an admin with 403."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not g.moderator.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


@bp.get("/log")
def log() -> str:
    """Every action on the moderator's sites, newest first, by moderator and site."""
    site, moderator_id = request.args.get("site") or None, params.number("moderator")
    page = queue.log(g.moderator, site=site, moderator_id=moderator_id,
                     page=params.number("page", 1))
    return render_template("mod/log.html", page=page, people=accounts.colleagues(g.moderator),
                           site=site or "", moderator_id=moderator_id,
                           query={"site": site, "moderator": moderator_id})


@bp.get("/overview")
def overview() -> str:
    """Comments per day by outcome, the queue, decision speed, busy threads, reasons held."""
    site = moderation.visible_site(g.moderator, request.args.get("site") or None)
    data = overview_service.build(g.moderator, site)
    chart = charts.stacked_bars([(d.day.isoformat(), d.counts) for d in data.days],
                                overview_service.OUTCOMES)
    return render_template("mod/overview.html", data=data, chart=chart, site=site,
                           outcomes=overview_service.OUTCOMES)


@bp.get("/overview.csv")
def overview_csv() -> Response:
    """The numbers behind one chart of the overview, as CSV."""
    chart = request.args.get("chart", "daily")
    if chart not in overview_service.CHARTS:
        abort(400, "Unknown chart.")
    site = moderation.visible_site(g.moderator, request.args.get("site") or None)
    body = overview_service.to_csv(overview_service.build(g.moderator, site), chart)
    response = Response(body, mimetype="text/csv")
    response.headers["Content-Disposition"] = f"attachment; filename=overview-{chart}.csv"
    return response


@bp.get("/sites")
@admin_required
def site_list() -> str:
    """Every site, with its origins and moderation mode."""
    return render_template("mod/sites.html", sites=db.session.scalars(
        db.select(Site).order_by(Site.slug)).all(), modes=[m.value for m in Moderation])


@bp.post("/sites")
@admin_required
def site_create() -> Response:
    """Create a site from the admin page."""
    site = sites.create_site(request.form.get("slug", "").strip(), request.form.get("name", ""),
                             request.form.get("origins", "").split(),
                             request.form.get("moderation", "post"), actor=g.moderator)
    flash(f"Created {site.name}.")
    return redirect(url_for("mod.admin.site_list"))


def _site_page(site: Site, **shown: Any) -> str:
    return render_template("mod/site.html", site=site, settings=SETTINGS, events=EVENTS,
                           modes=[m.value for m in Moderation],
                           sso_max_lifetime=sso.MAX_LIFETIME_MINUTES,
                           hooks=db.session.scalars(db.select(Webhook).filter_by(site_id=site.id)
                                                    .order_by(Webhook.id)).all(),
                           deliveries=webhooks.recent_deliveries(site), **shown)


@bp.get("/sites/<slug>")
@admin_required
def site_page(slug: str) -> str:
    """Everything about one site: name, origins, moderation, the filter's settings, sign-on,
    webhooks and their last deliveries."""
    return _site_page(sites.get_site(slug))


@bp.post("/sites/<slug>/webhooks")
@admin_required
def webhook_add(slug: str) -> str:
    """Register a webhook and show its signing secret, once."""
    site = sites.get_site(slug)
    hook, secret = webhooks.register(site, g.moderator, request.form.get("url", ""),
                                     request.form.getlist("events"))
    return _site_page(site, webhook_secret=secret, new_hook=hook)


@bp.post("/sites/<slug>/webhooks/<id:webhook_id>/delete")
@admin_required
def webhook_delete(slug: str, webhook_id: int) -> Response:
    """Remove a webhook."""
    webhooks.remove(g.moderator, webhook_id)
    flash("Webhook removed.")
    return redirect(url_for("mod.admin.site_page", slug=slug))


@bp.post("/sites/<slug>")
@admin_required
def site_update(slug: str) -> Response:
    """Change a site's name, origins, moderation mode and settings (all logged)."""
    site = sites.get_site(slug)
    values = sites.settings_from_form(request.form) if request.form.get("full") else None
    sites.update_site(site, actor=g.moderator, name=request.form.get("name"),
                      origins=request.form.get("origins", "").split(),
                      moderation=request.form.get("moderation"), values=values)
    flash(f"Saved {site.name}.")
    return redirect(url_for("mod.admin.site_page", slug=site.slug) if values is not None
                    else url_for("mod.admin.site_list"))


@bp.post("/sites/<slug>/sso")
@admin_required
def site_sso(slug: str) -> str | Response:
    """Make a new single sign-on secret (shown once), turn sign-on off, or cap tokens' lifetime."""
    site = sites.get_site(slug)
    action = request.form.get("action")
    if action == "lifetime":
        minutes = sso.parse_max_lifetime(request.form.get("sso_max_lifetime_minutes", ""))
        sso.set_max_lifetime(site, minutes, g.moderator)
        flash(f"Sign-on tokens live at most {minutes} minutes.")
    elif action == "off":
        sso.disable(site, g.moderator)
        flash("Single sign-on is off.")
    else:
        return _site_page(site, secret=sso.rotate_secret(site, g.moderator))
    return redirect(url_for("mod.admin.site_page", slug=site.slug))


@bp.get("/moderators")
@admin_required
def moderators() -> str:
    """Every account, for admins to create, promote, demote and deactivate."""
    return render_template("mod/moderators.html", people=db.session.scalars(
        db.select(Moderator).order_by(Moderator.email)).all(),
        sites=db.session.scalars(db.select(Site).order_by(Site.slug)).all(),
        roles=[r.value for r in Role])


@bp.post("/moderators")
@admin_required
def moderator_create() -> Response:
    """Create an account."""
    person = accounts.create_moderator(request.form.get("email", ""),
                                       request.form.get("password", ""),
                                       request.form.get("role", "moderator"),
                                       request.form.getlist("sites"))
    flash(f"Created an account for {person.email}.")
    return redirect(url_for("mod.admin.moderators"))


@bp.post("/moderators/<id:moderator_id>")
@admin_required
def moderator_update(moderator_id: int) -> Response:
    """Change an account's role, sites or whether it may log in."""
    person = db.get_or_404(Moderator, moderator_id)
    role = request.form.get("role")
    if role not in (None, *[r.value for r in Role]):
        abort(400, "Unknown role.")
    accounts.update_moderator(g.moderator, person, role=role,
                              site_slugs=request.form.getlist("sites"),
                              active=request.form.get("active") == "on")
    flash(f"Saved {person.email}.")
    return redirect(url_for("mod.admin.moderators"))


@bp.get("/tokens")
def tokens() -> str:
    """The moderator's own API tokens."""
    return render_template("mod/tokens.html", tokens=g.moderator.tokens, secret=None)


@bp.post("/tokens")
def token_create() -> str:
    """Create a token and show its secret, once."""
    token, secret = accounts.create_api_token(g.moderator, request.form.get("name", ""))
    return render_template("mod/tokens.html", tokens=g.moderator.tokens, secret=secret,
                           created=token)


@bp.post("/tokens/<id:token_id>/revoke")
def token_revoke(token_id: int) -> Response:
    """Revoke one of the moderator's tokens."""
    accounts.revoke_api_token(g.moderator, token_id)
    flash("Token revoked.")
    return redirect(url_for("mod.admin.tokens"))


@bp.get("/account")
def account() -> str:
    """The moderator's own settings (emails when comments wait) and password."""
    return render_template("mod/account.html", mail_on=bool(current_app.config["MAIL_SERVER"]),
                           min_password=accounts.MIN_PASSWORD)


@bp.post("/account")
def account_update() -> Response:
    """Save the moderator's own settings."""
    notify.set_queue_emails(g.moderator, request.form.get("notify_queue") == "on")
    flash("Saved.")
    return redirect(url_for("mod.admin.account"))
