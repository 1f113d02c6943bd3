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
from openapi_spec_validator import validate

Document = dict[str, Any]
Schema = dict[str, Any]
METHODS = ("get", "put", "post", "delete", "patch")
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
