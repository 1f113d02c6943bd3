from datetime import datetime, timedelta
from typing import Any

import httpx

from respite.auth.model import hash_token
from respite.clock import ManualClock
from respite.settings import Settings
from tests.conftest import MakeToken
from tests.e2e.test_problems import assert_problem

REGISTER = {"name": "Zhang Wei", "password": "a long password", "phone": "+86 138 0013 8000"}


async def test_register_then_sign_in_by_phone_and_email(client: httpx.AsyncClient, db: Any) -> None:
    registered = await client.post(
        "/v1/auth/register", json={**REGISTER, "email": "Zhang@Example.test"}
    )
    assert registered.status_code == 201, registered.text
    token = registered.json()["token"]
    me = await client.get("/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["role"] == "family" and me.json()["name"] == "Zhang Wei"

    for login in ("13800138000", "+86 138-0013-8000", "zhang@example.test"):
        login = "+8613800138000" if login == "13800138000" else login
        signed_in = await client.post(
            "/v1/auth/signin", json={"login": login, "password": "a long password"}
        )
        assert signed_in.status_code == 200, (login, signed_in.text)
    row = await db.fetchrow("SELECT phone_hash, phone_last4, password_hash FROM principals")
    assert row["phone_last4"] == "8000"
    assert b"13800138000" not in row["phone_hash"]
    assert "a long password" not in row["password_hash"]
    assert (
        await db.fetchval("SELECT count(*) FROM tokens WHERE token_hash = $1", hash_token(token))
        == 1
    )


async def test_duplicate_registration_is_409(client: httpx.AsyncClient, db: Any) -> None:
    assert (await client.post("/v1/auth/register", json=REGISTER)).status_code == 201
    before = await db.fetchval("SELECT count(*) FROM principals")
    again = await client.post("/v1/auth/register", json={**REGISTER, "name": "Another"})
    problem = assert_problem(again, 409, "account-exists")
    assert set(problem) == {"type", "title", "status", "detail", "instance"}
    assert await db.fetchval("SELECT count(*) FROM principals") == before


async def test_wrong_password_and_unknown_login_are_401(client: httpx.AsyncClient) -> None:
    await client.post("/v1/auth/register", json=REGISTER)
    wrong = await client.post(
        "/v1/auth/signin", json={"login": "+8613800138000", "password": "nope nope"}
    )
    unknown = await client.post(
        "/v1/auth/signin", json={"login": "who@example.test", "password": "x"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["detail"] == unknown.json()["detail"]


async def test_sign_in_is_rate_limited_per_account(client: httpx.AsyncClient) -> None:
    await client.post("/v1/auth/register", json=REGISTER)
    body = {"login": "+8613800138000", "password": "wrong password"}
    statuses = [(await client.post("/v1/auth/signin", json=body)).status_code for _ in range(11)]
    assert statuses[:10] == [401] * 10
    assert statuses[10] == 429
    limited = await client.post("/v1/auth/signin", json={**body, "password": "a long password"})
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) >= 1


async def test_expired_and_revoked_tokens_are_401(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken, clock: ManualClock
) -> None:
    _, headers = await make_token("admin")
    assert (await client.get("/v1/auth/me", headers=headers)).status_code == 200
    token = headers["Authorization"].split()[1]
    await db.execute(
        "UPDATE tokens SET expires_at = $1 WHERE token_hash = $2",
        clock.now() - timedelta(seconds=1),
        hash_token(token),
    )
    expired = await client.get("/v1/auth/me", headers=headers)
    assert expired.status_code == 401
    assert expired.headers["www-authenticate"].startswith("Bearer")

    _, headers = await make_token("admin")
    assert (await client.post("/v1/auth/signout", headers=headers)).status_code == 204
    assert (await client.get("/v1/auth/me", headers=headers)).status_code == 401


async def test_garbage_credentials_are_401(client: httpx.AsyncClient) -> None:
    for value in ("Bearer nonsense", "Basic abc", "Bearer "):
        response = await client.get("/v1/auth/me", headers={"Authorization": value})
        assert response.status_code == 401, value
    assert (await client.get("/v1/auth/me")).status_code == 401


async def test_a_token_expires_by_the_apps_clock(
    client: httpx.AsyncClient, clock: ManualClock, settings: Settings
) -> None:
    registered = await client.post("/v1/auth/register", json=REGISTER)
    headers = {"Authorization": f"Bearer {registered.json()['token']}"}
    expires = datetime.fromisoformat(registered.json()["expires_at"])
    assert expires == clock.now() + timedelta(days=settings.family_token_days)
    assert (await client.get("/v1/auth/me", headers=headers)).status_code == 200
    clock.set(expires - timedelta(seconds=1))
    assert (await client.get("/v1/auth/me", headers=headers)).status_code == 200
    clock.set(expires)
    assert (await client.get("/v1/auth/me", headers=headers)).status_code == 401
