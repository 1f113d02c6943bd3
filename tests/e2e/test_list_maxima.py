"""Every list a request carries has a documented maximum: the OpenAPI document gives each
request-body and query array a ``maxItems``, and a longer list is refused (422 naming the field)
before anything changes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import msgspec
import pytest

from respite.eligibility import CAPABILITIES, NEEDS, PRESETS
from tests import builders
from tests.conftest import MakeToken
from tests.e2e.test_problems import assert_problem

Schema = dict[str, Any]


class Found(msgspec.Struct):
    where: str
    bounded: bool


def arrays(schema: Schema, where: str, components: Schema, bound: bool = False) -> Iterator[Found]:
    """Every array ``schema`` may hold, and whether a ``maxItems`` bounds it (on it, or on the
    ``oneOf`` that wraps it, as Litestar writes an optional list)."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if f"<{name}>" not in where:  # a recursive schema is walked once
            yield from arrays(components[name], f"{where}<{name}>", components, bound)
        return
    bound = bound or "maxItems" in schema
    kinds = schema.get("type")
    if kinds == "array" or (isinstance(kinds, list) and "array" in kinds):
        yield Found(where, bound)
    for key in ("oneOf", "anyOf", "allOf"):
        for member in schema.get(key, []):
            yield from arrays(member, where, components, bound)
    if isinstance(schema.get("items"), dict):
        yield from arrays(schema["items"], f"{where}[]", components)
    for name, member in schema.get("properties", {}).items():
        yield from arrays(member, f"{where}.{name}", components)
    if isinstance(schema.get("additionalProperties"), dict):
        yield from arrays(schema["additionalProperties"], f"{where}{{}}", components)


def request_arrays(document: Schema) -> Iterator[Found]:
    components = document["components"]["schemas"]
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            route = f"{method.upper()} {path}"
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "query":
                    where = f"{route} ?{parameter['name']}"
                    yield from arrays(parameter.get("schema", {}), where, components)
            body = operation.get("requestBody", {})
            for media in body.get("content", {}).values():
                yield from arrays(media.get("schema", {}), f"{route} body", components)


async def test_every_request_array_documents_its_maximum(
    shared_client: httpx.AsyncClient,
) -> None:
    response = await shared_client.get("/schema/openapi.json")
    assert response.status_code == 200, response.text
    found = list(request_arrays(response.json()))
    assert [f.where for f in found if not f.bounded] == []
    # The walk really reaches them: bodies, nested bodies, maps of lists and query lists.
    where = {f.where for f in found}
    assert {
        "POST /v1/facilities/{facility_id}/beds body<NewBed>.capabilities",
        "PATCH /v1/beds/{bed_id} body<BedChanges>.capabilities",
        "POST /v1/referrals body<NewReferral>.patient<NewCareRecipient>.needs",
        "POST /v1/policies/{code}/versions body<PolicyPublication>.needs_capabilities{}",
        "GET /v1/facilities/{facility_id}/beds ?capability",
        "GET /v1/availability ?facility_id",
        "GET /v1/availability ?needs",
    } <= where


class Ward(msgspec.Struct):
    facility: int
    bed: int
    staff: dict[str, str]


async def open_ward(db: Any, make_token: MakeToken) -> Ward:
    facility = await builders.facility(db)
    bed = await builders.bed(db, facility)
    _, staff = await make_token("staff", facility_id=facility)
    return Ward(facility, bed, staff)


@pytest.fixture
async def ward(db: Any, make_token: MakeToken) -> Ward:
    return await open_ward(db, make_token)


@pytest.fixture(scope="module")
async def shared_ward(shared_db: Any, shared_make_token: MakeToken) -> Ward:
    """For the tests that only refuse: they share one database (see conftest)."""
    return await open_ward(shared_db, shared_make_token)


async def _beds(db: Any) -> list[Any]:
    beds = await db.fetch("SELECT * FROM beds ORDER BY id")
    return [*(dict(r) for r in beds), await db.fetchval("SELECT count(*) FROM audit_log")]


def _names(body: dict[str, Any]) -> list[str]:
    return [error["field"] for error in body["errors"]]


async def test_a_bed_with_a_10000_capabilities_list_is_refused_and_nothing_changes(
    client: httpx.AsyncClient, db: Any, ward: Ward
) -> None:
    before = await _beds(db)
    bed = {
        "kind": "respite",
        "label": "9F-01",
        "sex_rule": "any",
        "nightly_price": 20000,
        "capabilities": ["oxygen"] * 10_000,
    }
    created = await client.post(
        f"/v1/facilities/{ward.facility}/beds", json=bed, headers=ward.staff
    )
    assert _names(assert_problem(created, 422, "invalid-input")) == ["capabilities"]

    changes = {"capabilities": [*CAPABILITIES, "oxygen"]}
    edited = await client.patch(f"/v1/beds/{ward.bed}", json=changes, headers=ward.staff)
    assert _names(assert_problem(edited, 422, "invalid-input")) == ["capabilities"]
    assert await _beds(db) == before

    # Every known capability once is the longest list there is, and it is accepted.
    longest = {**bed, "capabilities": list(CAPABILITIES)}
    ok = await client.post(f"/v1/facilities/{ward.facility}/beds", json=longest, headers=ward.staff)
    assert ok.status_code == 201, ok.text
    assert ok.json()["capabilities"] == list(CAPABILITIES)


async def test_too_many_query_values_are_refused_naming_the_parameter(
    shared_client: httpx.AsyncClient, shared_ward: Ward
) -> None:
    capability: list[tuple[str, str | int | float | bool | None]]
    capability = [("capability", "oxygen")] * (len(CAPABILITIES) + 1)
    listed = await shared_client.get(
        f"/v1/facilities/{shared_ward.facility}/beds", params=capability, headers=shared_ward.staff
    )
    assert _names(assert_problem(listed, 422, "invalid-input")) == ["capability"]

    soon = builders.today() + timedelta(days=5)
    search: list[tuple[str, str | int | float | bool | None]] = [
        ("check_in", soon.isoformat()),
        ("check_out", (soon + timedelta(days=2)).isoformat()),
        ("near", "31.23,121.47"),
        *[("needs", "oxygen")] * (len(NEEDS) + 1),
    ]
    found = await shared_client.get("/v1/availability", params=search)
    assert _names(assert_problem(found, 422, "invalid-input")) == ["needs"]


async def test_a_policy_with_an_overlong_capability_list_is_refused_and_not_published(
    shared_client: httpx.AsyncClient, shared_db: Any, shared_make_token: MakeToken
) -> None:
    _, admin = await shared_make_token("admin")
    document: dict[str, Any] = msgspec.to_builtins(PRESETS["cn-respite"])
    start = builders.today() + timedelta(days=30)
    body = {
        **document,
        "effective_from": start.isoformat(),
        "needs_capabilities": {"oxygen": ["oxygen"] * (len(CAPABILITIES) + 1)},
    }
    before = await shared_db.fetchval("SELECT count(*) FROM policies")
    published = await shared_client.post(
        "/v1/policies/cn-respite/versions", json=body, headers=admin
    )
    assert _names(assert_problem(published, 422, "invalid-input")) == ["needs_capabilities[...]"]
    assert await shared_db.fetchval("SELECT count(*) FROM policies") == before
