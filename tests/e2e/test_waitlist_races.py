"""The waiting list under races and faults: an offer's accept against a walk-in, two beds freed
at once, an owner leaving while accepting, two workers (and two app processes) on one outbox,
and Redis lost while offers are live. The database stands between every double booking."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest

from respite.app import create_app
from respite.clock import ManualClock
from respite.dev.servers import LocalRedis
from respite.settings import Settings
from respite.waitlist.worker import OfferWorker
from tests import builders
from tests.conftest import MakeToken, serve_in_loop
from tests.folders import scratch_folder
from tests.waitlist import (  # the fixtures: the app's offer worker off
    accept,
    cancel,
    entry,
    family,
    join,
    offer_worker,
    scene,
    settings,
    worker,
)

__all__ = ["settings", "worker"]  # fixtures shared with tests/waitlist.py


async def test_accept_racing_a_walk_in_one_wins_and_the_loser_is_told(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken, worker: OfferWorker
) -> None:
    for round_ in range(6):
        at = await scene(db, make_token)
        spare = await builders.bed(db, at.facility, label=f"spare-{round_}")
        await builders.booking(db, spare, at.first, at.last)
        daughter = await family(db, make_token)
        joined = await join(client, at, daughter)
        await cancel(client, at)
        await worker.drain()
        offer = (await entry(client, daughter, joined["id"]))["offer"]
        walk_in_elder = await builders.recipient(db, facility_id=at.facility)
        walk_in = {
            "care_recipient_id": walk_in_elder,
            "bed_id": at.bed,
            "check_in": at.first.isoformat(),
            "check_out": at.last.isoformat(),
        }
        accepted, walked = await asyncio.gather(
            accept(client, daughter, offer["id"], key=f"a{round_}"),
            client.post(f"/v1/facilities/{at.facility}/walk-ins", json=walk_in, headers=at.staff),
        )
        assert sorted((accepted.status_code, walked.status_code)) == [201, 409], (
            accepted.text,
            walked.text,
        )
        bookings = await db.fetchval(
            "SELECT count(*) FROM bookings WHERE bed_id = $1 AND status = 'confirmed'", at.bed
        )
        assert bookings == 1
        if accepted.status_code == 409:
            problem = accepted.json()
            assert (problem["type"], problem["reason"]) == ("/problems/offer-lost", "bed_taken")
            assert "next free bed" in problem["detail"]
            waiting = await entry(client, daughter, joined["id"])
            assert (waiting["status"], waiting["offer"]) == ("waiting", None)
            # The next free bed is offered again: the spare frees up, and the entry gets it.
            await cancel(
                client,
                at,
                await db.fetchval("SELECT id FROM bookings WHERE bed_id = $1", spare),
            )
            await worker.drain()
            again = await entry(client, daughter, joined["id"])
            assert (again["status"], again["offer"]["bed_id"]) == ("offered", spare)
        else:
            assert walked.json()["type"] == "/problems/bed-taken"


async def test_two_beds_freed_at_once_go_to_two_entries(
    client: httpx.AsyncClient,
    db: Any,
    make_token: MakeToken,
    settings: Settings,
    clock: ManualClock,
) -> None:
    at = await scene(db, make_token)
    second_bed = await builders.bed(db, at.facility)
    second_booking = await builders.booking(db, second_bed, at.first, at.last)
    families = [await family(db, make_token) for _ in range(3)]
    entries = [await join(client, at, f) for f in families]
    await cancel(client, at)
    await cancel(client, at, second_booking)
    async with offer_worker(settings, clock) as one, offer_worker(settings, clock) as two:
        await asyncio.gather(one.drain(), two.drain())
    offered = await db.fetch(
        "SELECT entry_id, bed_id FROM waitlist_offers WHERE status = 'open' ORDER BY entry_id"
    )
    assert [r["entry_id"] for r in offered] == [entries[0]["id"], entries[1]["id"]]
    assert {r["bed_id"] for r in offered} == {at.bed, second_bed}
    third = await entry(client, families[2], entries[2]["id"])
    assert third["status"] == "waiting"


async def test_an_owner_leaving_while_accepting_gets_no_booking_or_a_booked_entry(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken, worker: OfferWorker
) -> None:
    outcomes = set()
    for round_ in range(6):
        at = await scene(db, make_token)
        daughter = await family(db, make_token)
        joined = await join(client, at, daughter)
        await cancel(client, at)
        await worker.drain()
        offer = (await entry(client, daughter, joined["id"]))["offer"]
        accepted, left = await asyncio.gather(
            accept(client, daughter, offer["id"], key=f"r{round_}"),
            client.post(f"/v1/waitlist/{joined['id']}/leave", headers=daughter.headers),
        )
        booked = await db.fetchval(
            "SELECT count(*) FROM bookings WHERE care_recipient_id = $1 AND status = 'confirmed'",
            daughter.elder,
        )
        final = await entry(client, daughter, joined["id"])
        if accepted.status_code == 201:
            # Accepted first: the entry is booked, and leaving it after is refused.
            assert (left.status_code, booked, final["status"]) == (409, 1, "booked")
        else:
            assert (accepted.status_code, accepted.json()["type"]) == (409, "/problems/offer-ended")
            assert (left.status_code, booked, final["status"]) == (200, 0, "left")
        outcomes.add(accepted.status_code)
    assert outcomes <= {201, 409}


async def test_two_workers_on_one_outbox_make_each_offer_once(
    client: httpx.AsyncClient,
    db: Any,
    make_token: MakeToken,
    settings: Settings,
    clock: ManualClock,
) -> None:
    at = await scene(db, make_token)
    bookings = [at.booking]
    for _ in range(9):
        bed = await builders.bed(db, at.facility)
        bookings.append(await builders.booking(db, bed, at.first, at.last))
    families = [await family(db, make_token) for _ in range(14)]
    for f in families:
        await join(client, at, f)
    for booking in bookings:
        await cancel(client, at, booking)
    async with offer_worker(settings, clock) as one, offer_worker(settings, clock) as two:
        await asyncio.gather(one.drain(), two.drain(), one.drain(), two.drain())
    await _check_one_offer_each(db, expected=10)


async def _check_one_offer_each(db: Any, expected: int) -> None:
    offers = await db.fetch("SELECT entry_id, bed_id, job_id FROM waitlist_offers")
    assert len(offers) == expected
    assert len({o["entry_id"] for o in offers}) == expected  # never two to one entry
    assert len({o["bed_id"] for o in offers}) == expected  # never one bed's nights twice
    assert await db.fetchval("SELECT count(*) FROM waitlist_jobs WHERE done_at IS NULL") == 0


@pytest.fixture
def private_dir() -> Iterator[Path]:
    with scratch_folder("respite-waitlist-") as folder:
        yield folder


async def test_offers_live_through_redis_lost_and_back(
    settings: Settings,
    db: Any,
    make_token: MakeToken,
    private_dir: Path,
    clock: ManualClock,
) -> None:
    own = LocalRedis(private_dir / "redis")
    own.start()
    settings = msgspec.structs.replace(settings, redis_url=own.url, redis_timeout=0.5)
    app = create_app(settings, clock=clock, configure_logs=False)
    try:
        async with serve_in_loop(app) as client, offer_worker(settings, clock) as worker:
            at = await scene(db, make_token)
            other_bed = await builders.bed(db, at.facility)
            other_booking = await builders.booking(db, other_bed, at.first, at.last)
            first, second = await family(db, make_token), await family(db, make_token)
            one = await join(client, at, first)
            two = await join(client, at, second)
            await cancel(client, at)
            await worker.drain()
            offer = (await entry(client, first, one["id"]))["offer"]

            own.kill()
            # Redis away: nights freed now are not lost, only delayed.
            await cancel(client, at, other_booking)
            await worker.drain()
            job = await db.fetchrow(
                "SELECT attempts, done_at FROM waitlist_jobs WHERE bed_id = $1 AND kind = 'freed'",
                other_bed,
            )
            assert (job["attempts"], job["done_at"]) == (1, None)
            own.start(port=own.port)  # back, and empty: it kept nothing

            clock.advance(timedelta(minutes=5))  # past the retry's delay
            await worker.drain()
            # The live offer is held again, so nobody else can hold its bed meanwhile ...
            stranger = await family(db, make_token)
            held = await client.post(
                "/v1/holds",
                json={
                    "care_recipient_id": stranger.elder,
                    "bed_id": at.bed,
                    "check_in": at.first.isoformat(),
                    "check_out": at.last.isoformat(),
                },
                headers=stranger.headers,
            )
            assert (held.status_code, held.json()["type"]) == (409, "/problems/bed-held")
            # ... the delayed one was made, once, to the next in line ...
            later = await entry(client, second, two["id"])
            assert (later["status"], later["offer"]["bed_id"]) == ("offered", other_bed)
            # ... and the first offer still books.
            booked = await accept(client, first, offer["id"])
            assert booked.status_code == 201, booked.text
        await _check_one_offer_each(db, expected=2)
    finally:
        own.stop()


async def test_an_offer_whose_bed_was_walked_in_first_is_lost_and_the_next_bed_offered(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken, worker: OfferWorker
) -> None:
    at = await scene(db, make_token)
    spare = await builders.bed(db, at.facility, label="spare")
    spare_booking = await builders.booking(db, spare, at.first, at.last)
    daughter = await family(db, make_token)
    joined = await join(client, at, daughter)
    await cancel(client, at)
    await worker.drain()
    offer = (await entry(client, daughter, joined["id"]))["offer"]
    walk_in = {
        "care_recipient_id": await builders.recipient(db, facility_id=at.facility),
        "bed_id": at.bed,
        "check_in": at.first.isoformat(),
        "check_out": at.last.isoformat(),
    }
    walked = await client.post(
        f"/v1/facilities/{at.facility}/walk-ins", json=walk_in, headers=at.staff
    )
    assert walked.status_code == 201, walked.text
    lost = await client.post(
        f"/v1/waitlist/offers/{offer['id']}/accept",
        headers={**daughter.headers, "Idempotency-Key": "k", "Accept-Language": "zh-CN"},
    )
    problem = lost.json()
    assert (lost.status_code, problem["type"], problem["reason"]) == (
        409,
        "/problems/offer-lost",
        "bed_taken",
    )
    assert problem["detail"].startswith("未能预订：") and "3F-12" in problem["detail"]
    assert problem["title"] == "接受邀请前床位已被占用"
    read = await client.get(f"/v1/waitlist/offers/{offer['id']}", headers=daughter.headers)
    assert read.json()["status"] == "lost"
    await cancel(client, at, spare_booking)
    await worker.drain()
    again = await entry(client, daughter, joined["id"])
    assert (again["status"], again["offer"]["bed_id"]) == ("offered", spare)
