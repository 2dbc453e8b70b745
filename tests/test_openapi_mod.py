"""The OpenAPI document's moderation part: true to real answers, and fuzzed with a token."""
from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from comments.extensions import db
from comments.models import Comment, Moderator, Site
from comments.services import accounts, moderation

from .apidoc import METHODS, Contract, document
from .modhelpers import post_comment, setup_sites

# Examples per operation and mode: every branch of the parsing and the services, and quick enough
# for `make test`.
FUZZ_EXAMPLES = 20
MOD = "/api/v1/mod"


def _token(app: Flask, email: str) -> str:
    with app.app_context():
        account = db.session.scalar(db.select(Moderator).filter_by(email=email))
        return accounts.create_api_token(account, "openapi")[1]


def _seed(app: Flask) -> dict[str, Any]:
    """Two sites, a published comment with a waiting reply, a waiting comment on the other site, a ban
    on each, and a token of news's moderator."""
    setup_sites(app)
    news = post_comment(app, "news", text="news one")
    blog = post_comment(app, "blog", text="blog one")
    with app.app_context():
        admin = db.session.scalar(db.select(Moderator).filter_by(email="admin@example.org"))
        moderation.apply(admin, [news], "approve")
    reply = post_comment(app, "news", text="a reply", parent_id=news, email="x@example.net")
    with app.app_context():
        admin = db.session.scalar(db.select(Moderator).filter_by(email="admin@example.org"))
        sites = {s.slug: s for s in db.session.scalars(db.select(Site))}
        bans = [moderation.ban(admin, sites[slug], email=f"troll@{slug}.example", ip=None,
                               reason="troll", days=None).id for slug in ("news", "blog")]
        threads = {c.id: c.thread_id for c in db.session.scalars(db.select(Comment))}
    return {"comments": [news, reply, blog], "threads": threads, "bans": bans,
            "token": _token(app, "newsmod@example.org")}


def _snapshot(app: Flask) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, but a token's `last_used_at`, which each authenticated call sets."""
    with app.app_context():
        tables = {}
        for table in db.metadata.sorted_tables:
            columns = [c for c in table.columns if (table.name, c.name) != ("api_tokens", "last_used_at")]
            rows = db.session.execute(db.select(*columns).order_by(*table.primary_key.columns))
            tables[table.name] = [tuple(row) for row in rows]
        db.session.remove()
        return tables


# --- Real answers match it ---------------------------------------------------------------


def test_a_scripted_moderation_scenario_answers_as_documented(app: Flask) -> None:
    seeded = _seed(app)
    news, reply, blog = seeded["comments"]
    auth = {"Authorization": f"Bearer {seeded['token']}"}
    api = Contract(app.test_client())

    def call(method: str, template: str, path: str | None = None, **kwargs: Any) -> Any:
        kwargs.setdefault("headers", auth)
        return api.call(method, f"{MOD}{template}", f"{MOD}{path or template}", **kwargs)

    queued = call("get", "/queue")
    assert [(c["id"], c["parent"]["id"]) for c in queued["items"]] == [(reply, news)]
    call("get", "/queue", "/queue?site=news&article=a1&page=1")
    call("get", "/comments", "/comments?status=pending&site=news&author=Reader&q=news&page=2")
    one = call("get", "/comments/{id}", f"/comments/{news}")
    assert one["comment"]["author"]["email"] == "reader@example.net"
    call("post", "/actions", json={"action": "approve", "ids": [news, reply], "reason": None})
    call("post", "/actions", json={"action": "feature", "ids": [news]})
    call("post", "/threads/{id}", f"/threads/{seeded['threads'][news]}", json={"closed": True})
    banned = call("post", "/bans", json={"site": "news", "ip": "2001:db8::1", "only_this_address": True,
                                         "reason": "flood", "days": 7, "remove_pending": True})
    assert banned["ban"]["ip"] == "2001:db8::1"
    call("post", "/bans", json={"site": "news", "ip": "2001:db8:0:1::9", "email": "bo@example.net"})
    call("post", "/bans/{id}/lift", f"/bans/{banned['ban']['id']}/lift")
    assert len(call("get", "/bans")["bans"]) == 3
    assert call("get", "/comments/{id}", f"/comments/{news}")["log"]
    call("get", "/log", "/log?site=news&moderator=2&page=1")
    call("post", "/actions", json={"action": "remove", "ids": [reply], "reason": "rude"})
    call("get", "/comments", "/comments?status=removed")

    # Every refusal.
    call("get", "/queue", headers={})
    call("get", "/bans", headers={"Authorization": "Bearer nope"})
    call("get", "/queue", "/queue?site=blog")
    call("get", "/log", "/log?site=nowhere")
    call("get", "/comments", "/comments?status=lost")
    call("get", "/queue", "/queue?page=-1")
    call("get", "/log", "/log?moderator=x")
    call("get", "/comments/{id}", f"/comments/{blog}")
    call("get", "/comments/{id}", "/comments/999999")
    call("post", "/actions", data="{", content_type="application/json")
    call("post", "/actions", data="x", content_type="text/plain")
    call("post", "/actions", data="x" * 200_000, content_type="application/json")
    call("post", "/actions", json={"action": "shout", "ids": [news]})
    call("post", "/actions", json={"action": "approve", "ids": [news, 999999]})
    call("post", "/actions", json={"action": "approve", "ids": [blog]})
    call("post", "/actions", json={"action": "feature", "ids": [reply]})
    call("post", "/threads/{id}", f"/threads/{seeded['threads'][news]}", json={"closed": "yes"})
    call("post", "/threads/{id}", f"/threads/{seeded['threads'][blog]}", json={"closed": False})
    call("post", "/threads/{id}", "/threads/999999", json={"closed": False})
    call("post", "/bans", json={"site": "news", "email": "troll@news.example"})
    call("post", "/bans", json={"site": "news", "email": "admin@example.org"})
    call("post", "/bans", json={"site": "blog", "email": "a@example.net"})
    call("post", "/bans", json={"site": "nowhere", "email": "a@example.net"})
    call("post", "/bans", json={"site": "news", "ip": "not an address"})
    call("post", "/bans", json={"site": "news", "email": "a@example.net", "days": 0})
    call("post", "/bans/{id}/lift", f"/bans/{seeded['bans'][1]}/lift")
    call("post", "/bans/{id}/lift", "/bans/999999/lift")

    statuses = {status for *_, status in api.seen}
    assert statuses == {200, 201, 400, 401, 403, 404, 409, 413, 415, 422}


