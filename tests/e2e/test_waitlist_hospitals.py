"""A hospital waits for a bed for its referral's patient: the app's own offer worker offers a
freed bed by itself, the hospital hears of it (and of its lapse) by signed callback, and
accepting books the referral."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from respite.app import create_app
from respite.settings import Settings
from tests import builders
from tests.conftest import MakeToken, serve_in_loop
from tests.e2e.test_referral_flow import fast
from tests.e2e.test_webhook_receiver import (
    Hospital,
    Receiver,
    RunningClock,
    Site,
    has_types,
    hospital,
    refer,
    register,
    site,
)


@pytest.fixture
def running() -> RunningClock:
    return RunningClock()


@pytest.fixture
async def rx(running: RunningClock) -> AsyncIterator[Receiver]:
    async with Receiver(running.timestamp) as receiver:
        yield receiver


def quick(settings: Settings, **extra: Any) -> Settings:
    return fast(settings, waitlist_poll_seconds=0.05, waitlist_sweep_seconds=0.1, **extra)


async def _waiting(
    http: httpx.AsyncClient, rx: Receiver, db: Any, make_token: MakeToken
) -> tuple[Hospital, Site, dict[str, Any], int]:
    _, admin = await make_token("admin")
    ward = await hospital(http, admin)
    await register(http, ward, rx)
    near = await site(db, make_token, beds=1)
    today = builders.today()
    booking = await builders.booking(db, near.beds[0], today, today + timedelta(days=5))
    created = await refer(http, ward)
    assert created.status_code == 201, created.text
    referral = created.json()["referral"]
    joined = await http.post(
        "/v1/waitlist",
        json={
            "care_recipient_id": referral["care_recipient_id"],
            "kind": "respite",
            "earliest_check_in": today.isoformat(),
            "latest_check_out": (today + timedelta(days=10)).isoformat(),
            "nights": 5,
            "facility_ids": [near.facility],
            "referral_id": referral["id"],
        },
        headers=ward.headers,
    )
    assert joined.status_code == 201, joined.text
    assert joined.json()["discharged_on"] == today.isoformat()  # the referral's discharge
    assert joined.json()["priority"] == "recent_discharge"
    return ward, near, referral, booking


async def test_a_hospital_hears_of_its_offer_and_books_it(
    settings: Settings, rx: Receiver, running: RunningClock, db: Any, make_token: MakeToken
) -> None:
    app = create_app(quick(settings), clock=running, configure_logs=False)
    async with serve_in_loop(app) as http:
        ward, near, referral, booking = await _waiting(http, rx, db, make_token)
        cancelled = await http.post(
            f"/v1/bookings/{booking}/cancel", json={"reason": "moved"}, headers=near.staff
        )
        assert cancelled.status_code == 200, cancelled.text
        await rx.wait_for(has_types("waitlist.offer_made"))
        made = rx.events()[0]
        offer = made["data"]["offer"]
        assert (made["data"]["referral_id"], made["data"]["referral_status"]) == (
            referral["id"],
            "open",
        )
        assert (offer["bed"]["id"], offer["status"]) == (near.beds[0], "open")
        accepted = await http.post(
            f"/v1/waitlist/offers/{offer['offer_id']}/accept",
            headers={**ward.headers, "Idempotency-Key": "take-it"},
        )
        assert accepted.status_code == 201, accepted.text
        await rx.wait_for(has_types("waitlist.offer_made", "booking.confirmed"))
        assert rx.events()[1]["data"]["referral_status"] == "booked"
        assert all(r.valid for r in rx.received)
        now = await http.get(f"/v1/referrals/{referral['id']}", headers=ward.headers)
        assert (now.json()["status"], now.json()["booking_id"]) == (
            "booked",
            accepted.json()["id"],
        )


async def test_a_hospital_hears_when_its_offer_lapses(
    settings: Settings, rx: Receiver, running: RunningClock, db: Any, make_token: MakeToken
) -> None:
    # Hospitals have hours by default; here, about two seconds.
    app = create_app(
        quick(settings, waitlist_offer_hours_hospital=0.0006), clock=running, configure_logs=False
    )
    async with serve_in_loop(app) as http:
        _, near, referral, booking = await _waiting(http, rx, db, make_token)
        cancelled = await http.post(
            f"/v1/bookings/{booking}/cancel", json={"reason": "moved"}, headers=near.staff
        )
        assert cancelled.status_code == 200, cancelled.text
        await rx.wait_for(has_types("waitlist.offer_made", "waitlist.offer_lapsed"))
        lapsed = rx.events()[1]["data"]["offer"]
        assert lapsed["status"] == "lapsed"
        assert rx.events()[1]["data"]["referral_id"] == referral["id"]
        assert lapsed["offer_id"] == rx.events()[0]["data"]["offer"]["offer_id"]
