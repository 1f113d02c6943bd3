"""The business figures of ``/metrics``: holds placed, confirmed, released and expired; bookings
by status; overrides; callbacks pending and dead and how long the oldest has waited. Each is
moved through the API (or arranged in the tables, for callbacks) and read back from a scrape;
the purge folds old hold records into a tally without moving a count; and a database that
does not answer costs the scrape its figures, never the answer."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import datetime, timedelta
from importlib.metadata import version
from typing import Any

import httpx
import msgspec
import pytest
from prometheus_client.parser import text_string_to_metric_families

from respite.clock import ManualClock
from respite.db import connect, create_pool
from respite.retention import Purger
from respite.settings import Settings
from tests import builders
from tests.conftest import MakeToken
from tests.e2e.test_walk_in import OVERRIDE, body, open_desk, url
from tests.integration.test_webhook_worker import emit, outbox, referral

# The offer worker's sweep locks lapsing holds (FOR UPDATE SKIP LOCKED) every few seconds,
# and the purge rightly skips rows another transaction holds: off, so that this module's
# purge meets every hold record it counts.
from tests.waitlist import settings

__all__ = ["settings"]  # the module's settings, as a fixture

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def scrape(client: httpx.AsyncClient, headers: Mapping[str, str]) -> Samples:
    response = await client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def figure(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, tuple(sorted(labels.items())))]


HOLDS = ("placed", "confirmed", "released", "expired")


def holds(samples: Samples) -> dict[str, float]:
    return {what: figure(samples, f"respite_holds_{what}_total") for what in HOLDS}


class Scene(msgspec.Struct):
    bed: int
    recipient: int
    family: dict[str, str]
    admin: dict[str, str]


@pytest.fixture
async def scene(db: Any, make_token: MakeToken) -> Scene:
    facility = await builders.facility(db)
    bed = await builders.bed(db, facility)
    family, headers = await make_token("family")
    _, admin = await make_token("admin")
    recipient = await builders.recipient(db, family_id=family.id)
    return Scene(bed, recipient, headers, admin)


async def place(client: httpx.AsyncClient, scene: Scene, first: int) -> dict[str, Any]:
    return await builders.placed_hold(
        client, scene.family, elder=scene.recipient, bed=scene.bed, first=first, nights=3
    )


async def test_holds_placed_confirmed_released_and_expired_are_counted_and_survive_the_purge(
    client: httpx.AsyncClient, scene: Scene, settings: Settings, clock: ManualClock, db: Any
) -> None:
    assert holds(await scrape(client, scene.admin)) == dict.fromkeys(HOLDS, 0)
    confirmed, released, left = [await place(client, scene, first) for first in (10, 20, 30)]
    refused = await client.post("/v1/holds", json={}, headers=scene.family)
    assert refused.status_code == 422  # a refused hold is no hold
    assert holds(await scrape(client, scene.admin)) == {**dict.fromkeys(HOLDS, 0), "placed": 3}

    booked = await client.post(
        f"/v1/holds/{confirmed['hold_id']}/confirm",
        json={"token": confirmed["token"]},
        headers={**scene.family, "Idempotency-Key": "confirm-1"},
    )
    assert booked.status_code == 201, booked.text
    gone = await client.delete(
        f"/v1/holds/{released['hold_id']}",
        headers={**scene.family, "Hold-Token": released["token"]},
    )
    assert gone.status_code == 204
    counted = {"placed": 3, "confirmed": 1, "released": 1, "expired": 0}
    assert holds(await scrape(client, scene.admin)) == counted

    # Past its time to live the third hold may still be confirmed: not expired yet.
    clock.advance(timedelta(seconds=settings.hold_ttl_seconds + 1))
    assert holds(await scrape(client, scene.admin)) == counted
    # Past its maximum age it never can be; a confirm begun just before may still be ending,
    # for as long as a request may take.
    end = datetime.fromisoformat(left["max_expires_at"])
    clock.set(end + timedelta(seconds=1))
    assert holds(await scrape(client, scene.admin)) == counted
    clock.set(end + timedelta(seconds=settings.request_timeout + 1))
    counted["expired"] = 1
    assert holds(await scrape(client, scene.admin)) == counted

    clock.advance(timedelta(days=2))
    pool = await create_pool(settings, settings.database_url or "")
    try:
        purged = await Purger(pool, settings, clock=clock).purge()
    finally:
        await pool.close()
    assert (purged.hold_records, purged.uncounted_hold_ends) == (3, 0)
    assert await db.fetchval("SELECT count(*) FROM hold_starts") == 0
    assert await db.fetchval("SELECT count(*) FROM ended_holds") == 0
    assert holds(await scrape(client, scene.admin)) == counted


async def test_bookings_by_status_and_overrides_follow_walk_ins_and_cancellations(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken
) -> None:
    desk = await open_desk(db, make_token)
    _, admin = await make_token("admin")
    before = await scrape(client, admin)
    for status in ("confirmed", "checked_in", "checked_out", "cancelled", "no_show"):
        assert figure(before, "respite_bookings", status=status) == 0
    assert figure(before, "respite_overridden_bookings_total") == 0

    plain = await client.post(url(desk.facility), json=body(desk), headers=desk.headers)
    assert plain.status_code == 201, plain.text
    unassessed = await builders.recipient(db, facility_id=desk.facility, level=None)
    overridden = await client.post(
        url(desk.facility),
        json={
            **body(desk, start=5),
            "care_recipient_id": unassessed,
            "override_reason": OVERRIDE,
            "overrides": [{"code": "no_assessment"}],
        },
        headers=desk.headers,
    )
    assert overridden.status_code == 201, overridden.text
    cancelled = await client.post(
        f"/v1/bookings/{plain.json()['id']}/cancel",
        json={"reason": "the family changed its plans"},
        headers=desk.headers,
    )
    assert cancelled.status_code == 200, cancelled.text

    after = await scrape(client, admin)
    assert figure(after, "respite_bookings", status="confirmed") == 1
    assert figure(after, "respite_bookings", status="cancelled") == 1
    assert figure(after, "respite_overridden_bookings_total") == 1
    assert figure(after, "respite_overridden_rules_total", rule="no_assessment") == 1


async def test_callbacks_pending_and_dead_and_the_age_of_the_oldest_pending(
    client: httpx.AsyncClient, db: Any, clock: ManualClock, make_token: MakeToken
) -> None:
    _, admin = await make_token("admin")
    box = await outbox(db, "https://his.example.org/respite", "whsec_x")
    await emit(db, await referral(db, box), clock)
    clock.advance(timedelta(seconds=30))
    await emit(db, await referral(db, box), clock, 2)
    clock.advance(timedelta(seconds=60))
    first = await db.fetchval("SELECT min(id) FROM webhook_deliveries")
    await db.execute("UPDATE webhook_deliveries SET status = 'dead' WHERE id = $1", first)

    samples = await scrape(client, admin)
    assert figure(samples, "respite_webhook_deliveries", status="pending") == 2
    assert figure(samples, "respite_webhook_deliveries", status="dead") == 1
    assert figure(samples, "respite_webhook_oldest_pending_age_seconds") == 60

    await db.execute("UPDATE webhook_deliveries SET status = 'delivered' WHERE status = 'pending'")
    samples = await scrape(client, admin)
    assert figure(samples, "respite_webhook_deliveries", status="pending") == 0
    assert figure(samples, "respite_webhook_oldest_pending_age_seconds") == 0


async def test_a_database_that_does_not_answer_costs_the_scrape_its_figures_only(
    client: httpx.AsyncClient, database_url: str, make_token: MakeToken
) -> None:
    _, admin = await make_token("admin")
    blocker = await connect(database_url)
    try:
        async with blocker.transaction():
            await blocker.execute("LOCK TABLE hold_tally IN ACCESS EXCLUSIVE MODE")
            samples = await asyncio.wait_for(scrape(client, admin), 10)
    finally:
        await blocker.close()
    assert figure(samples, "respite_figures_up") == 0
    assert not any(name.startswith("respite_holds_") for name, _ in samples)
    assert any(name == "respite_db_pool_max" for name, _ in samples)  # what the process knows
    assert figure(samples, "respite_build_info", version=version("respite")) == 1

    samples = await scrape(client, admin)
    assert figure(samples, "respite_figures_up") == 1
    assert figure(samples, "respite_holds_placed_total") == 0
