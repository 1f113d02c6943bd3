"""The API reference a client can be built from: the served OpenAPI document is valid, says what
every operation, parameter and field is, and its examples are answers the schemas accept.

The walk lists exactly what is missing, one line each, so that whoever adds a route or a field
knows what to write and where (see ``respite/reference.py``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from openapi_schema_validator import OAS31Validator, oas31_format_checker
from openapi_spec_validator import validate

from respite.referral.model import EVENT_TYPES

Document = dict[str, Any]
Schema = dict[str, Any]
METHODS = ("get", "put", "post", "delete", "patch")
PROBLEM = "#/components/schemas/ProblemDetails"
WHERE_TO_WRITE = """
Write them where they live:
- an operation's summary: summary="A few words" in its route decorator (two words or more);
- its description: the handler's docstring;
- a parameter's: Parameter(description=...) (QueryParameter, HeaderParameter, PathParameter);
- a field's: Annotated[..., Meta(description=...)] on the Struct's field (shared words:
  respite/vocabulary.py);
- a schema's: the Struct's docstring.
"""


@pytest.fixture(scope="module")
async def document(shared_client: httpx.AsyncClient) -> Document:
    response = await shared_client.get("/schema/openapi.json")
    assert response.status_code == 200, response.text
    served: Document = response.json()
    return served


def operations(document: Document) -> Iterator[tuple[str, Schema]]:
    """Every operation as ``METHOD /path`` (webhooks as ``WEBHOOK name``), with its object."""
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                yield f"{method.upper()} {path}", item[method]
    for name, item in document.get("webhooks", {}).items():
        for method in METHODS:
            if method in item:
                yield f"WEBHOOK {name}", item[method]


def undescribed_properties(schema: Schema, where: str) -> Iterator[str]:
    """Every property of ``schema`` and of the schemas inside it without a description
    (a component is walked where it is defined, not where it is referenced)."""
    for name, member in schema.get("properties", {}).items():
        if not member.get("description"):
            yield f"{where}.{name}: no description"
        yield from undescribed_properties(member, f"{where}.{name}")
    for key in ("oneOf", "anyOf", "allOf"):
        for member in schema.get(key, []):
            yield from undescribed_properties(member, where)
    for key, step in (("items", "[]"), ("additionalProperties", "{}")):
        if isinstance(schema.get(key), dict):
            yield from undescribed_properties(schema[key], f"{where}{step}")


def missing_descriptions(document: Document) -> list[str]:
    missing: list[str] = []
    for label, operation in operations(document):
        if len((operation.get("summary") or "").split()) < 2:
            missing.append(f"{label}: no summary (Litestar's default is the handler's name)")
        if not operation.get("description"):
            missing.append(f"{label}: no description")
        for parameter in operation.get("parameters", []):
            where = f"{label} {parameter['in']} parameter {parameter['name']}"
            if not parameter.get("description"):
                missing.append(f"{where}: no description")
            missing += undescribed_properties(parameter.get("schema", {}), where)
        body = operation.get("requestBody", {})
        for media_type, media in body.get("content", {}).items():
            missing += undescribed_properties(media.get("schema", {}), f"{label} {media_type}")
    for name, schema in document["components"]["schemas"].items():
        if schema.get("type") == "object" and not schema.get("description"):
            missing.append(f"schema {name}: no description")
        missing += undescribed_properties(schema, f"schema {name}")
    return missing


def test_the_served_document_is_valid_openapi_3_1(document: Document) -> None:
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_every_operation_parameter_and_field_is_described(document: Document) -> None:
    missing = missing_descriptions(document)
    assert not missing, (
        f"{len(missing)} descriptions missing:\n" + "\n".join(missing) + (WHERE_TO_WRITE)
    )


def examples(document: Document) -> Iterator[tuple[str, Schema, Any]]:
    """Every example the document shows, where it is, and the schema it must match."""
    for label, operation in operations(document):
        for parameter in operation.get("parameters", []):
            for name, shown in parameter.get("examples", {}).items():
                yield f"{label} {parameter['name']} {name}", parameter["schema"], shown["value"]
        bodies = [("request", operation.get("requestBody", {}))]
        bodies += list(operation.get("responses", {}).items())
        for where, body in bodies:
            for media_type, media in body.get("content", {}).items():
                for name, shown in media.get("examples", {}).items():
                    schema = media["schema"]
                    if media_type == "text/csv":
                        schema = {"type": "string"}
                    yield f"{label} {where} {media_type} {name}", schema, shown["value"]


def test_every_example_is_what_its_schema_accepts(document: Document) -> None:
    found = list(examples(document))
    wrong = []
    for where, schema, value in found:
        # The components travel with the schema, so that its "#/components/..." resolve.
        validator = OAS31Validator(
            {**schema, "components": document["components"]}, format_checker=oas31_format_checker
        )
        wrong += [f"{where}: {error.message}" for error in validator.iter_errors(value)]
    assert wrong == []
    shown = {where.split(" ", 2)[1] for where, _, _ in found}
    # The main flows show theirs: search, hold, confirm, extend, elder, referral, callbacks.
    assert {
        "/v1/availability",
        "/v1/holds",
        "/v1/holds/{hold_id}/confirm",
        "/v1/holds/{hold_id}/extend",
        "/v1/care-recipients",
        "/v1/referrals",
        "/v1/facilities/{facility_id}/beds/import",
    } <= shown
    assert set(document["webhooks"]) == set(EVENT_TYPES)
    assert {name for name in shown if name in EVENT_TYPES} == set(EVENT_TYPES)


def test_answers_are_typed_and_every_error_is_a_problem(document: Document) -> None:
    untyped, not_problems = [], []
    for label, operation in operations(document):
        if label.startswith("WEBHOOK"):
            continue
        for status, answer in operation["responses"].items():
            content = answer.get("content", {})
            if (
                status.startswith("2")
                and status != "204"
                and not any(media.get("schema") for media in content.values())
            ):
                untyped.append(f"{label} {status}")
            if status.startswith(("4", "5")) and content != {
                "application/problem+json": {"schema": {"$ref": PROBLEM}}
            }:
                not_problems.append(f"{label} {status}")
    assert untyped == []
    assert not_problems == []
    holds = document["paths"]
    for path, status, answer in (
        ("/v1/holds", "201", "Hold"),
        ("/v1/holds/{hold_id}/confirm", "201", "Booking"),
        ("/v1/holds/{hold_id}/extend", "200", "HoldExtended"),
    ):
        content = holds[path]["post"]["responses"][status]["content"]["application/json"]
        assert content["schema"] == {"$ref": f"#/components/schemas/{answer}"}, path


def _header(operation: Schema, name: str) -> Schema:
    return next(p for p in operation["parameters"] if p["in"] == "header" and p["name"] == name)


def test_required_headers_and_tokens_are_marked(document: Document) -> None:
    paths = document["paths"]
    for path in ("/v1/holds/{hold_id}/confirm", "/v1/referrals"):
        key = _header(paths[path]["post"], "Idempotency-Key")
        assert key["required"] is True, path
        assert key["schema"]["type"] == "string"
    assert _header(paths["/v1/holds"]["post"], "Idempotency-Key")["required"] is False
    # Optional: without it the holder (or the facility, or an admin) releases a live hold.
    assert _header(paths["/v1/holds/{hold_id}"]["delete"], "Hold-Token")["required"] is False
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearer"] == {"type": "http", "scheme": "bearer"}
    # Said on each operation, where client generators read it (none reads the document's).
    open_to_all = {"GET /health/live", "GET /health/ready", "POST /v1/auth/register"}
    open_to_all |= {"POST /v1/auth/signin", "POST /v1/staff-invitations/accept"}
    open_to_all |= {"POST /v1/auth/codes", "POST /v1/auth/signin/code"}
    open_to_all |= {"POST /v1/auth/password/reset"}
    security = {label: op.get("security") for label, op in operations(document)}
    assert security.pop("GET /v1/availability") == [{}, {"bearer": []}]
    assert {label for label, needed in security.items() if needed is None} == open_to_all
    assert {str(needed) for label, needed in security.items() if label not in open_to_all} == {
        "[{'bearer': []}]",
        "[{}]",  # the callbacks respite sends: no token, a signature
    }
    assert all(needed == [{}] for label, needed in security.items() if "WEBHOOK" in label)
