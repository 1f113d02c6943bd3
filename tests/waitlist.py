"""The waiting list's test scene: a facility whose one bed is booked, families waiting for it,
and the offer worker driven by the test (the app's own worker is off, so each step is seen)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, timedelta
from typing import Any

import httpx
import msgspec
import pytest

from respite.clock import ManualClock
from respite.settings import Settings
from respite.waitlist.worker import OfferWorker
from tests import builders
from tests.conftest import MakeToken, settings_for
from tests.domain_deps import opened_deps


def quiet_settings(database_url: str, redis_url: str) -> Settings:
    """The suite's settings with the app's offer worker off: tests run it themselves."""
    return msgspec.structs.replace(settings_for(database_url, redis_url), waitlist_worker=False)


@asynccontextmanager
async def offer_worker(settings: Settings, clock: ManualClock) -> AsyncIterator[OfferWorker]:
    async with opened_deps(settings, clock) as deps:
        yield OfferWorker(deps)


@pytest.fixture
def settings(database_url: str, redis_url: str) -> Settings:
    """The module's settings, for a module that imports this fixture: the offer worker off."""
    return quiet_settings(database_url, redis_url)


@pytest.fixture
async def worker(settings: Settings, clock: ManualClock) -> AsyncIterator[OfferWorker]:
    """The offer worker, for the test to drain when it chooses."""
    async with offer_worker(settings, clock) as running:
        yield running


class Family(msgspec.Struct):
    principal: int
    headers: dict[str, str]
    elder: int


class Scene(msgspec.Struct):
    facility: int
    bed: int
    booking: int
    staff: dict[str, str]
    first: date
    """The first night of the booked stay, ten days ahead."""
    last: date
    """Its check-out, a week later."""


async def scene(db: Any, make_token: MakeToken, *, sex_rule: str = "any") -> Scene:
    facility = await builders.facility(db)
    bed = await builders.bed(db, facility, price=30000, sex_rule=sex_rule, label="3F-12")
    first = builders.today() + timedelta(days=10)
    last = first + timedelta(days=7)
    booking = await builders.booking(db, bed, first, last)
    _, staff = await make_token("staff", facility_id=facility)
    return Scene(facility, bed, booking, staff, first, last)


async def family(db: Any, make_token: MakeToken, **elder: Any) -> Family:
    principal, headers = await make_token("family")
    recipient = await builders.recipient(db, family_id=principal.id, **elder)
    return Family(principal.id, headers, recipient)


def join_body(at: Scene, who: Family, **extra: Any) -> dict[str, Any]:
    return {
        "care_recipient_id": who.elder,
        "kind": "respite",
        "earliest_check_in": at.first.isoformat(),
        "latest_check_out": at.last.isoformat(),
        "nights": 7,
        "facility_ids": [at.facility],
        **extra,
    }


async def join(client: httpx.AsyncClient, at: Scene, who: Family, **extra: Any) -> dict[str, Any]:
    joined = await client.post(
        "/v1/waitlist", json=join_body(at, who, **extra), headers=who.headers
    )
    assert joined.status_code == 201, joined.text
    entry: dict[str, Any] = joined.json()
    return entry


async def entry(client: httpx.AsyncClient, who: Family, entry_id: int) -> dict[str, Any]:
    read = await client.get(f"/v1/waitlist/{entry_id}", headers=who.headers)
    assert read.status_code == 200, read.text
    found: dict[str, Any] = read.json()
    return found


async def cancel(client: httpx.AsyncClient, at: Scene, booking: int | None = None) -> None:
    done = await client.post(
        f"/v1/bookings/{booking or at.booking}/cancel",
        json={"reason": "plans changed"},
        headers=at.staff,
    )
    assert done.status_code == 200, done.text


async def accept(
    client: httpx.AsyncClient, who: Family, offer_id: int, key: str = "accept-1"
) -> httpx.Response:
    return await client.post(
        f"/v1/waitlist/offers/{offer_id}/accept",
        headers={**who.headers, "Idempotency-Key": key},
    )
