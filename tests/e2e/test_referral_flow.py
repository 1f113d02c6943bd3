"""A hospital places a patient from discharge to departure, and hears of every step through
signed callbacks to a real receiver on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import msgspec
import pytest

from respite.app import create_app
from respite.settings import Settings
from tests.conftest import MakeToken, serve_in_loop
from tests.e2e.test_webhook_receiver import (
    Receiver,
    RunningClock,
    has_types,
    hold_and_confirm,
    hospital,
    refer,
    register,
    settled,
    site,
)


def fast(settings: Settings, **extra: Any) -> Settings:
    """The service as in development: callbacks to loopback, retries in milliseconds."""
    changes: dict[str, Any] = {
        "webhook_allow_loopback_http": True,
        "webhook_poll_seconds": 0.05,
        "webhook_timeout": 1.0,
        "webhook_backoff_scale": 0.002,
    }
    return msgspec.structs.replace(settings, **{**changes, **extra})


@pytest.fixture
def running() -> RunningClock:
    return RunningClock()


@pytest.fixture
async def rx(running: RunningClock) -> AsyncIterator[Receiver]:
    async with Receiver(running.timestamp) as receiver:
        yield receiver


@pytest.fixture
async def http(
    settings: Settings, rx: Receiver, running: RunningClock
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(fast(settings), clock=running, configure_logs=False)
    async with serve_in_loop(app) as client:
        yield client


async def test_a_hospital_refers_holds_confirms_and_hears_of_each_step(
    http: httpx.AsyncClient, rx: Receiver, db: Any, make_token: MakeToken
) -> None:
    _, admin = await make_token("admin")
    ward = await hospital(http, admin)
    await register(http, ward, rx)
    near = await site(db, make_token, lat=31.235)

    created = await refer(http, ward)
    assert created.status_code == 201, created.text
    answer = created.json()
    referral = answer["referral"]
    assert referral["status"] == "open"
    assert referral["contact"]["phone_last4"] == "0045"
    assert "6437" not in created.text and "310101194005011234" not in created.text
    best = answer["candidates"][0]
    assert best["rank"] == 1 and best["facility_id"] == near.facility
    bed = best["beds"][0]["bed_id"]
    assert bed in near.beds

    booking = await hold_and_confirm(http, ward, referral, bed, key="confirm-1")
    await rx.wait_for(has_types("referral.held", "booking.confirmed"))
    confirmed = rx.events()[1]
    assert confirmed["type"] == "booking.confirmed"
    assert confirmed["data"]["referral_id"] == referral["id"]
    assert confirmed["data"]["referral_status"] == "booked"
    assert confirmed["data"]["booking"]["id"] == booking["id"]
    assert confirmed["data"]["booking"]["bed"]["facility_id"] == near.facility
    assert confirmed["data"]["actor"] == {"party": "hospital", "role": "hospital"}
    assert all(r.valid for r in rx.received)

    checked_in = await http.post(f"/v1/bookings/{booking['id']}/check-in", headers=near.staff)
    assert checked_in.status_code == 200, checked_in.text
    await rx.wait_for(has_types("booking.checked_in"))
    assert rx.types() == ["referral.held", "booking.confirmed", "booking.checked_in"]
    assert rx.events()[2]["data"]["actor"]["party"] == "facility"
    assert all(r.valid for r in rx.received)
    assert len({r.headers["webhook-id"] for r in rx.received}) == len(rx.received) == 3

    now = await http.get(f"/v1/referrals/{referral['id']}", headers=ward.headers)
    assert (now.json()["status"], now.json()["booking_id"]) == ("admitted", booking["id"])
    deliveries = await settled(http, ward, 3)
    assert [(d["status"], d["attempts"]) for d in deliveries] == [("delivered", 1)] * 3


async def test_check_out_completes_and_a_cancelled_booking_reopens_the_referral(
    http: httpx.AsyncClient, rx: Receiver, db: Any, make_token: MakeToken
) -> None:
    _, admin = await make_token("admin")
    ward = await hospital(http, admin)
    await register(http, ward, rx)
    near = await site(db, make_token)
    referral = (await refer(http, ward)).json()["referral"]

    first = await hold_and_confirm(http, ward, referral, near.beds[0], key="c-1")
    cancelled = await http.post(
        f"/v1/bookings/{first['id']}/cancel",
        json={"reason": "bed closed for repairs"},
        headers=near.staff,
    )
    assert cancelled.status_code == 200, cancelled.text
    reopened = (await http.get(f"/v1/referrals/{referral['id']}", headers=ward.headers)).json()
    assert (reopened["status"], reopened["booking_id"]) == ("open", None)

    second = await hold_and_confirm(http, ward, referral, near.beds[1], key="c-2")
    await http.post(f"/v1/bookings/{second['id']}/check-in", headers=near.staff)
    out = await http.post(f"/v1/bookings/{second['id']}/check-out", headers=near.staff)
    assert out.status_code == 200, out.text
    await rx.wait_for(has_types("booking.checked_out"))
    assert rx.types() == [
        "referral.held",
        "booking.confirmed",
        "booking.cancelled",
        "referral.held",
        "booking.confirmed",
        "booking.checked_in",
        "booking.checked_out",
    ]
    cancel_event = rx.events()[2]["data"]
    assert cancel_event["actor"]["party"] == "facility"
    assert cancel_event["reason"] == "bed closed for repairs"
    assert cancel_event["referral_status"] == "open"
    assert rx.events()[-1]["data"]["referral_status"] == "completed"
    events = await http.get(f"/v1/referrals/{referral['id']}/events", headers=ward.headers)
    assert [e["id"] for e in events.json()] == [e["id"] for e in rx.events()]
