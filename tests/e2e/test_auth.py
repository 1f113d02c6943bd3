from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import msgspec
import pytest

from respite.app import create_app
from respite.auth.model import hash_password, hash_token, identifier_hash
from respite.clock import ManualClock
from respite.settings import Settings
from tests.conftest import MakeToken, serve_in_loop
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

    for login in ("13800138000", "+86 138-0013-8000", "138 0013 8000", " Zhang@example.TEST"):
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
    assert_problem(limited, 429, "rate-limited")
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


SPELLINGS = ("+86 138-0013-8000", "13800138000", "138 0013 8000", "008613800138000")
OWNER_PASSWORD = REGISTER["password"]


async def test_every_spelling_of_a_number_is_one_account(
    client: httpx.AsyncClient, db: Any
) -> None:
    registered = await client.post("/v1/auth/register", json={**REGISTER, "phone": "138 0013 8000"})
    assert registered.status_code == 201, registered.text
    for spelling in SPELLINGS:
        again = await client.post("/v1/auth/register", json={**REGISTER, "phone": spelling})
        assert_problem(again, 409, "account-exists")
        signed_in = await client.post(
            "/v1/auth/signin", json={"login": spelling, "password": OWNER_PASSWORD}
        )
        assert signed_in.status_code == 200, (spelling, signed_in.text)
    stored = await db.fetchval("SELECT phone_hash FROM principals")
    assert stored == identifier_hash("test-secret", "+8613800138000")


async def test_a_number_that_cannot_be_one_is_refused_at_registration(
    client: httpx.AsyncClient, db: Any
) -> None:
    refused = await client.post("/v1/auth/register", json={**REGISTER, "phone": "+86 12345"})
    problem = assert_problem(refused, 422, "invalid-input")
    assert [e["field"] for e in problem["errors"]] == ["phone"]
    assert await db.fetchval("SELECT count(*) FROM principals") == 0


async def test_an_account_kept_under_an_earlier_spelling_signs_in_and_moves_to_the_canonical_one(
    client: httpx.AsyncClient, db: Any
) -> None:
    """Before logins were canonical, "13800138000" was kept as typed."""
    await db.execute(
        "INSERT INTO principals (role, name, phone_hash, phone_last4, password_hash)"
        " VALUES ('family', 'Zhang Wei', $1, '8000', $2)",
        identifier_hash("test-secret", "13800138000"),
        hash_password(OWNER_PASSWORD),
    )
    again = await client.post("/v1/auth/register", json=REGISTER)
    assert_problem(again, 409, "account-exists")
    signed_in = await client.post(
        "/v1/auth/signin", json={"login": "+86 138-0013-8000", "password": OWNER_PASSWORD}
    )
    assert signed_in.status_code == 200, signed_in.text
    stored = await db.fetchval("SELECT phone_hash FROM principals")
    assert stored == identifier_hash("test-secret", "+8613800138000")


async def test_re_spelling_the_number_does_not_dodge_the_limit(client: httpx.AsyncClient) -> None:
    await client.post("/v1/auth/register", json=REGISTER)
    for attempt in range(10):
        wrong = {"login": SPELLINGS[attempt % len(SPELLINGS)], "password": "wrong password"}
        assert (await client.post("/v1/auth/signin", json=wrong)).status_code == 401
    for spelling in SPELLINGS:
        right = {"login": spelling, "password": OWNER_PASSWORD}
        assert_problem(await client.post("/v1/auth/signin", json=right), 429, "rate-limited")


@pytest.fixture
async def behind_proxy(settings: Settings, clock: ManualClock) -> AsyncIterator[httpx.AsyncClient]:
    """The app behind a reverse proxy on loopback (the test client's peer address)."""
    proxied = msgspec.structs.replace(
        settings, trusted_proxies=("127.0.0.0/8",), signin_limit_account_wide=25
    )
    async with serve_in_loop(create_app(proxied, clock=clock, configure_logs=False)) as http:
        yield http


async def _sign_in(
    client: httpx.AsyncClient, address: str, password: str, *, chain: str = ""
) -> httpx.Response:
    forwarded = f"{chain}, {address}" if chain else address
    return await client.post(
        "/v1/auth/signin",
        json={"login": "13800138000", "password": password},
        headers={"X-Forwarded-For": forwarded},
    )


async def test_an_attacker_locks_out_only_his_own_address(
    behind_proxy: httpx.AsyncClient,
) -> None:
    await behind_proxy.post("/v1/auth/register", json=REGISTER)
    attacker, owner = "203.0.113.7", "198.51.100.20"
    for _ in range(10):
        assert (await _sign_in(behind_proxy, attacker, "wrong password")).status_code == 401
    limited = await _sign_in(behind_proxy, attacker, OWNER_PASSWORD)
    assert_problem(limited, 429, "rate-limited")
    assert int(limited.headers["retry-after"]) >= 1
    # Writing another address to the left of the proxy's changes nothing.
    spoofed = await _sign_in(behind_proxy, attacker, "wrong password", chain=owner)
    assert_problem(spoofed, 429, "rate-limited")
    assert (await _sign_in(behind_proxy, owner, OWNER_PASSWORD)).status_code == 200


async def test_past_the_account_wide_cap_only_addresses_without_a_failure_may_try(
    behind_proxy: httpx.AsyncClient,
) -> None:
    await behind_proxy.post("/v1/auth/register", json=REGISTER)
    for attacker in ("203.0.113.1", "203.0.113.2", "203.0.113.3"):
        for _ in range(8):
            assert (await _sign_in(behind_proxy, attacker, "wrong password")).status_code == 401
    assert (await _sign_in(behind_proxy, "203.0.113.1", "wrong password")).status_code == 401
    # 25 wrong passwords, the cap: every address that failed is refused, though each is under
    # its own limit of 10...
    refused = await _sign_in(behind_proxy, "203.0.113.2", OWNER_PASSWORD)
    assert_problem(refused, 429, "rate-limited")
    # ...and a new one gets one try, as the owner does from home.
    assert (await _sign_in(behind_proxy, "203.0.113.4", "wrong password")).status_code == 401
    refused = await _sign_in(behind_proxy, "203.0.113.4", "wrong password")
    assert_problem(refused, 429, "rate-limited")
    assert (await _sign_in(behind_proxy, "198.51.100.20", OWNER_PASSWORD)).status_code == 200


async def test_forwarded_for_from_a_peer_that_is_not_a_trusted_proxy_is_ignored(
    client: httpx.AsyncClient,
) -> None:
    await client.post("/v1/auth/register", json=REGISTER)
    for index in range(10):
        wrong = await _sign_in(client, f"203.0.113.{index}", "wrong password")
        assert wrong.status_code == 401
    assert_problem(await _sign_in(client, "198.51.100.20", OWNER_PASSWORD), 429, "rate-limited")
