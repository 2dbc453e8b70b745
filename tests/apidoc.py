"""The OpenAPI document of the API, and a checker of real answers against it."""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012
from werkzeug.test import TestResponse

import comments

from .helpers import ORIGIN

DOCUMENT = Path(comments.__file__).parent / "static" / "openapi.json"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
DOC_URI = "urn:comments:openapi"


def document() -> dict[str, Any]:
    """The hand-written document, as the API serves it."""
    return json.loads(DOCUMENT.read_text())


def shape(path: str) -> str:
    """A path with its variables blanked: Flask's `<id:comment_id>` and OpenAPI's `{id}` agree."""
    return re.sub(r"<[^>]+>|\{[^}]+\}", "{}", path)


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def resolve(doc: dict[str, Any], pointer: str) -> Any:
    """The part of the document a local `#/...` reference names."""
    node: Any = doc
    for part in pointer.removeprefix("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


class Contract:
    """Checks real answers against what the document promises for their operation and status."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.doc = document()
        self.registry = Registry().with_resource(DOC_URI, DRAFT202012.create_resource(self.doc))
        self.seen: set[tuple[str, str, int]] = set()

    def call(self, method: str, template: str, path: str | None = None, **kwargs: Any) -> Any:
        """Send a request to `path` (default: `template`) and check its answer; return the JSON."""
        kwargs.setdefault("headers", {}).setdefault("Origin", ORIGIN)
        response = self.client.open(path or template, method=method.upper(), **kwargs)
        return self.check(method, template, response)

    def check(self, method: str, template: str, response: TestResponse) -> Any:
        """Fail unless the status is documented and the answer matches it; return the JSON."""
        status = str(response.status_code)
        responses = self.doc["paths"][template][method]["responses"]
        assert status in responses, f"{method.upper()} {template} answered {status}: undocumented"
        self.seen.add((template, method, response.status_code))
        pointer = f"#/paths/{_escape(template)}/{method}/responses/{status}"
        declared = responses[status]
        if "$ref" in declared:
            pointer = declared["$ref"]
            declared = resolve(self.doc, pointer)
        for header in declared.get("headers", {}):
            assert header in response.headers, f"{header} missing: {method.upper()} {template} {status}"
        if "content" not in declared:
            assert not response.data, f"{method.upper()} {template} {status} has an undeclared body"
            return None
        assert response.mimetype in declared["content"], response.mimetype
        schema = {"$ref": f"{DOC_URI}{pointer}/content/{_escape(response.mimetype)}/schema"}
        body = response.get_json()
        errors = list(Draft202012Validator(schema, registry=self.registry).iter_errors(body))
        assert not errors, f"{method.upper()} {template} {status}: {errors[0].message} in {body}"
        return body
