"""Every route, anonymous and as an admin, with hostile query, form and path values: never a 5xx."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask, Request
from flask.testing import FlaskClient
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.routing import PathConverter, Rule, UnicodeConverter

from comments.extensions import db
from comments.models import AuditEntry, Ban, Comment, CommentStatus, Moderator, Site, Webhook
from comments.services import accounts, moderation, queue
from comments.views import IdConverter
from comments.views.mod import PUBLIC_ENDPOINTS

from .modhelpers import csrf_token, login, post_comment, setup_sites

# Empty, past 64 bits, past Python's int() digit limit, NUL, CR LF, and bytes that are not UTF-8.
HOSTILE = ["", "9" * 20, "9" * 5000, "%00", "a%0D%0Ab", "%FF%FE"]
# url_for's own parameters, which a page that copied its query into its links would hand over.
URL_FOR_QUERY = "endpoint=x&_external=1&_scheme=javascript&_anchor=x&_method=POST&values=x&page=2"
# What the parameters of a route other than ids are filled with.
PATH_VALUES = {"slug": "news", "token": "x", "change": "close"}
FILES = {"static": "mod/mod.css", "widget.widget_asset": "widget.css"}

TEXT = (UnicodeConverter, PathConverter)

READ: set[str] = set()


class RecordingArgs(ImmutableMultiDict):
    """Query and form values that note which names a view asked for."""

    def __getitem__(self, key: str) -> Any:
        READ.add(key)
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        READ.add(str(key))
        return super().__contains__(key)

    def getlist(self, key: str, type: Any = None) -> list[Any]:
        READ.add(key)
        return super().getlist(key, type)


class RecordingRequest(Request):
    """A request whose query and form record the names read from them."""

    parameter_storage_class = RecordingArgs


@pytest.fixture
def world(app: Flask) -> dict[str, Any]:
    """Two sites, a comment of each kind of page, more than a page of queue and log, a ban, a
    webhook and an API token: every id a route takes points at a row."""
    setup_sites(app)
    first = post_comment(app, article="a1")
    with app.app_context():
        comment = db.session.get(Comment, first)
        admin = db.session.scalar(db.select(Moderator).filter_by(email="admin@example.org"))
        site = db.session.get(Site, comment.site_id)
        db.session.add_all([Comment(thread_id=comment.thread_id, site_id=site.id, text="t",
                                    html="<p>t</p>", author_name="R", status=CommentStatus.PENDING)
                            for _ in range(queue.PER_PAGE)])
        db.session.add_all([AuditEntry(moderator_id=admin.id, site_id=site.id, action="approve")
                            for _ in range(queue.PER_PAGE + 1)])
        db.session.commit()
        moderation.ban(admin, site, email=None, ip="198.51.100.1", reason="flood", days=7)
        hook = Webhook(site_id=site.id, url="https://hooks.example/x", secret="s", events=["comment.created"])
        db.session.add(hook)
        db.session.commit()
        token, bearer = accounts.create_api_token(admin, "walker")
        return {"comment_id": first, "thread_id": comment.thread_id, "webhook_id": hook.id,
                "token_id": token.id, "bearer": bearer,
                "ban_id": db.session.scalar(db.select(Ban.id)),
                "moderator_id": db.session.scalar(db.select(Moderator.id)
                                                  .filter_by(email="blogmod@example.org"))}


def _path(rule: Rule, world: dict[str, Any], hostile: str | None = None) -> str:
    """The rule's address with every parameter filled in (the text ones with `hostile`, if given)."""
    values = {name: world[name] if isinstance(converter, IdConverter)
              else "HOSTILE" if hostile is not None and isinstance(converter, TEXT)
              else FILES.get(rule.endpoint) or PATH_VALUES[name]
              for name, converter in rule._converters.items()}
    path = rule.build(values, append_unknown=False)[1]
    return path.replace("HOSTILE", hostile) if hostile is not None else path


def _requests(rule: Rule, method: str, world: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """A route's hostile requests as (address, form field): each name the view read from the
    query or form (asked once with nothing) with each hostile value, url_for's own names on a
    page with a next page, and each hostile value in the route's text parameters."""
    path = _path(rule, world)
    READ.clear()
    yield path, ""
    names = sorted(READ - {"csrf_token"})
    form = method != "GET"
    if not form:
        yield f"{path}?{URL_FOR_QUERY}", ""
    for value in HOSTILE:
        for name in names:
            yield (path, f"{name}={value}") if form else (f"{path}?{name}={value}", "")
        if any(isinstance(c, TEXT) for c in rule._converters.values()):
            yield _path(rule, world, value), ""


def _walk(app: Flask, client: FlaskClient, world: dict[str, Any],
          admin: bool) -> Iterator[tuple[Rule, str, int]]:
    """Send every route its hostile requests (as an admin, only the routes where being one makes a
    difference); yield each with its answer's status."""
    token = csrf_token(client)
    headers = {"Origin": "https://news.example"}
    if admin:
        headers["Authorization"] = f"Bearer {world['bearer']}"
    # Logging out ends the admin's session, so it comes last.
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.endpoint == "mod.auth.logout", r.rule)):
        if admin and (rule.endpoint in PUBLIC_ENDPOINTS
                      or not rule.rule.startswith(("/mod/", "/api/v1/mod/"))):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            api = rule.rule.startswith("/api/")
            for address, field in _requests(rule, method, world):
                body = None if method == "GET" else "{}" if api else f"csrf_token={token}&{field}"
                res = client.open(address, method=method, data=body, headers=headers,
                                  content_type=None if body is None else "application/json" if api
                                  else "application/x-www-form-urlencoded")
                res.close()
                yield rule, f"{method} {address[:200]} {field[:80]}", res.status_code


@pytest.mark.parametrize("as_admin", [False, True], ids=["anonymous", "admin"])
def test_no_route_answers_5xx_to_hostile_values(app: Flask, world: dict[str, Any],
                                                as_admin: bool) -> None:
    app.request_class = RecordingRequest
    app.config["PROPAGATE_EXCEPTIONS"] = False
    client = login(app, "admin@example.org")[0] if as_admin else app.test_client()
    sent = list(_walk(app, client, world, as_admin))
    failures = [f"{request} -> {status}" for _, request, status in sent if status >= 500]
    assert not failures, "\n".join(failures)
    # The walk reached the views: every route was sent something, and hostile values were refused.
    walked = {rule.rule for rule, *_ in sent}
    assert {"/mod/actions", "/mod/log", "/api/v1/mod/log"} <= walked
    assert as_admin or walked == {rule.rule for rule in app.url_map.iter_rules()}
    assert sum(400 <= status < 500 for *_, status in sent) > 100
