"""The OpenAPI document types every JSON answer: no 2xx JSON response is a bare object or array.

A route that returns a plain ``dict`` or ``list[dict]`` is documented by FastAPI as ``{"type":
"object", "additionalProperties": true}`` — "object", which tells a client nothing and lets
Schemathesis accept any body. Every 2xx ``application/json`` response must instead name a model
(a ``$ref`` to a component with properties), a list of them, or one of them or null.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel

from lotline.api.app import create_app


def _is_bare(schema: dict[str, Any], components: dict[str, Any]) -> bool:
    """True when ``schema`` promises nothing about the body's fields."""
    if "$ref" in schema:
        return _is_bare(components[schema["$ref"].rsplit("/", 1)[1]], components)
    if "anyOf" in schema or "oneOf" in schema:
        options = [s for s in schema.get("anyOf", schema.get("oneOf")) if s.get("type") != "null"]
        return not options or any(_is_bare(s, components) for s in options)
    kind = schema.get("type")
    if kind == "array":
        return "items" not in schema or _is_bare(schema["items"], components)
    if kind == "object" or not kind:
        return not schema.get("properties")
    return False  # a string, number or boolean says what it is


def untyped_json_responses(spec: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(method, path, status) of every 2xx JSON response whose schema is bare."""
    components = spec.get("components", {}).get("schemas", {})
    found = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for status, response in operation.get("responses", {}).items():
                media = response.get("content", {}).get("application/json")
                if status.startswith("2") and media is not None and _is_bare(media.get("schema") or {}, components):
                    found.append((method, path, status))
    return found


def test_every_json_success_response_names_its_fields():
    spec = create_app().openapi()
    assert untyped_json_responses(spec) == []


class _Row(BaseModel):
    name: str


def test_the_check_finds_a_bare_dict_a_list_of_dicts_and_an_open_model():
    app = FastAPI()

    class Open(BaseModel):
        model_config = {"extra": "allow"}

    @app.get("/bare")
    def bare() -> dict:
        return {}

    @app.get("/rows")
    def rows() -> list[dict]:
        return []

    @app.get("/open", response_model=Open)
    def open_() -> dict:
        return {}

    @app.get("/maybe", response_model=dict | None)
    def maybe() -> dict:
        return {}

    @app.get("/typed", response_model=list[_Row])
    def typed() -> list:
        return []

    @app.get("/typed-or-null", response_model=_Row | None)
    def typed_or_null() -> dict | None:
        return None

    found = {path for _method, path, _status in untyped_json_responses(app.openapi())}
    assert found == {"/bare", "/rows", "/open", "/maybe"}


def test_the_report_documents_match_the_models_the_document_names(session, client):
    # report.json and initial-report?format=json are written by the report code, not through a
    # response model, so their documented schema is checked here against real bodies
    from lotline.api.recall_schemas import InitialReport, RecallReport
    from lotline.recalls import service as recalls
    from tests.recalls.completion_support import active_recall
    from tests.worlds import build_world

    build_world(session)
    case, _run = active_recall(session)
    recalls.plan_all(session, case.id)
    for path, model in ((f"/recalls/{case.recall_number}/report.json", RecallReport),
                        (f"/recalls/{case.recall_number}/initial-report?format=json", InitialReport)):
        r = client.get(path)
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/json"), r.text
        body = r.json()
        assert set(body) == set(model.model_fields)
        model.model_validate(body)
