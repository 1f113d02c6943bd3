"""Limits and hygiene: security headers, body cap, pagination caps, statement timeout, logs that
never carry secrets or personal identifiers, and an audit record for every write.

(The request time limit, 503 after ``request_timeout``, is proven in test_resilience.py.)
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import httpx
import msgspec
import pytest
from litestar import Litestar, get
from litestar.di import NamedDependency

from respite.app import create_app
from respite.deps import Deps
from respite.observability import SECURITY_HEADERS
from respite.settings import Settings
from tests import builders
from tests.conftest import MakeToken, serve_in_loop
from tests.e2e.test_problems import assert_problem

PASSWORD = "a long family password"
PHONE = "+86 139 8765 4321"
NATIONAL_ID = "11010519491231002X"
CONTACT_PHONE = "+86 137 2222 3333"


def required(path: str) -> dict[str, Any]:
    """Query parameters a list route needs before it looks at the page size."""
    if path == "/v1/facilities/{facility_id}/bookings":
        return {"q": "王"}
    if path != "/v1/availability":
        return {}
    soon = builders.today() + timedelta(days=5)
    return {
        "check_in": soon.isoformat(),
        "check_out": (soon + timedelta(days=2)).isoformat(),
        "near": "31.23,121.47",
    }


def assert_secure(response: httpx.Response, *, request_id: bool = True) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, (name, response.status_code)
    if request_id:
        assert response.headers.get("x-request-id"), response.status_code


@get("/test/boom", include_in_schema=False)
async def boom() -> None:
    raise RuntimeError("a bug")


@get("/test/sleep", include_in_schema=False)
async def sleep(deps: NamedDependency[Deps]) -> None:
    await deps.pool.execute("SELECT pg_sleep(5)")


@pytest.fixture
def test_app(settings: Settings) -> Litestar:
    """The app with a short statement timeout and two test-only routes."""
    app = create_app(
        msgspec.structs.replace(settings, db_statement_timeout_ms=200), configure_logs=False
    )
    app.register(boom)
    app.register(sleep)
    return app


async def test_security_headers_on_every_kind_of_answer(
    test_app: Litestar, make_token: MakeToken
) -> None:
    _, family = await make_token("family")
    async with serve_in_loop(test_app) as client:
        answers = [
            await client.get("/health/live"),
            await client.get("/v1/auth/me", headers=family),
            await client.get("/v1/auth/me"),
            await client.get("/v1/auth/me", headers={"Authorization": "Bearer nope"}),
            await client.get("/v1/facilities", headers=family),
            await client.get("/v1/bookings/999999", headers=family),
            await client.get("/no/such/route"),
            await client.post("/v1/auth/register", json={"name": 3}),
            await client.get("/test/boom"),
            await client.get("/schema/openapi.json"),
        ]
    assert [a.status_code for a in answers] == [200, 200, 401, 401, 403, 404, 404, 422, 500, 200]
    for answer in answers:
        # A path no route matches never reaches the middleware that assigns request ids.
        assert_secure(answer, request_id=answer.request.url.path != "/no/such/route")


async def test_body_over_the_cap_is_413_and_changes_nothing(
    client: httpx.AsyncClient, db: Any, settings: Settings
) -> None:
    before = await db.fetchval("SELECT count(*) FROM principals")
    padding = "x" * (settings.max_body_bytes + 1)
    body = {"name": "Li", "password": PASSWORD, "email": "li@example.test", "note": padding}
    response = await client.post("/v1/auth/register", json=body)
    assert_problem(response, 413, "body-too-large")
    assert_secure(response)
    assert await db.fetchval("SELECT count(*) FROM principals") == before


async def test_every_list_route_caps_its_page_size(
    client: httpx.AsyncClient, make_token: MakeToken, db: Any
) -> None:
    facility = await builders.facility(db)
    hospital = await builders.hospital(db)
    roles = [
        (await make_token("admin"))[1],
        (await make_token("hospital", hospital_id=hospital))[1],
        (await make_token("staff", facility_id=facility))[1],
        (await make_token("family"))[1],
    ]
    document = (await client.get("/schema/openapi.json")).json()
    capped = []
    for path, item in document["paths"].items():
        operation = item.get("get")
        limit = next(
            (p for p in (operation or {}).get("parameters", []) if p["name"] == "limit"), None
        )
        if limit is None:
            continue
        maximum = limit["schema"].get("maximum")
        assert maximum is not None, f"{path}: limit has no maximum"
        url = path.replace("{facility_id}", str(facility))
        params = {"limit": maximum + 1, **required(path)}
        for headers in roles:
            response = await client.get(url, params=params, headers=headers)
            if response.status_code != 403:
                break
        problem = assert_problem(response, 422, "invalid-input")
        assert "limit" in [e["field"] for e in problem["errors"]], (path, problem)
        capped.append(path)
    assert len(capped) >= 8, capped


async def test_long_statement_is_cancelled_with_503(test_app: Litestar) -> None:
    async with serve_in_loop(test_app) as client:
        response = await client.get("/test/sleep")
    assert_problem(response, 503, "busy")
    assert response.headers["retry-after"]
    assert_secure(response)


async def family_flow(client: httpx.AsyncClient, db: Any) -> dict[str, Any]:
    """Register, add an elder with a national ID, hold a bed, confirm, cancel."""
    facility = await builders.facility(db)
    bed = await builders.bed(db, facility)
    registered = await client.post(
        "/v1/auth/register", json={"name": "Li Hua", "password": PASSWORD, "phone": PHONE}
    )
    assert registered.status_code == 201, registered.text
    token = registered.json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    elder = {
        "name": "王秀英",
        "sex": "female",
        "birth_date": "1941-03-08",
        "home_lat": 31.23,
        "home_lon": 121.47,
        "emergency_contact_name": "李明",
        "emergency_contact_phone": CONTACT_PHONE,
        "national_id": NATIONAL_ID,
    }
    created = await client.post("/v1/care-recipients", json=elder, headers=headers)
    assert created.status_code == 201, created.text
    recipient = created.json()["id"]
    assessed = builders.today() - timedelta(days=10)
    await db.execute(
        "INSERT INTO assessments (care_recipient_id, total, base_level, level, assessed_on,"
        " valid_until) VALUES ($1, 50, 2, 2, $2, $3)",
        recipient,
        assessed,
        assessed + timedelta(days=365),
    )
    check_in = builders.today() + timedelta(days=7)
    held = await client.post(
        "/v1/holds",
        json={
            "care_recipient_id": recipient,
            "bed_id": bed,
            "check_in": check_in.isoformat(),
            "check_out": (check_in + timedelta(days=3)).isoformat(),
        },
        headers=headers,
    )
    assert held.status_code == 201, held.text
    hold = held.json()
    confirmed = await client.post(
        f"/v1/holds/{hold['hold_id']}/confirm",
        json={"token": hold["token"]},
        headers={**headers, "Idempotency-Key": "flow-confirm-1"},
    )
    assert confirmed.status_code == 201, confirmed.text
    booking = confirmed.json()["id"]
    cancelled = await client.post(
        f"/v1/bookings/{booking}/cancel", json={"reason": "plans changed"}, headers=headers
    )
    assert cancelled.status_code == 200, cancelled.text
    writes = [registered, created, held, confirmed, cancelled]
    return {
        "secrets": [token, hold["token"], PASSWORD, PHONE, NATIONAL_ID, CONTACT_PHONE],
        "writes": writes,
    }


def _variants(secret: str) -> list[str]:
    digits = "".join(ch for ch in secret if ch.isdigit())
    return [secret, digits] if len(digits) >= 8 else [secret]


async def test_logs_of_a_full_booking_carry_no_secret(
    client: httpx.AsyncClient, db: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        flow = await family_flow(client, db)
    records = caplog.records
    assert any(r.name == "respite.access" for r in records), "the access log was not captured"
    text = "\n".join(f"{r.getMessage()} {r.args!r} {vars(r)!r}" for r in records)
    for secret in flow["secrets"]:
        for variant in _variants(secret):
            assert variant not in text, f"a secret reached the logs: {variant[:4]}..."


async def test_every_write_of_the_flow_is_audited(client: httpx.AsyncClient, db: Any) -> None:
    flow = await family_flow(client, db)
    audited = {
        r["request_id"]
        for r in await db.fetch("SELECT request_id FROM audit_log WHERE request_id IS NOT NULL")
    }
    for response in flow["writes"]:
        request = response.request
        assert response.headers["x-request-id"] in audited, (request.method, request.url.path)


async def test_large_answers_are_gzipped_for_clients_that_accept_it(
    client: httpx.AsyncClient,
) -> None:
    large = await client.get("/schema/openapi.json", headers={"Accept-Encoding": "gzip"})
    assert large.headers["content-encoding"] == "gzip"
    assert large.json()["openapi"].startswith("3.1")  # httpx undid the gzip
    plain = await client.get("/schema/openapi.json", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    small = await client.get("/health/live", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in small.headers  # under 4 KiB: not worth it
