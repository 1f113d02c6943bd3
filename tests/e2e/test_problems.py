"""Every kind of bad input gets an RFC 9457 answer naming the field, and changes nothing."""

from typing import Any

import httpx
import pytest
from litestar import Litestar, get

from tests.conftest import serve_in_loop

PROBLEM = "application/problem+json"
GOOD = {"name": "Li Hua", "password": "a long password", "email": "li@example.test"}


def assert_problem(response: Any, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["type"] == f"/problems/{slug}"
    assert body["status"] == status
    assert body["title"] and body["detail"]
    return body


async def _principals(db: Any) -> int:
    return int(await db.fetchval("SELECT count(*) FROM principals"))


async def test_malformed_json(shared_client: httpx.AsyncClient, shared_db: Any) -> None:
    before = await _principals(shared_db)
    response = await shared_client.post(
        "/v1/auth/register", content=b'{"name": ', headers={"content-type": "application/json"}
    )
    assert_problem(response, 400, "malformed-body")
    assert await _principals(shared_db) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**GOOD, "name": 3}, "name"),
        ({**GOOD, "password": "short"}, "password"),
        ({**GOOD, "email": "not-an-email"}, "email"),
        ({**GOOD, "surprise": True}, "surprise"),
        ({**GOOD, "email": "li\u0000@example.cn"}, "email"),  # PostgreSQL text holds no NUL
        ({**GOOD, "name": "Li\u0000"}, "name"),
        ({"name": "Li", "password": "a long password"}, "email"),
        ({k: v for k, v in GOOD.items() if k != "password"}, "password"),
    ],
)
async def test_invalid_fields_are_named(
    shared_client: httpx.AsyncClient, shared_db: Any, body: dict[str, Any], field: str
) -> None:
    before = await _principals(shared_db)
    response = await shared_client.post("/v1/auth/register", json=body)
    problem = assert_problem(response, 422, "invalid-input")
    assert [e["field"] for e in problem["errors"]] == [field]
    assert problem["errors"][0]["message"]
    assert await _principals(shared_db) == before


async def test_wrong_type_is_refused_not_coerced(shared_client: httpx.AsyncClient) -> None:
    response = await shared_client.post(
        "/v1/auth/signin", json={"login": "a@b.cn", "password": 12345}
    )
    problem = assert_problem(response, 422, "invalid-input")
    assert problem["errors"][0]["field"] == "password"


async def test_body_over_the_cap_is_413(shared_client: httpx.AsyncClient) -> None:
    junk = b'{"name": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    response = await shared_client.post(
        "/v1/auth/register", content=junk, headers={"content-type": "application/json"}
    )
    assert_problem(response, 413, "body-too-large")


async def test_unknown_route_and_method(shared_client: httpx.AsyncClient) -> None:
    assert_problem(await shared_client.get("/v1/nothing-here"), 404, "not-found")
    assert_problem(await shared_client.delete("/health/live"), 405, "method-not-allowed")


# A fresh app: the test adds a route to it.
async def test_unexpected_error_is_500_with_an_id_and_nothing_internal(
    fresh_app: Litestar, caplog: pytest.LogCaptureFixture
) -> None:
    @get("/boom", exclude_from_auth=True)
    async def boom() -> None:
        raise RuntimeError("secret internal detail")

    fresh_app.register(boom)
    async with serve_in_loop(fresh_app) as client:
        response = await client.get("/boom")
    body = assert_problem(response, 500, "internal")
    assert "secret internal detail" not in response.text
    assert body["error_id"] in caplog.text
