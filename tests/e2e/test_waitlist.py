"""The waiting list as families meet it: join, be offered a freed bed by the service itself,
accept it into a booking or decline it, leave; priority order and the reasons entries are
passed over; every way nights are freed."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx
import pytest
import redis.asyncio as redis

from respite.clock import ManualClock
from respite.waitlist.worker import OfferWorker
from tests import builders
from tests.conftest import MakeToken
from tests.waitlist import (  # the fixtures: the app's offer worker off
    Scene,
    accept,
    cancel,
    entry,
    family,
    join,
    scene,
    settings,
    worker,
)

__all__ = ["settings", "worker"]  # fixtures shared with tests/waitlist.py


@pytest.fixture
async def at(db: Any, make_token: MakeToken) -> Scene:
    return await scene(db, make_token)


async def test_a_cancellation_is_offered_to_the_waiting_family_who_books_it(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken, at: Scene, worker: OfferWorker
) -> None:
    daughter = await family(db, make_token)
    joined = await join(client, at, daughter)
    assert (joined["status"], joined["position"], joined["offer"]) == ("waiting", 1, None)
    await worker.drain()
    assert (await entry(client, daughter, joined["id"]))["status"] == "waiting"  # bed booked

    await cancel(client, at)
    await worker.drain()
    offered = await entry(client, daughter, joined["id"])
    offer = offered["offer"]
    assert offered["status"] == "offered"
    assert (offer["bed_id"], offer["check_in"], offer["check_out"], offer["nights"]) == (
        at.bed,
        at.first.isoformat(),
        at.last.isoformat(),
        7,
    )
    assert (offer["nightly_price"], offer["total_price"]) == (30000, 210000)
    assert offer["deadline_local"].startswith("Accept by ")
    assert offer["seconds_left"] > 0

    # The family is told, in its inbox (and by email or SMS as it chose), in its language.
    for lang, words in (("en", "A bed is offered to you at"), ("zh-CN", "床位")):
        inbox = await client.get(
            "/v1/me/inbox", headers={**daughter.headers, "Accept-Language": lang}
        )
        told = [i for i in inbox.json()["items"] if i["kind"] == "waitlist.offer_made"]
        assert len(told) == 1 and told[0]["offer_id"] == offer["id"], inbox.text
        assert words in told[0]["title"] and "3F-12" in told[0]["body"], told

    # A real hold: another family cannot hold the bed while the offer stands.
    other = await family(db, make_token)
    held = await client.post(
        "/v1/holds",
        json={
            "care_recipient_id": other.elder,
            "bed_id": at.bed,
            "check_in": at.first.isoformat(),
            "check_out": at.last.isoformat(),
        },
        headers=other.headers,
    )
    assert (held.status_code, held.json()["type"]) == (409, "/problems/bed-held")

    booked = await accept(client, daughter, offer["id"])
    assert booked.status_code == 201, booked.text
    booking = booked.json()
    assert (booking["bed_id"], booking["care_recipient_id"], booking["status"]) == (
        at.bed,
        daughter.elder,
        "confirmed",
    )
    assert booking["total_price"] == 210000
    again = await accept(client, daughter, offer["id"])
    assert (again.status_code, again.json()["id"]) == (201, booking["id"])
    other_key = await accept(client, daughter, offer["id"], key="accept-2")
    assert (other_key.status_code, other_key.json()["type"]) == (409, "/problems/offer-ended")
    ended = await entry(client, daughter, joined["id"])
    assert (ended["status"], ended["booking_id"], ended["position"]) == (
        "booked",
        booking["id"],
        None,
    )


async def test_an_offer_speaks_the_callers_language(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken, at: Scene, worker: OfferWorker
) -> None:
    daughter = await family(db, make_token)
    joined = await join(client, at, daughter)
    await cancel(client, at)
    await worker.drain()
    read = await client.get(
        f"/v1/waitlist/{joined['id']}", headers={**daughter.headers, "Accept-Language": "zh-CN"}
    )
    offer = read.json()["offer"]
    assert offer["deadline_local"].startswith("请在 ") and offer["deadline_local"].endswith(
        " 前确认"
    )
    year = offer["deadline"][:4]
    assert f"{year}年" in offer["deadline_local"]


async def test_declining_passes_the_bed_to_the_next_in_line(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken, at: Scene, worker: OfferWorker
) -> None:
    first, second = await family(db, make_token), await family(db, make_token)
    one = await join(client, at, first)
    two = await join(client, at, second)
    assert two["position"] == 2
    await cancel(client, at)
    await worker.drain()
    offer = (await entry(client, first, one["id"]))["offer"]
    assert (await entry(client, second, two["id"]))["status"] == "waiting"

    declined = await client.post(
        f"/v1/waitlist/offers/{offer['id']}/decline", headers=first.headers
    )
    assert (declined.status_code, declined.json()["status"]) == (200, "declined")
    await worker.drain()
    assert (await entry(client, second, two["id"]))["status"] == "offered"
    after = await entry(client, first, one["id"])
    assert after["status"] == "waiting"  # still on the list, for other beds and nights
    assert after["passes"][0]["reason"] == "declined_before"
    assert after["passes"][0]["message"] == "This entry declined this bed for these nights before."


async def test_an_offer_that_lapses_goes_to_the_next_in_line(
    client: httpx.AsyncClient,
    db: Any,
    make_token: MakeToken,
    at: Scene,
    worker: OfferWorker,
    clock: ManualClock,
) -> None:
    first, second = await family(db, make_token), await family(db, make_token)
    one = await join(client, at, first)
    two = await join(client, at, second)
    await cancel(client, at)
    await worker.drain()
    offer = (await entry(client, first, one["id"]))["offer"]
    clock.advance(timedelta(hours=13))  # families have 12 hours by default
    await worker.drain()
    lapsed = await client.get(f"/v1/waitlist/offers/{offer['id']}", headers=first.headers)
    assert lapsed.json()["status"] == "lapsed"
    assert (await entry(client, second, two["id"]))["status"] == "offered"
    too_late = await accept(client, first, offer["id"])
    assert (too_late.status_code, too_late.json()["status"]) == (409, "lapsed")


async def test_leaving_during_an_offer_books_nothing_and_frees_the_bed(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken, at: Scene, worker: OfferWorker
) -> None:
    first, second = await family(db, make_token), await family(db, make_token)
    one = await join(client, at, first)
    two = await join(client, at, second)
    await cancel(client, at)
    await worker.drain()
    offer = (await entry(client, first, one["id"]))["offer"]
    left = await client.post(f"/v1/waitlist/{one['id']}/leave", headers=first.headers)
    assert (left.status_code, left.json()["status"]) == (200, "left")
    accepted = await accept(client, first, offer["id"])
    assert (accepted.status_code, accepted.json()["status"]) == (409, "withdrawn")
    assert (
        await db.fetchval("SELECT count(*) FROM bookings WHERE care_recipient_id = $1", first.elder)
        == 0
    )
    again = await client.post(f"/v1/waitlist/{one['id']}/leave", headers=first.headers)
    assert (again.status_code, again.json()["type"]) == (409, "/problems/entry-ended")
    await worker.drain()
    assert (await entry(client, second, two["id"]))["status"] == "offered"


async def test_priority_groups_go_first_then_joining_order(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken, at: Scene, worker: OfferWorker
) -> None:
    plain = await family(db, make_token)
    alone = await family(db, make_token, birth_date=date(1938, 1, 1), living_situation="alone")
    discharged = await family(db, make_token)
    a = await join(client, at, plain)
    b = await join(client, at, alone)
    c = await join(client, at, discharged, discharged_on=builders.today().isoformat())
    assert (b["priority"], c["priority"], a["priority"]) == (
        "eighty_alone",
        "recent_discharge",
        None,
    )
    positions = [
        (await entry(client, who, e["id"]))["position"]
        for who, e in ((plain, a), (alone, b), (discharged, c))
    ]
    assert positions == [3, 2, 1]
    await cancel(client, at)
    await worker.drain()
    assert (await entry(client, discharged, c["id"]))["status"] == "offered"
    assert (await entry(client, alone, b["id"]))["status"] == "waiting"
    # Only those ahead of the one offered are passed over: nobody here.
    assert (await entry(client, plain, a["id"]))["passes"] == []


async def test_entries_passed_over_say_why(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken, worker: OfferWorker
) -> None:
    at = await scene(db, make_token, sex_rule="female")
    man = await family(db, make_token, sex="male")
    staying = await family(db, make_token)
    woman = await family(db, make_token)
    m = await join(client, at, man)
    s = await join(client, at, staying)
    w = await join(client, at, woman)
    elsewhere = await builders.facility(db)
    other_bed = await builders.bed(db, elsewhere)
    await builders.booking(
        db, other_bed, at.first, at.first + timedelta(days=2), recipient_id=staying.elder
    )
    await cancel(client, at)
    await worker.drain()
    assert (await entry(client, woman, w["id"]))["status"] == "offered"
    sex_pass = (await entry(client, man, m["id"]))["passes"][0]
    assert sex_pass["reason"] == "not_eligible" and sex_pass["codes"] == ["sex_rule"]
    stay_pass = (await entry(client, staying, s["id"]))["passes"][0]
    assert stay_pass["reason"] == "elder_staying"
    assert (stay_pass["check_in"], stay_pass["bed_id"]) == (at.first.isoformat(), at.bed)


async def test_a_shorter_stay_is_offered_when_the_entry_accepts_fewer_nights(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken, at: Scene, worker: OfferWorker
) -> None:
    daughter = await family(db, make_token)
    # Waits for 7 nights, or 4 at least, in a window that starts three nights into the stay.
    joined = await join(
        client,
        at,
        daughter,
        earliest_check_in=(at.first + timedelta(days=3)).isoformat(),
        latest_check_out=(at.last + timedelta(days=10)).isoformat(),
        min_nights=4,
    )
    await builders.booking(db, at.bed, at.last, at.last + timedelta(days=20))
    await cancel(client, at)
    await worker.drain()
    offer = (await entry(client, daughter, joined["id"]))["offer"]
    assert (offer["check_in"], offer["check_out"], offer["nights"]) == (
        (at.first + timedelta(days=3)).isoformat(),
        at.last.isoformat(),
        4,
    )


@pytest.mark.parametrize(
    "freed_by", ["block_lifted", "hold_released", "hold_lapsed", "bed_added", "bed_returned"]
)
async def test_every_way_nights_free_up_makes_an_offer(
    client: httpx.AsyncClient,
    db: Any,
    make_token: MakeToken,
    worker: OfferWorker,
    clock: ManualClock,
    freed_by: str,
) -> None:
    facility = await builders.facility(db)
    bed = await builders.bed(db, facility)
    _, manager = await make_token("staff", facility_id=facility)
    first = builders.today() + timedelta(days=5)
    last = first + timedelta(days=3)
    daughter = await family(db, make_token)
    if freed_by == "block_lifted":
        block = await builders.block(db, bed, first, last)
    elif freed_by == "bed_added":
        await builders.booking(db, bed, first, last)
    elif freed_by == "bed_returned":
        spare = await builders.bed(db, facility)
        await db.execute("UPDATE beds SET active = false WHERE id = $1", spare)
        await builders.booking(db, bed, first, last)
    else:
        other = await family(db, make_token)
        hold = await builders.placed_hold(
            client, other.headers, elder=other.elder, bed=bed, first=5, nights=3
        )
    joined = await join(
        client,
        Scene(facility, bed, 0, manager, first, last),
        daughter,
        nights=3,
    )
    await worker.drain()
    assert (await entry(client, daughter, joined["id"]))["status"] == "waiting"

    if freed_by == "block_lifted":
        lifted = await client.delete(f"/v1/blocks/{block}", headers=manager)
        assert lifted.status_code in (200, 204), lifted.text
    elif freed_by == "bed_added":
        new = {"kind": "respite", "label": "4F-01", "sex_rule": "any", "nightly_price": 25000}
        added = await client.post(f"/v1/facilities/{facility}/beds", json=new, headers=manager)
        assert added.status_code == 201, added.text
    elif freed_by == "bed_returned":
        back = await client.patch(f"/v1/beds/{spare}", json={"active": True}, headers=manager)
        assert back.status_code == 200, back.text
    elif freed_by == "hold_released":
        released = await client.delete(f"/v1/holds/{hold['hold_id']}", headers=other.headers)
        assert released.status_code == 204, released.text
    else:
        clock.advance(timedelta(minutes=11))  # the hold's 10 minutes ran out, unconfirmed
    await worker.drain()
    offered = await entry(client, daughter, joined["id"])
    assert offered["status"] == "offered", offered
    cause = await db.fetchval(
        "SELECT j.cause FROM waitlist_offers o JOIN waitlist_jobs j ON j.id = o.job_id"
        " WHERE o.entry_id = $1",
        joined["id"],
    )
    assert cause == freed_by


async def test_an_extended_hold_is_not_taken_for_lapsed(
    client: httpx.AsyncClient,
    db: Any,
    make_token: MakeToken,
    worker: OfferWorker,
    clock: ManualClock,
) -> None:
    facility = await builders.facility(db)
    bed = await builders.bed(db, facility)
    other = await family(db, make_token)
    hold = await builders.placed_hold(
        client, other.headers, elder=other.elder, bed=bed, first=5, nights=3
    )
    clock.advance(timedelta(minutes=9))
    extended = await client.post(
        f"/v1/holds/{hold['hold_id']}/extend", json={"token": hold["token"]}, headers=other.headers
    )
    assert extended.status_code == 200, extended.text
    daughter = await family(db, make_token)
    first = builders.today() + timedelta(days=5)
    joined = await join(
        client, Scene(facility, bed, 0, {}, first, first + timedelta(days=3)), daughter, nights=3
    )
    clock.advance(timedelta(minutes=2))  # past the first 10 minutes, within the extension
    await worker.drain()
    assert (await entry(client, daughter, joined["id"]))["status"] == "waiting"
    clock.advance(timedelta(minutes=10))
    await worker.drain()
    assert (await entry(client, daughter, joined["id"]))["status"] == "offered"


async def test_a_booking_that_covers_an_entry_ends_it(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken, at: Scene, worker: OfferWorker
) -> None:
    daughter = await family(db, make_token)
    joined = await join(
        client, at, daughter, latest_check_out=(at.last + timedelta(days=20)).isoformat()
    )
    free_bed = await builders.bed(db, at.facility)
    hold = await builders.placed_hold(
        client, daughter.headers, elder=daughter.elder, bed=free_bed, first=30, nights=7
    )
    confirmed = await client.post(
        f"/v1/holds/{hold['hold_id']}/confirm",
        json={"token": hold["token"]},
        headers={**daughter.headers, "Idempotency-Key": "c1"},
    )
    assert confirmed.status_code == 201, confirmed.text
    ended = await entry(client, daughter, joined["id"])
    assert (ended["status"], ended["booking_id"]) == ("booked", confirmed.json()["id"])


async def test_an_entry_passed_over_while_offered_is_offered_the_other_bed_once_it_declines(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken, at: Scene, worker: OfferWorker
) -> None:
    second_bed = await builders.bed(db, at.facility)
    second_booking = await builders.booking(db, second_bed, at.first, at.last)
    daughter = await family(db, make_token)
    joined = await join(client, at, daughter)
    await cancel(client, at)
    await worker.drain()
    first_offer = (await entry(client, daughter, joined["id"]))["offer"]
    await cancel(client, at, second_booking)
    await worker.drain()
    passed = await entry(client, daughter, joined["id"])
    assert passed["passes"][0]["reason"] == "offer_open"
    declined = await client.post(
        f"/v1/waitlist/offers/{first_offer['id']}/decline", headers=daughter.headers
    )
    assert declined.status_code == 200
    await worker.drain()
    again = await entry(client, daughter, joined["id"])
    assert (again["status"], again["offer"]["bed_id"]) == ("offered", second_bed)


async def test_an_ended_offers_hold_left_in_redis_does_not_keep_the_bed_from_the_next(
    client: httpx.AsyncClient,
    db: Any,
    make_token: MakeToken,
    at: Scene,
    worker: OfferWorker,
    redis_url: str,
) -> None:
    first, second = await family(db, make_token), await family(db, make_token)
    one = await join(client, at, first)
    two = await join(client, at, second)
    await cancel(client, at)
    await worker.drain()
    offer = (await entry(client, first, one["id"]))["offer"]
    store = redis.Redis.from_url(redis_url)
    key = f"{{f:{at.facility}}}:holds"
    held = await store.hgetall(key)
    declined = await client.post(
        f"/v1/waitlist/offers/{offer['id']}/decline", headers=first.headers
    )
    assert declined.status_code == 200
    # As if the release after the commit had not reached Redis: the ended offer's hold is back.
    for field, value in held.items():
        await store.hset(key, field, value)
    await worker.drain()
    await store.aclose()
    assert (await entry(client, second, two["id"]))["status"] == "offered"


async def test_freed_nights_split_by_a_taken_one_are_offered_on_both_sides(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken, at: Scene, worker: OfferWorker
) -> None:
    early, late = await family(db, make_token), await family(db, make_token)
    middle = at.first + timedelta(days=3)
    e = await join(client, at, early, latest_check_out=middle.isoformat(), nights=3)
    l_ = await join(
        client,
        at,
        late,
        earliest_check_in=(middle + timedelta(days=1)).isoformat(),
        nights=3,
    )
    await cancel(client, at)
    # A walk-in takes the middle night before the worker looks.
    await builders.booking(db, at.bed, middle, middle + timedelta(days=1))
    await worker.drain()
    assert (await entry(client, early, e["id"]))["offer"]["check_out"] == middle.isoformat()
    assert (await entry(client, late, l_["id"]))["offer"]["check_in"] == (
        middle + timedelta(days=1)
    ).isoformat()
