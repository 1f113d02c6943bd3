"""What a hold showed is what is charged, and a hold that ended confirms nothing.

The nightly price a hold answered is the one its confirm books, or the confirm is refused
(``price-changed``) when staff changed the bed's price in between. A hold's token confirms
nothing once the hold is past its maximum age (``hold-ended``, reason ``past_max_age``), nor
once its holder released it, even while the bed is free (``hold-ended``, reason
``released``); an expired hold that was neither still confirms while its bed is free.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import msgspec
import pytest

from respite.clock import ManualClock
from tests import builders
from tests.conftest import MakeToken
from tests.e2e.test_problems import assert_problem

PRICE = 30000


class Scene(msgspec.Struct):
    facility: int
    bed: int
    recipient: int
    family: dict[str, str]
    staff: dict[str, str]


@pytest.fixture
async def scene(db: Any, make_token: MakeToken) -> Scene:
    facility = await builders.facility(db)
    bed = await builders.bed(db, facility, price=PRICE)
    family, headers = await make_token("family")
    _, staff = await make_token("staff", facility_id=facility)
    recipient = await builders.recipient(db, family_id=family.id)
    return Scene(facility, bed, recipient, headers, staff)


async def place(client: httpx.AsyncClient, scene: Scene, first: int = 10) -> dict[str, Any]:
    return await builders.placed_hold(
        client, scene.family, elder=scene.recipient, bed=scene.bed, first=first, nights=5
    )


async def confirm(
    client: httpx.AsyncClient, scene: Scene, hold: dict[str, Any], key: str = "k1"
) -> httpx.Response:
    return await client.post(
        f"/v1/holds/{hold['hold_id']}/confirm",
        json={"token": hold["token"]},
        headers={**scene.family, "Idempotency-Key": key},
    )


async def release(client: httpx.AsyncClient, scene: Scene, hold: dict[str, Any]) -> httpx.Response:
    return await client.delete(
        f"/v1/holds/{hold['hold_id']}", headers={**scene.family, "Hold-Token": hold["token"]}
    )


async def set_price(client: httpx.AsyncClient, scene: Scene, price: int) -> None:
    changed = await client.patch(
        f"/v1/beds/{scene.bed}", json={"nightly_price": price}, headers=scene.staff
    )
    assert changed.status_code == 200, changed.text


async def booked(db: Any) -> tuple[int, int, int]:
    return (
        await db.fetchval("SELECT count(*) FROM bookings"),
        await db.fetchval("SELECT count(*) FROM bed_nights"),
        await db.fetchval("SELECT count(*) FROM recipient_nights"),
    )


async def test_a_price_changed_since_the_hold_is_409_and_books_nothing(
    client: httpx.AsyncClient, scene: Scene, db: Any
) -> None:
    hold = await place(client, scene)
    assert (hold["nightly_price"], hold["total_price"]) == (PRICE, 5 * PRICE)
    await set_price(client, scene, PRICE + 5000)
    refused = await confirm(client, scene, hold)
    problem = assert_problem(refused, 409, "price-changed")
    assert problem["title"] == "The bed's price changed since the hold"
    assert (problem["bed_id"], problem["hold_id"]) == (scene.bed, hold["hold_id"])
    assert (problem["held_nightly_price"], problem["current_nightly_price"]) == (
        PRICE,
        PRICE + 5000,
    )
    assert await booked(db) == (0, 0, 0)

    # A new hold shows the new price, and its confirm charges it.
    await release(client, scene, hold)
    again = await place(client, scene)
    assert again["nightly_price"] == PRICE + 5000
    charged = await confirm(client, scene, again, key="k2")
    assert charged.status_code == 201, charged.text
    assert (charged.json()["nightly_price"], charged.json()["total_price"]) == (
        PRICE + 5000,
        5 * (PRICE + 5000),
    )


async def test_the_price_a_hold_showed_is_the_price_booked(
    client: httpx.AsyncClient, scene: Scene
) -> None:
    hold = await place(client, scene)
    await set_price(client, scene, PRICE + 1)
    await set_price(client, scene, PRICE)  # changed and changed back: what was shown stands
    response = await confirm(client, scene, hold)
    assert response.status_code == 201, response.text
    assert (response.json()["nightly_price"], response.json()["total_price"]) == (
        hold["nightly_price"],
        hold["total_price"],
    )


async def test_a_hold_past_its_maximum_age_confirms_nothing(
    client: httpx.AsyncClient, scene: Scene, db: Any, clock: ManualClock
) -> None:
    hold = await place(client, scene)
    clock.advance(timedelta(seconds=1800))  # exactly its maximum age; the bed is still free
    refused = await confirm(client, scene, hold)
    problem = assert_problem(refused, 409, "hold-ended")
    assert (problem["hold_id"], problem["reason"]) == (hold["hold_id"], "past_max_age")
    assert await booked(db) == (0, 0, 0)
    assert (await release(client, scene, hold)).status_code == 404, "nothing left to release"


async def test_a_confirm_replayed_past_the_maximum_age_answers_its_booking(
    client: httpx.AsyncClient, scene: Scene, clock: ManualClock
) -> None:
    hold = await place(client, scene)
    first = await confirm(client, scene, hold, key="once")
    assert first.status_code == 201, first.text
    clock.advance(timedelta(hours=2))
    replayed = await confirm(client, scene, hold, key="once")
    assert replayed.status_code == 201, replayed.text
    assert replayed.json()["id"] == first.json()["id"]


async def test_a_released_hold_confirms_nothing_even_while_the_bed_is_free(
    client: httpx.AsyncClient, scene: Scene, db: Any
) -> None:
    hold = await place(client, scene)
    assert (await release(client, scene, hold)).status_code == 204
    refused = await confirm(client, scene, hold)
    problem = assert_problem(refused, 409, "hold-ended")
    assert (problem["hold_id"], problem["reason"]) == (hold["hold_id"], "released")
    assert await booked(db) == (0, 0, 0)
    assert (await release(client, scene, hold)).status_code == 404, "released once only"
    audited = await db.fetchval(
        "SELECT count(*) FROM audit_log WHERE entity = 'hold' AND action = 'release'"
    )
    assert audited == 1


async def test_releasing_an_expired_hold_ends_it_too(
    client: httpx.AsyncClient, scene: Scene, db: Any, clock: ManualClock
) -> None:
    hold = await place(client, scene)
    clock.advance(timedelta(seconds=601))  # expired: it would still confirm, the bed is free
    assert (await release(client, scene, hold)).status_code == 204
    problem = assert_problem(await confirm(client, scene, hold), 409, "hold-ended")
    assert problem["reason"] == "released"
    assert await booked(db) == (0, 0, 0)


async def test_a_release_racing_its_confirm_never_lets_both_happen(
    client: httpx.AsyncClient, scene: Scene, db: Any
) -> None:
    for round_ in range(6):
        hold = await place(client, scene, first=10 + 6 * round_)
        racers = [confirm(client, scene, hold, key=f"r{round_}"), release(client, scene, hold)]
        if round_ % 2:
            racers.reverse()
        answers = await asyncio.gather(*racers)
        confirmed, released = answers if round_ % 2 == 0 else answers[::-1]
        booking = await db.fetchval(
            "SELECT count(*) FROM bookings WHERE hold_id = $1", hold["hold_id"]
        )
        if confirmed.status_code == 201:
            assert released.status_code == 404, "a confirmed hold is no longer released"
            assert booking == 1
        else:
            assert released.status_code == 204, released.text
            assert assert_problem(confirmed, 409, "hold-ended")["reason"] == "released"
            assert booking == 0
