"""My holds: a family lists and reads back its live holds, and releases one without its token."""

from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from respite.clock import ManualClock
from tests import builders
from tests.conftest import MakeToken
from tests.e2e.test_holds import place


@pytest.fixture
async def scene(db: Any, make_token: MakeToken) -> dict[str, Any]:
    """A family, its elder and a bed at 300 yuan a night (as in ``test_holds``)."""
    facility = await builders.facility(db)
    family, headers = await make_token("family")
    return {
        "facility": facility,
        "bed": await builders.bed(db, facility, price=30000),
        "headers": headers,
        "recipient": await builders.recipient(db, family_id=family.id),
        "family": family,
        "ci": builders.today() + timedelta(days=10),
        "co": builders.today() + timedelta(days=15),
    }


@pytest.fixture
async def contact(db: Any, scene: dict[str, Any]) -> dict[str, Any]:
    """The scene's facility with an address and a desk phone."""
    await db.execute(
        "UPDATE facilities SET address = $2, phone = $3 WHERE id = $1",
        scene["facility"],
        "上海市静安区共和新路 1000 号",
        "021-55550000",
    )
    name = await db.fetchval("SELECT name FROM facilities WHERE id = $1", scene["facility"])
    return {
        "id": scene["facility"],
        "name": name,
        "address": "上海市静安区共和新路 1000 号",
        "phone": "021-55550000",
    }


async def test_my_holds_lists_each_live_hold_with_its_facility_and_the_time_left(
    client: httpx.AsyncClient, scene: dict[str, Any], contact: dict[str, Any], clock: ManualClock
) -> None:
    placed = (await place(client, scene)).json()
    mine = await client.get("/v1/holds", headers=scene["headers"])
    assert mine.status_code == 200, mine.text
    body = mine.json()
    assert body["cap"] == 3
    [hold] = body["items"]
    assert "token" not in hold
    assert hold["hold_id"] == placed["hold_id"]
    assert hold["facility"] == contact
    assert hold["bed"] == placed["bed"]
    assert (hold["nights"], hold["nightly_price"], hold["total_price"]) == (5, 30000, 150000)
    assert (hold["check_in"], hold["check_out"]) == (placed["check_in"], placed["check_out"])
    ends = datetime.fromisoformat(hold["expires_at"])
    assert ends == datetime.fromisoformat(placed["expires_at"])
    assert ends == clock.now() + timedelta(seconds=600)
    assert hold["seconds_left"] == 600
    assert datetime.fromisoformat(hold["max_expires_at"]) == clock.now() + timedelta(seconds=1800)
    assert hold["extensions_left"] == 2

    clock.advance(timedelta(seconds=250.5))
    later = (await client.get(f"/v1/holds/{placed['hold_id']}", headers=scene["headers"])).json()
    assert later["seconds_left"] == 350
    assert later["expires_at"] == hold["expires_at"]

    clock.advance(timedelta(seconds=350))
    assert (await client.get("/v1/holds", headers=scene["headers"])).json()["items"] == []
    gone = await client.get(f"/v1/holds/{placed['hold_id']}", headers=scene["headers"])
    assert gone.status_code == 404


async def test_an_extended_hold_shows_its_new_end(
    client: httpx.AsyncClient, scene: dict[str, Any], clock: ManualClock
) -> None:
    placed = (await place(client, scene)).json()
    clock.advance(timedelta(seconds=100))
    extended = await client.post(
        f"/v1/holds/{placed['hold_id']}/extend",
        json={"token": placed["token"]},
        headers=scene["headers"],
    )
    assert extended.status_code == 200, extended.text
    [hold] = (await client.get("/v1/holds", headers=scene["headers"])).json()["items"]
    assert hold["seconds_left"] == 600
    assert hold["extensions_left"] == 1


async def test_my_holds_are_mine_only_and_soonest_to_end_first(
    client: httpx.AsyncClient,
    scene: dict[str, Any],
    db: Any,
    make_token: MakeToken,
    clock: ManualClock,
) -> None:
    first = (await place(client, scene)).json()
    clock.advance(timedelta(seconds=30))
    later_nights = {"check_in": scene["co"], "check_out": scene["co"] + timedelta(days=2)}
    second = (await place(client, scene, **later_nights)).json()
    other, headers = await make_token("family")
    theirs = {**scene, "headers": headers}
    theirs["recipient"] = await builders.recipient(db, family_id=other.id)
    their_nights = {"check_in": scene["ci"] - timedelta(days=3), "check_out": scene["ci"]}
    assert (await place(client, theirs, **their_nights)).status_code == 201

    items = (await client.get("/v1/holds", headers=scene["headers"])).json()["items"]
    assert [h["hold_id"] for h in items] == [first["hold_id"], second["hold_id"]]
    assert [h["seconds_left"] for h in items] == [570, 600]
    another = await client.get(f"/v1/holds/{first['hold_id']}", headers=headers)
    assert another.status_code == 404
    assert another.json()["type"].endswith("/not-found")
    for nonsense in ("nothing", "-1", "99999999999999999999-ab", "7-" + "a" * 100):
        assert (await client.get(f"/v1/holds/{nonsense}", headers=headers)).status_code == 404


