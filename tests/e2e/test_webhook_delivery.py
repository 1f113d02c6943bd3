"""Callbacks that are never lost: a receiver that fails, times out and recovers; an app stopped
between the change and the delivery, or in the middle of one; two app processes sharing one
outbox; redeliveries; secret rotation; and callback URLs that must be refused."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from respite.app import create_app
from respite.referral.outbox import LockedReferral, write_event
from respite.referral.webhook_model import EventData, actor_of
from respite.settings import Settings
from tests import builders
from tests.conftest import MakeToken, serve_in_loop
from tests.e2e.test_problems import assert_problem
from tests.e2e.test_referral_flow import fast
from tests.e2e.test_webhook_receiver import (
    Hospital,
    Receiver,
    Reply,
    RunningClock,
    has_types,
    hold_and_confirm,
    hospital,
    refer,
    referral_body,
    register,
    settled,
    site,
    verify_signature,
)


@pytest.fixture
def running() -> RunningClock:
    return RunningClock()


@pytest.fixture
async def rx(running: RunningClock) -> AsyncIterator[Receiver]:
    async with Receiver(running.timestamp) as receiver:
        yield receiver


async def _two_referrals(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken, rx: Receiver
) -> tuple[Hospital, list[dict[str, Any]], Any]:
    """A hospital with an endpoint at ``rx``, two referred patients, each held and booked."""
    _, admin = await make_token("admin")
    ward = await hospital(client, admin)
    await register(client, ward, rx)
    near = await site(db, make_token)
    referrals = []
    for n, bed in enumerate(near.beds):
        patient = {**referral_body()["patient"], "national_id": f"31010119400501{n:04d}"}
        created = await refer(client, ward, key=f"ref-{n}", patient=patient)
        assert created.status_code == 201, created.text
        referral = created.json()["referral"]
        referral["booking"] = await hold_and_confirm(client, ward, referral, bed, key=f"c-{n}")
        referrals.append(referral)
    return ward, referrals, near


def by_referral(events: list[dict[str, Any]], referral_id: int) -> list[str]:
    return [e["type"] for e in events if e["data"]["referral_id"] == referral_id]


async def test_a_receiver_that_fails_then_times_out_then_recovers_gets_everything_in_order(
    settings: Settings, db: Any, make_token: MakeToken, rx: Receiver, running: RunningClock
) -> None:
    # The timeout leaves a loaded machine room for the prompt answers, not for the slow one.
    app = create_app(fast(settings, webhook_timeout=1.0), clock=running, configure_logs=False)
    # 500, then an answer too slow for the 1 s timeout, then 500 again, then all is well.
    rx.script = [Reply(500), Reply(200, delay=3.0), Reply(500)]
    async with serve_in_loop(app) as client:
        ward, referrals, near = await _two_referrals(client, db, make_token, rx)
        for referral in referrals:
            booking = referral["booking"]["id"]
            response = await client.post(f"/v1/bookings/{booking}/check-in", headers=near.staff)
            assert response.status_code == 200, response.text
        await rx.wait_for(
            has_types(*["referral.held", "booking.confirmed", "booking.checked_in"] * 2)
        )
        deliveries = await settled(client, ward, 6)
        assert {d["status"] for d in deliveries} == {"delivered"}
        assert sum(d["attempts"] for d in deliveries) == len(deliveries) + 3
        retried = [d for d in deliveries if d["attempts"] > 1]
        detail = await client.get(
            f"/v1/webhooks/deliveries/{retried[0]['id']}", headers=ward.headers
        )
        outcomes = [(a["status_code"], a["error"]) for a in detail.json()["attempts_made"]]
        assert outcomes[-1] == (200, None) and len(outcomes) >= 2

    events = rx.events()
    for referral in referrals:
        expected = ["referral.held", "booking.confirmed", "booking.checked_in"]
        assert by_referral(events, referral["id"]) == expected
    assert all(r.valid for r in rx.received)
    errors = {r.reply for r in rx.received[:3]}
    assert errors == {Reply(500), Reply(200, delay=3.0)}


async def test_an_event_written_before_a_restart_is_delivered_after_it(
    settings: Settings, db: Any, make_token: MakeToken, rx: Receiver, running: RunningClock
) -> None:
    before = create_app(fast(settings, webhook_worker=False), clock=running, configure_logs=False)
    async with serve_in_loop(before) as client:
        _, referrals, _ = await _two_referrals(client, db, make_token, rx)
    await asyncio.sleep(0.2)
    assert rx.received == []  # the change is committed; its callbacks are not sent yet
    assert (
        await db.fetchval("SELECT count(*) FROM webhook_deliveries WHERE status = 'pending'") == 4
    )

    after = create_app(fast(settings), clock=running, configure_logs=False)
    async with serve_in_loop(after) as client:
        await rx.wait_for(
            has_types("referral.held", "booking.confirmed", "referral.held", "booking.confirmed")
        )
    for referral in referrals:
        assert by_referral(rx.events(), referral["id"]) == ["referral.held", "booking.confirmed"]
    assert await db.fetchval("SELECT count(*) FROM webhook_attempts") == 4


async def test_an_app_stopped_mid_delivery_leaves_it_to_the_next_one(
    settings: Settings, db: Any, make_token: MakeToken, rx: Receiver, running: RunningClock
) -> None:
    rx.script = [Reply(200, delay=30)]  # the first callback hangs until the app stops
    first = create_app(fast(settings, webhook_timeout=30.0), clock=running, configure_logs=False)
    async with serve_in_loop(first) as client:
        _, admin = await make_token("admin")
        ward = await hospital(client, admin)
        await register(client, ward, rx)
        near = await site(db, make_token)
        referral = (await refer(client, ward)).json()["referral"]
        await hold_and_confirm(client, ward, referral, near.beds[0], key="c-1")
        await rx.wait_for(lambda got: len(got) == 1)
    interrupted = await db.fetchrow("SELECT attempt, error FROM webhook_attempts")
    assert (interrupted["attempt"], interrupted["error"]) == (1, "interrupted")

    second = create_app(fast(settings), clock=running, configure_logs=False)
    async with serve_in_loop(second):
        await rx.wait_for(has_types("referral.held", "booking.confirmed"))
    assert rx.types() == ["referral.held", "booking.confirmed"]


async def test_two_app_processes_share_one_outbox_without_a_duplicate_attempt(
    settings: Settings, db: Any, rx: Receiver, running: RunningClock
) -> None:
    hospital_id = await builders.hospital(db)
    principal = await builders.principal(db, "hospital", hospital_id=hospital_id)
    rx.secrets.append("whsec_" + "a" * 43 + "=")
    await db.execute(
        "INSERT INTO webhook_endpoints (hospital_id, url, secret, created_by) VALUES ($1, $2, $3, $4)",
        hospital_id,
        rx.url,
        rx.secrets[0],
        principal,
    )
    written = []
    for _ in range(20):
        recipient = await builders.recipient(db, hospital_id=hospital_id)
        referral_id = await db.fetchval(
            "INSERT INTO referrals (hospital_id, care_recipient_id, kind, discharge_date, nights,"
            " contact_name, created_by) VALUES ($1, $2, 'respite', $4, 5, 'Zhou', $3)"
            " RETURNING id",
            hospital_id,
            recipient,
            principal,
            builders.today(),
        )
        ref = LockedReferral(
            id=referral_id,
            hospital_id=hospital_id,
            care_recipient_id=recipient,
            status="open",
            booking_id=None,
        )
        data = EventData(
            referral_id=referral_id,
            referral_status="held",
            previous_status="open",
            care_recipient_id=recipient,
            actor=actor_of("hospital"),
        )
        for _ in range(3):
            async with db.transaction():
                written.append(await write_event(db, ref, "referral.held", data, running.now()))

    small = fast(settings, webhook_batch=4)
    # A receiver a little slow to answer: the outbox outlasts either app's start-up.
    rx.script = [Reply(200, delay=0.03)] * len(written)
    async with (
        serve_in_loop(create_app(small, clock=running, configure_logs=False)),
        serve_in_loop(create_app(small, clock=running, configure_logs=False)),
    ):
        await rx.wait_for(lambda got: len(got) >= len(written), seconds=30)
        await asyncio.sleep(0.3)  # time for a duplicate to show, were there one

    assert sorted(r.event["id"] for r in rx.received) == sorted(written)
    attempts = await db.fetch("SELECT delivery_id, worker FROM webhook_attempts")
    assert len(attempts) == len(written) == 60
    assert len({a["delivery_id"] for a in attempts}) == 60
    assert len({a["worker"] for a in attempts}) == 2


async def test_a_hospital_asks_for_a_redelivery_of_its_own_deliveries_only(
    settings: Settings, db: Any, make_token: MakeToken, rx: Receiver, running: RunningClock
) -> None:
    async with serve_in_loop(
        create_app(fast(settings), clock=running, configure_logs=False)
    ) as client:
        _, admin = await make_token("admin")
        ward = await hospital(client, admin)
        await register(client, ward, rx)
        other = await hospital(client, admin, "华山医院")
        referral = (await refer(client, ward)).json()["referral"]
        cancelled = await client.post(
            f"/v1/referrals/{referral['id']}/cancel",
            json={"reason": "patient stays in hospital"},
            headers=ward.headers,
        )
        assert cancelled.status_code == 200, cancelled.text
        await rx.wait_for(has_types("referral.cancelled"))
        (delivery,) = await settled(client, ward, 1)
        assert delivery["status"] == "delivered"

        foreign = await client.post(
            f"/v1/webhooks/deliveries/{delivery['id']}/redeliver", headers=other.headers
        )
        assert_problem(foreign, 404, "not-found")
        again = await client.post(
            f"/v1/webhooks/deliveries/{delivery['id']}/redeliver", headers=ward.headers
        )
        assert again.status_code == 202, again.text
        await rx.wait_for(lambda got: len(got) == 2)
        detail = await client.get(f"/v1/webhooks/deliveries/{delivery['id']}", headers=ward.headers)
        assert [a["attempt"] for a in detail.json()["attempts_made"]] == [1, 2]
    first, second = rx.received
    assert first.headers["webhook-id"] == second.headers["webhook-id"]  # de-duplicate by it
    assert first.body == second.body
    assert rx.types() == ["referral.cancelled"]


async def test_rotation_signs_with_both_secrets_and_a_disabled_endpoint_gets_nothing(
    settings: Settings, db: Any, make_token: MakeToken, rx: Receiver, running: RunningClock
) -> None:
    async with serve_in_loop(
        create_app(fast(settings), clock=running, configure_logs=False)
    ) as client:
        _, admin = await make_token("admin")
        ward = await hospital(client, admin)
        endpoint = await register(client, ward, rx)
        old = rx.secrets[0]
        rotated = await client.post(
            f"/v1/webhooks/endpoints/{endpoint}/rotate-secret", headers=ward.headers
        )
        assert rotated.status_code == 200, rotated.text
        new = rotated.json()["secret"]
        assert new != old and rotated.json()["previous_secret_valid_until"]
        referral = (await refer(client, ward)).json()["referral"]
        await client.post(
            f"/v1/referrals/{referral['id']}/cancel", json={"reason": "x"}, headers=ward.headers
        )
        (received,) = await rx.wait_for(lambda got: len(got) == 1)
        assert len(received.headers["webhook-signature"].split()) == 2
        assert verify_signature(old, received.headers, received.body, running.timestamp())
        assert verify_signature(new, received.headers, received.body, running.timestamp())

        gone = await client.delete(f"/v1/webhooks/endpoints/{endpoint}", headers=ward.headers)
        assert gone.status_code == 204
        listed = (await client.get("/v1/webhooks/endpoints", headers=ward.headers)).json()
        assert listed[0]["disabled_at"] is not None and "secret" not in listed[0]
        second = (
            await refer(
                client,
                ward,
                key="ref-2",
                patient={**referral_body()["patient"], "national_id": None},
            )
        ).json()
        await client.post(
            f"/v1/referrals/{second['referral']['id']}/cancel",
            json={"reason": "x"},
            headers=ward.headers,
        )
        await asyncio.sleep(0.3)
    assert len(rx.received) == 1
    assert await db.fetchval("SELECT count(*) FROM webhook_events") == 2


BAD_URLS = [
    ("http://93.184.215.14/hook", "https"),
    ("https://10.0.0.5/hook", "private"),
    ("https://169.254.169.254/latest/meta-data", "link-local"),
    ("https://127.0.0.1:8443/hook", "loopback"),
    ("https://[::1]/hook", "loopback"),
    ("https://[::ffff:192.168.1.20]/hook", "private"),
    ("https://0.0.0.0/hook", "unspecified"),
    ("https://224.0.0.1/hook", "multicast"),
    ("https://100.64.0.1/hook", "public"),
    ("https://localhost/hook", "loopback"),
    ("https://user:secret@93.184.215.14/hook", "credentials"),
    ("ftp://93.184.215.14/hook", "https"),
    ("https:///nohost", "host"),
    ("https://93.184.215.14:99999/hook", "port"),
    ("https://93.184.215.14:0/hook", "port"),
    ("https://name.invalid/hook", "resolve"),
    ("https://93.184.215.14/hooks/re\x01spite", "control character"),
    ("https://93.184.215.14/hooks/re\x7fspite", "control character"),
]


@pytest.fixture(scope="module")
async def shared_ward(shared_client: httpx.AsyncClient, shared_make_token: MakeToken) -> Hospital:
    """For the tests that are only refused: they share one database (see conftest)."""
    _, admin = await shared_make_token("admin")
    return await hospital(shared_client, admin)


async def _endpoints(db: Any) -> list[Any]:
    return [tuple(r) for r in await db.fetch("SELECT * FROM webhook_endpoints ORDER BY id")]


@pytest.mark.parametrize(("url", "why"), BAD_URLS)
async def test_a_callback_url_that_is_not_public_https_is_refused_and_nothing_stored(
    shared_client: httpx.AsyncClient, shared_db: Any, shared_ward: Hospital, url: str, why: str
) -> None:
    before = await _endpoints(shared_db)
    response = await shared_client.post(
        "/v1/webhooks/endpoints", json={"url": url}, headers=shared_ward.headers
    )
    problem = assert_problem(response, 422, "invalid-input")
    assert problem["errors"][0]["field"] == "url"
    assert why in problem["errors"][0]["message"].lower()
    assert await _endpoints(shared_db) == before


async def test_a_public_https_url_is_accepted_and_its_secret_shown_once(
    client: httpx.AsyncClient, make_token: MakeToken
) -> None:
    _, admin = await make_token("admin")
    ward = await hospital(client, admin)
    created = await client.post(
        "/v1/webhooks/endpoints",
        json={"url": "https://93.184.215.14/hooks/respite", "description": "HIS"},
        headers=ward.headers,
    )
    assert created.status_code == 201, created.text
    assert created.json()["secret"].startswith("whsec_")
    listed = (await client.get("/v1/webhooks/endpoints", headers=ward.headers)).json()
    assert [e["id"] for e in listed] == [created.json()["id"]] and "secret" not in listed[0]
    _, staff = await make_token("admin")
    forbidden = await client.get("/v1/webhooks/endpoints", headers=staff)
    assert_problem(forbidden, 403, "forbidden")
