"""Each conflict of referrals and callbacks answers its own problem type with its members, and
changes nothing; a referral write that cannot get its lock in time is "busy" (503), never 500,
and a retry with the same key then succeeds."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import msgspec

from respite.app import create_app
from respite.clock import ManualClock
from respite.referral.webhook_service import MAX_ENDPOINTS
from respite.settings import Settings
from tests.conftest import MakeToken, serve_in_loop
from tests.e2e.test_problems import assert_problem
from tests.e2e.test_webhook_receiver import hospital, refer

PUBLIC_URL = "https://93.184.215.14/hooks/{}"


async def test_one_endpoint_more_than_allowed_is_refused_and_stores_nothing(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken
) -> None:
    _, admin = await make_token("admin")
    ward = await hospital(client, admin)
    for n in range(MAX_ENDPOINTS):
        created = await client.post(
            "/v1/webhooks/endpoints", json={"url": PUBLIC_URL.format(n)}, headers=ward.headers
        )
        assert created.status_code == 201, created.text
    extra = await client.post(
        "/v1/webhooks/endpoints", json={"url": PUBLIC_URL.format("x")}, headers=ward.headers
    )
    problem = assert_problem(extra, 409, "endpoint-limit-reached")
    assert problem["max_endpoints"] == MAX_ENDPOINTS
    assert await db.fetchval("SELECT count(*) FROM webhook_endpoints") == MAX_ENDPOINTS
    first = (await client.get("/v1/webhooks/endpoints", headers=ward.headers)).json()[0]
    gone = await client.delete(f"/v1/webhooks/endpoints/{first['id']}", headers=ward.headers)
    assert gone.status_code == 204
    again = await client.post(
        "/v1/webhooks/endpoints", json={"url": PUBLIC_URL.format("x")}, headers=ward.headers
    )
    assert again.status_code == 201, again.text


async def test_a_redelivery_while_the_delivery_is_attempted_is_refused(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken, clock: ManualClock
) -> None:
    _, admin = await make_token("admin")
    ward = await hospital(client, admin)
    registered = await client.post(
        "/v1/webhooks/endpoints", json={"url": PUBLIC_URL.format(1)}, headers=ward.headers
    )
    assert registered.status_code == 201, registered.text
    referral = (await refer(client, ward)).json()["referral"]
    cancelled = await client.post(
        f"/v1/referrals/{referral['id']}/cancel", json={"reason": "x"}, headers=ward.headers
    )
    assert cancelled.status_code == 200, cancelled.text
    delivery = await db.fetchval("SELECT id FROM webhook_deliveries")
    # Leased by a worker, as while it posts: its lease runs out in a minute by the app's clock.
    await db.execute(
        "UPDATE webhook_deliveries SET locked_until = $2, attempts = 1 WHERE id = $1",
        delivery,
        clock.now() + timedelta(minutes=1),
    )
    before = await db.fetchrow("SELECT * FROM webhook_deliveries")
    refused = await client.post(
        f"/v1/webhooks/deliveries/{delivery}/redeliver", headers=ward.headers
    )
    assert assert_problem(refused, 409, "delivery-in-flight")["delivery_id"] == delivery
    assert await db.fetchrow("SELECT * FROM webhook_deliveries") == before


async def test_a_cancel_waiting_too_long_for_the_referral_is_busy_and_changes_nothing(
    settings: Settings, db: Any, make_token: MakeToken, clock: ManualClock
) -> None:
    # lock_timeout follows the statement timeout (at most 3 s): a short wait.
    quick = msgspec.structs.replace(settings, db_statement_timeout_ms=300)
    app = create_app(quick, clock=clock, configure_logs=False)
    async with serve_in_loop(app) as client:
        _, admin = await make_token("admin")
        ward = await hospital(client, admin)
        referral = (await refer(client, ward)).json()["referral"]
        path = f"/v1/referrals/{referral['id']}/cancel"
        headers = {**ward.headers, "Idempotency-Key": "cancel-1"}
        events = await db.fetchval("SELECT count(*) FROM webhook_events")
        async with db.transaction():
            # Another request changing the referral holds its row.
            await db.execute("SELECT 1 FROM referrals WHERE id = $1 FOR UPDATE", referral["id"])
            busy = await client.post(path, json={"reason": "went home"}, headers=headers)
        problem = assert_problem(busy, 503, "busy")
        assert int(busy.headers["retry-after"]) >= 1 and problem["retry_after"] >= 1
        status = await db.fetchval("SELECT status FROM referrals WHERE id = $1", referral["id"])
        assert status == "open"
        assert await db.fetchval("SELECT count(*) FROM webhook_events") == events
        assert (
            await db.fetchval("SELECT count(*) FROM idempotency_keys WHERE key = 'cancel-1'") == 0
        )

        retried = await client.post(path, json={"reason": "went home"}, headers=headers)
        assert retried.status_code == 200, retried.text
        assert retried.json()["status"] == "cancelled"


async def test_concurrent_cancels_of_one_referral_cancel_it_once(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken
) -> None:
    _, admin = await make_token("admin")
    ward = await hospital(client, admin)
    referral = (await refer(client, ward)).json()["referral"]
    path = f"/v1/referrals/{referral['id']}/cancel"
    answers = await asyncio.gather(
        *(client.post(path, json={"reason": f"r{n}"}, headers=ward.headers) for n in range(8))
    )
    assert sorted(a.status_code for a in answers) == [200] + [409] * 7
    for refused in (a for a in answers if a.status_code == 409):
        assert assert_problem(refused, 409, "referral-step-not-allowed")["step"] == "cancel"
    events = await db.fetchval(
        "SELECT count(*) FROM webhook_events WHERE type = 'referral.cancelled'"
    )
    assert events == 1