async def test_the_list_is_bounded_by_the_cap_and_drops_confirmed_holds(
    client: httpx.AsyncClient, scene: dict[str, Any], db: Any, clock: ManualClock
) -> None:
    ids = []
    for start in range(3):
        clock.advance(timedelta(seconds=1))  # each ends a second after the one before
        ci = scene["ci"] + timedelta(days=10 * start)
        response = await place(client, scene, check_in=ci, check_out=ci + timedelta(days=1))
        assert response.status_code == 201, response.text
        ids.append(response.json())
    refused = await place(
        client,
        scene,
        check_in=scene["ci"] + timedelta(days=40),
        check_out=scene["ci"] + timedelta(days=41),
    )
    assert refused.status_code == 429
    listed = (await client.get("/v1/holds", headers=scene["headers"])).json()["items"]
    assert len(listed) == 3
    booked = await client.post(
        f"/v1/holds/{ids[0]['hold_id']}/confirm",
        json={"token": ids[0]["token"]},
        headers={**scene["headers"], "Idempotency-Key": "mine-1"},
    )
    assert booked.status_code == 201, booked.text
    assert booked.json()["facility"]["id"] == scene["facility"]
    listed = (await client.get("/v1/holds", headers=scene["headers"])).json()["items"]
    assert [h["hold_id"] for h in listed] == [ids[1]["hold_id"], ids[2]["hold_id"]]


async def test_the_owner_releases_a_hold_without_its_token_and_the_token_dies(
    client: httpx.AsyncClient, scene: dict[str, Any], db: Any, make_token: MakeToken
) -> None:
    placed = (await place(client, scene)).json()
    _, headers = await make_token("family")
    by_another = await client.delete(f"/v1/holds/{placed['hold_id']}", headers=headers)
    assert by_another.status_code == 404
    assert (await client.get("/v1/holds", headers=scene["headers"])).json()["items"] != []

    released = await client.delete(f"/v1/holds/{placed['hold_id']}", headers=scene["headers"])
    assert released.status_code == 204, released.text
    assert (await client.get("/v1/holds", headers=scene["headers"])).json()["items"] == []
    confirmed = await client.post(
        f"/v1/holds/{placed['hold_id']}/confirm",
        json={"token": placed["token"]},
        headers={**scene["headers"], "Idempotency-Key": "after-release"},
    )
    assert confirmed.status_code == 409
    assert confirmed.json()["reason"] == "released"
    audited = await db.fetchval(
        "SELECT count(*) FROM audit_log WHERE action = 'release' AND entity_id = $1",
        placed["hold_id"],
    )
    assert audited == 1
    # The slot is free again: the family may hold as many as before.
    assert (await place(client, scene)).status_code == 201


async def test_staff_of_the_facility_see_and_release_a_familys_hold(
    client: httpx.AsyncClient, scene: dict[str, Any], db: Any, make_token: MakeToken
) -> None:
    placed = (await place(client, scene)).json()
    _, elsewhere = await make_token("staff", facility_id=await builders.facility(db))
    assert (
        await client.get(f"/v1/holds/{placed['hold_id']}", headers=elsewhere)
    ).status_code == 404
    assert (
        await client.delete(f"/v1/holds/{placed['hold_id']}", headers=elsewhere)
    ).status_code == 404
    _, staff = await make_token("staff", facility_id=scene["facility"])
    seen = await client.get(f"/v1/holds/{placed['hold_id']}", headers=staff)
    assert seen.status_code == 200, seen.text
    assert (await client.get("/v1/holds", headers=staff)).json()["items"] == []
    assert (await client.delete(f"/v1/holds/{placed['hold_id']}", headers=staff)).status_code == 204
    mine = await client.get(f"/v1/holds/{placed['hold_id']}", headers=scene["headers"])
    assert mine.status_code == 404
