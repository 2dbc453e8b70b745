"""The OpenAPI document: valid and complete; its public API true to real answers, and fuzzed."""
from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from openapi_spec_validator import validate as validate_openapi
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from comments.extensions import db
from comments.models import Ban, Comment, CommentStatus, Moderation, Site, Thread, utcnow
from comments.services.sites import create_site

from .apidoc import METHODS, Contract, document, resolve, shape
from .conftest import make_app
from .helpers import ORIGIN, comment_payload

# Examples per operation for the fuzzer: enough to reach every branch of the validation, and
# quick enough for `make test`.
FUZZ_EXAMPLES = 30


def _news(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(db.select(Site.id).filter_by(slug="news"))


def _change(app: Flask, model: type, row_id: int, **values: Any) -> None:
    with app.app_context():
        row = db.session.get(model, row_id)
        for name, value in values.items():
            setattr(row, name, value)
        db.session.commit()


# --- The document itself -----------------------------------------------------------------


def test_the_document_is_valid_openapi_3_1() -> None:
    doc = document()
    assert doc["openapi"].startswith("3.1.")
    validate_openapi(doc)


def test_the_api_serves_the_document(client: FlaskClient) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.get_json() == document()


def test_every_route_of_the_public_and_moderation_api_is_documented_and_nothing_else(
        app: Flask) -> None:
    routed = {
        (shape(rule.rule), method.lower())
        for rule in app.url_map.iter_rules() if rule.endpoint.split(".")[0] in ("api", "mod_api")
        for method in rule.methods or () if method not in ("HEAD", "OPTIONS")
    }
    documented = {
        (shape(path), method)
        for path, item in document()["paths"].items() for method in item if method in METHODS
    }
    assert routed == documented


def test_every_refusal_is_documented_as_the_error_shape() -> None:
    doc = document()
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            for status, declared in operation["responses"].items() if method in METHODS else ():
                if status.startswith("4"):
                    content = resolve(doc, declared["$ref"])["content"]["application/json"]
                    assert content["schema"] == {"$ref": "#/components/schemas/Error"}, (path, status)


# --- Real answers match it ---------------------------------------------------------------


def test_a_scripted_scenario_answers_as_documented(app: Flask, client: FlaskClient, site: Site) -> None:
    api = Contract(client)
    threads, comments_, one = "/api/v1/threads", "/api/v1/comments", "/api/v1/comments/{id}"
    votes, reports, counts = one + "/votes", one + "/reports", "/api/v1/counts"
    read = f"{threads}?site=news&article=story-1"

    assert api.call("get", threads, read)["comments"] == []
    top = api.call("post", comments_, json=comment_payload())
    token, top_id = top["edit_token"], top["comment"]["id"]
    reply = api.call("post", comments_, json=comment_payload(parent_id=top_id, author={"name": "Bo"}))
    more = [api.call("post", comments_, json=comment_payload(text=f"more {n}", url=None, title=None))
            ["comment"]["id"] for n in range(3)]
    page = api.call("get", threads, f"{read}&sort=newest&limit=2")
    api.call("get", threads, f"{read}&sort=newest&limit=2&cursor={page['next_cursor']}")
    nested = api.call("get", threads, f"{read}&root={top_id}")
    assert nested["comments"][0]["replies"][0]["id"] == reply["comment"]["id"]
    etag = client.get(read).headers["ETag"]
    api.call("get", threads, read, headers={"If-None-Match": etag})
    place = api.call("get", one, f"{comments_}/{reply['comment']['id']}")
    assert place["ancestors"] == [top_id]
    bearer = {"Authorization": f"Bearer {token}"}
    api.call("patch", one, f"{comments_}/{top_id}", json={"text": "edited"}, headers=bearer)
    reader = {"X-Comments-Reader": "k" * 20}
    api.call("post", votes, f"{comments_}/{top_id}/votes", json={"value": 1}, headers=reader)
    api.call("post", votes, f"{comments_}/{top_id}/votes", json={"value": 0}, headers=reader)
    api.call("post", reports, f"{comments_}/{top_id}/reports", json={"reason": "rude"})
    api.call("post", reports, f"{comments_}/{top_id}/reports", json={"reason": "rude"})
    assert api.call("get", counts, f"{counts}?site=news&article=story-1&article=none")["counts"] == {
        "story-1": 5, "none": 0}
    api.call("delete", one, f"{comments_}/{top_id}", headers=bearer)
    assert api.call("get", threads, read)["comments"][0]["status"] == "deleted"
    api.call("post", comments_, json=comment_payload(parent_id=more[0], text="under a removed one"))
    _change(app, Comment, more[0], status=CommentStatus.REMOVED)
    shown = api.call("get", threads, read)["comments"]
    assert [c["status"] for c in shown][:2] == ["deleted", "removed"]

    # A held comment: its poster sees it as pending with the edit token, nobody else does.
    _change(app, Site, _news(app), moderation=Moderation.PRE)
    held = api.call("post", comments_, json=comment_payload(text="wait for me"))
    assert held["status"] == "pending"
    held_path = f"{comments_}/{held['comment']['id']}"
    api.call("get", one, held_path, headers={"Authorization": f"Bearer {held['edit_token']}"})
    api.call("get", one, held_path)

    # Every refusal.
    api.call("post", comments_, data="{", content_type="application/json")
    api.call("post", comments_, data="text", content_type="text/plain")
    api.call("post", comments_, data="x" * 200_000, content_type="application/json")
    api.call("post", comments_, json=comment_payload(author={}))
    api.call("post", comments_, json=comment_payload(site="elsewhere"))
    api.call("post", comments_, json=comment_payload(parent_id=999_999))
    api.call("post", comments_, json=comment_payload(sso="not.a.token"))
    api.call("get", threads, read, headers={"Origin": "https://evil.example"})
    for query in ("&sort=sideways", "&limit=0", "&cursor=bogus", "&root=999999"):
        api.call("get", threads, read + query)
    api.call("get", threads, f"{threads}?site=news")
    api.call("get", counts, f"{counts}?site=news")
    api.call("get", one, f"{comments_}/999999")
    api.call("patch", one, f"{comments_}/{reply['comment']['id']}", json={"text": "x"}, headers=bearer)
    api.call("delete", one, f"{comments_}/{held['comment']['id']}")
    api.call("post", votes, f"{comments_}/{reply['comment']['id']}/votes", json={"value": -1})
    api.call("post", votes, f"{comments_}/{more[1]}/votes", json={"value": 2})
    api.call("post", votes, f"{comments_}/{held['comment']['id']}/votes", json={"value": 1})
    api.call("post", reports, f"{comments_}/{reply['comment']['id']}/reports", json={})
    with app.app_context():
        db.session.add(Ban(site_id=_news(app), email="ada@example.org", reason="spam"))
        thread = db.session.scalar(db.select(Thread).filter_by(article_key="story-1"))
        thread.closed_at = utcnow()
        db.session.commit()
    api.call("post", comments_, json=comment_payload(article="story-2"))
    api.call("post", comments_, json=comment_payload(author={"name": "Cy"}))
    _change(app, Site, _news(app), sso_secret="s" * 48)
    api.call("post", comments_, json=comment_payload(article="story-3", sso="not.a.token"))
    _change(app, Comment, held["comment"]["id"], created_at=utcnow() - timedelta(days=1))
    api.call("patch", one, held_path, json={"text": "late"},
             headers={"Authorization": f"Bearer {held['edit_token']}"})

    statuses = {status for *_, status in api.seen}
    assert statuses >= {200, 201, 304, 400, 401, 403, 404, 413, 415, 422}


def test_a_folded_page_answers_as_documented(app: Flask, client: FlaskClient, site: Site) -> None:
    api = Contract(client)
    threads, read = "/api/v1/threads", "/api/v1/threads?site=news&article=story-1"
    parent = api.call("post", "/api/v1/comments", json=comment_payload())["comment"]["id"]
    for n in range(4):
        api.call("post", "/api/v1/comments", json=comment_payload(parent_id=parent, text=f"r{n}"))
    assert api.call("get", threads, read)["comments"][0]["more_replies"] == 1
    assert "more_replies" not in api.call("get", threads, f"{read}&root={parent}")["comments"][0]


def test_a_rate_limited_answer_is_documented(tmp_path: Path, _postgres_schema: None) -> None:
    app = make_app(tmp_path, RATELIMIT_ENABLED=True, RATELIMIT_POST="1 per minute",
                   RATELIMIT_KEY_PREFIX=f"openapi-{uuid.uuid4().hex}")
    with app.app_context():
        create_site("news", "News Example", [ORIGIN])
    api = Contract(app.test_client())
    api.call("post", "/api/v1/comments", json=comment_payload())
    api.call("post", "/api/v1/comments", json=comment_payload(text="again"))
    assert ("/api/v1/comments", "post", 429) in api.seen
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_a_comment_kept_as_spam_is_only_ever_pending_to_its_poster(
        tmp_path: Path, _postgres_schema: None) -> None:
    app = make_app(tmp_path, SPAM_ENABLED=True)
    with app.app_context():
        create_site("news", "News Example", [ORIGIN])
    api = Contract(app.test_client())
    posted = api.call("post", "/api/v1/comments", json=comment_payload(homepage="http://bot.example"))
    bearer = {"Authorization": f"Bearer {posted['edit_token']}"}
    path = f"/api/v1/comments/{posted['comment']['id']}"
    api.call("patch", "/api/v1/comments/{id}", path, json={"text": "still"}, headers=bearer)
    api.call("get", "/api/v1/comments/{id}", path, headers=bearer)
    with app.app_context():
        assert db.session.get(Comment, posted["comment"]["id"]).status is CommentStatus.SPAM
        db.session.remove()
        db.engine.dispose()


# --- Hostile input ----------------------------------------------------------------------

FORGED_CURSOR = base64.urlsafe_b64encode(json.dumps(["oldest", "2020-01-01T00:00:00", 2**70])
                                         .encode()).decode().rstrip("=")
# Requests that once got a 500 (the fuzzer found the first two kinds): each gets a documented answer.
THREADS, READ = "/api/v1/threads", "/api/v1/threads?site=news&article="
HOSTILE = [
    pytest.param("get", THREADS, f"{READ}new&cursor=%0A", None, id="newline-in-cursor"),
    pytest.param("get", THREADS, f"{READ}new&cursor=%22", None, id="quote-in-cursor"),
    pytest.param("get", THREADS, f"{READ}story-1&cursor={FORGED_CURSOR}", None,
                 id="cursor-past-64-bits"),
    pytest.param("get", THREADS, f"{READ}story-1&limit=%C2%B2", None, id="superscript-digit-limit"),
    pytest.param("get", THREADS, f"{READ}story-1&limit={'9' * 5000}", None, id="5000-digit-limit"),
    pytest.param("get", THREADS, f"{READ}%00", None, id="nul-in-article"),
    pytest.param("get", THREADS, "/api/v1/threads?site=%00&article=story-1", None, id="nul-in-site"),
    pytest.param("get", "/api/v1/counts", "/api/v1/counts?site=news&article=%00", None,
                 id="nul-in-counted-article"),
    pytest.param("post", "/api/v1/comments", None, {"site": "\x00"}, id="nul-in-posted-site"),
    pytest.param("post", "/api/v1/comments", None, {"site": "\ud800"}, id="surrogate-in-posted-site"),
    pytest.param("post", "/api/v1/comments", None, {"sso": "\ud800"}, id="surrogate-in-sso-token"),
    pytest.param("patch", "/api/v1/comments/{id}", "/api/v1/comments/4294967296", {"text": "x"},
                 id="id-past-32-bits"),
    pytest.param("delete", "/api/v1/comments/{id}", "/api/v1/comments/0", None, id="id-zero"),
]


@pytest.mark.parametrize(("method", "template", "path", "fields"), HOSTILE)
def test_hostile_input_gets_a_documented_answer(app: Flask, client: FlaskClient, site: Site,
                                               method: str, template: str, path: str | None,
                                               fields: dict[str, Any] | None) -> None:
    _change(app, Site, _news(app), sso_secret="s" * 48)
    client.post("/api/v1/comments", json=comment_payload(), headers={"Origin": ORIGIN})
    data = None if fields is None else json.dumps(comment_payload(**fields) if path is None else fields)
    api = Contract(client)
    api.call(method, template, path, data=data, content_type="application/json" if data else None)
    assert all(status < 500 for *_, status in api.seen), api.seen


# --- Fuzzing -----------------------------------------------------------------------------


@pytest.fixture
def fuzzed_api(app: Flask, site: Site) -> Iterator[Any]:
    """The document over the in-process app, its `site` narrowed to the seeded one, with comments."""
    client = app.test_client()
    for n in range(3):
        response = client.post("/api/v1/comments", json=comment_payload(text=f"seed {n}"))
        assert response.status_code == 201
    doc = document()
    doc["components"]["parameters"]["Site"]["schema"]["enum"] = ["news"]
    doc["components"]["schemas"]["NewComment"]["properties"]["site"]["enum"] = ["news"]
    schema = schemathesis.openapi.from_dict(doc)
    schema.app = app
    yield schema


# Each operation with valid input, and with input that breaks its schema (where it takes any).
FUZZED = [(path, method, mode) for path, item in document()["paths"].items()
          if not path.startswith("/api/v1/mod/")
          for method, operation in item.items() if method in METHODS
          for mode in GenerationMode
          if mode.is_positive or operation.get("parameters") or item.get("parameters")
          or operation.get("requestBody")]


@pytest.mark.parametrize(("path", "method", "mode"), FUZZED)
def test_fuzzing_finds_no_server_error_and_no_undocumented_answer(
        fuzzed_api: Any, path: str, method: str, mode: GenerationMode) -> None:
    operation = fuzzed_api[path][method]

    @settings(max_examples=FUZZ_EXAMPLES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(operation.as_strategy(generation_mode=mode))
    def fuzz(case: Any) -> None:
        case.call_and_validate(checks=[not_a_server_error, status_code_conformance,
                                       content_type_conformance, response_schema_conformance])

    fuzz()