# --- Hostile input ----------------------------------------------------------------------

# Bodies that once got a 500 (text no database can hold, or longer than its column): each gets a
# documented refusal, and changes nothing.
HOSTILE = [
    pytest.param("/bans", {"site": "news", "email": "\ud800@x.example"}, id="surrogate-in-banned-email"),
    pytest.param("/bans", {"site": "news", "email": "a\x00@x.example"}, id="nul-in-banned-email"),
    pytest.param("/bans", {"site": "news", "email": "x" * 300}, id="banned-email-past-254"),
    pytest.param("/bans", {"site": "news", "email": "a@x.example", "reason": "\x00"}, id="nul-in-ban-reason"),
    pytest.param("/bans", {"site": "news", "email": "a@x.example", "reason": "\ud800"},
                 id="surrogate-in-ban-reason"),
    pytest.param("/actions", {"action": "approve", "ids": [1], "reason": "\x00"}, id="nul-in-action-reason"),
    pytest.param("/actions", {"action": "remove", "ids": [1], "reason": "\ud800"},
                 id="surrogate-in-action-reason"),
]


@pytest.mark.parametrize(("path", "body"), HOSTILE)
def test_hostile_bodies_get_a_documented_refusal_and_change_nothing(
        app: Flask, path: str, body: dict[str, Any]) -> None:
    seeded = _seed(app)
    before = _snapshot(app)
    api = Contract(app.test_client())
    api.call("post", f"{MOD}{path}", data=json.dumps(body), content_type="application/json",
             headers={"Authorization": f"Bearer {seeded['token']}"})
    assert {status for *_, status in api.seen} == {422}
    assert _snapshot(app) == before


# --- Fuzzing -----------------------------------------------------------------------------


@pytest.fixture
def fuzzed_mod_api(app: Flask) -> Iterator[tuple[Any, dict[str, Any]]]:
    """The document over the in-process app, its ids and sites narrowed to seeded ones (and one of
    each that does not exist), with a token of the news site's moderator."""
    seeded = _seed(app)
    doc = document()
    parameters = doc["components"]["parameters"]
    missing = 999_999
    for name, ids in (("CommentId", seeded["comments"]), ("BanId", seeded["bans"]),
                      ("ThreadId", sorted(set(seeded["threads"].values())))):
        parameters[name]["schema"] = {"type": "integer", "enum": [*ids, missing]}
    parameters["ModSite"]["schema"] = {"type": "string", "enum": ["news", "blog", "nowhere"]}
    actions = doc["paths"][f"{MOD}/actions"]["post"]["requestBody"]["content"]["application/json"]
    actions["schema"]["properties"]["ids"]["items"] = {"type": "integer",
                                                       "enum": [*seeded["comments"], missing]}
    bans = doc["paths"][f"{MOD}/bans"]["post"]["requestBody"]["content"]["application/json"]
    bans["schema"]["properties"]["site"] = {"type": "string", "enum": ["news", "blog"]}
    schema = schemathesis.openapi.from_dict(doc)
    schema.app = app
    yield schema, seeded


# Each moderation operation with valid input, and with input that breaks its schema (where it
# takes any).
FUZZED = [(path, method, mode) for path, item in document()["paths"].items()
          if path.startswith(MOD)
          for method, operation in item.items() if method in METHODS
          for mode in GenerationMode
          if mode.is_positive or operation.get("parameters") or item.get("parameters")
          or operation.get("requestBody")]


@pytest.mark.parametrize(("path", "method", "mode"), FUZZED)
def test_fuzzing_with_a_token_finds_no_server_error_and_no_change_by_a_refusal(
        app: Flask, fuzzed_mod_api: tuple[Any, dict[str, Any]], path: str, method: str,
        mode: GenerationMode) -> None:
    schema, seeded = fuzzed_mod_api
    operation = schema[path][method]
    auth = {"Authorization": f"Bearer {seeded['token']}"}

    @settings(max_examples=FUZZ_EXAMPLES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(operation.as_strategy(generation_mode=mode))
    def fuzz(case: Any) -> None:
        before = _snapshot(app)
        response = case.call_and_validate(headers=auth, checks=[
            not_a_server_error, status_code_conformance, content_type_conformance,
            response_schema_conformance])
        if response.status_code >= 400 or method == "get":
            assert _snapshot(app) == before, f"{method.upper()} {path} {response.status_code} changed data"

    fuzz()


def test_the_snapshot_sees_what_an_accepted_action_changes(app: Flask) -> None:
    seeded = _seed(app)
    before = _snapshot(app)
    response = app.test_client().post(
        f"{MOD}/actions", json={"action": "remove", "ids": [seeded["comments"][0]]},
        headers={"Authorization": f"Bearer {seeded['token']}"})
    assert response.status_code == 200
    after = _snapshot(app)
    assert after["comments"] != before["comments"]
    assert len(after["audit_log"]) == len(before["audit_log"]) + 1
