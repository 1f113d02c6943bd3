"""Holds: placing, extending, releasing and confirming, as families and staff would."""

import asyncio
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import httpx
import msgspec
import pytest
import redis.asyncio as redis

from respite.app import create_app
from respite.clock import ManualClock
from respite.settings import Settings
from tests import builders
from tests.conftest import MakeToken, serve_in_loop


def seconds(n: float) -> timedelta:
    return timedelta(seconds=n)


async def set_scene(db: Any, make_token: MakeToken) -> dict[str, Any]:
    facility = await builders.facility(db)
    bed = await builders.bed(db, facility, price=30000)
    family, headers = await make_token("family")
    recipient = await builders.recipient(db, family_id=family.id)
    today = builders.today()
    return {
        "facility": facility,
        "bed": bed,
        "headers": headers,
        "recipient": recipient,
        "family": family,
        "ci": today + timedelta(days=10),
        "co": today + timedelta(days=15),
    }


@pytest.fixture
async def scene(db: Any, make_token: MakeToken) -> dict[str, Any]:
    return await set_scene(db, make_token)


@pytest.fixture(scope="module")
async def shared_scene(shared_db: Any, shared_make_token: MakeToken) -> dict[str, Any]:
    """For the tests that only refuse: they share one database (see conftest)."""
    return await set_scene(shared_db, shared_make_token)


def hold_body(
    scene: dict[str, Any],
    check_in: date | None = None,
    check_out: date | None = None,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "care_recipient_id": scene["recipient"],
        "bed_id": scene["bed"],
        "check_in": (check_in or scene["ci"]).isoformat(),
        "check_out": (check_out or scene["co"]).isoformat(),
        **extra,
    }


async def place(client: httpx.AsyncClient, scene: dict[str, Any], **kw: Any) -> httpx.Response:
    return await client.post("/v1/holds", json=hold_body(scene, **kw), headers=scene["headers"])


async def confirm(
    client: httpx.AsyncClient, hold: dict[str, Any], headers: dict[str, str], key: str = "k1"
) -> httpx.Response:
    return await client.post(
        f"/v1/holds/{hold['hold_id']}/confirm",
        json={"token": hold["token"]},
        headers={**headers, "Idempotency-Key": key},
    )


async def test_place_then_confirm_books_the_bed(
    client: httpx.AsyncClient, scene: dict[str, Any], db: Any, clock: ManualClock
) -> None:
    response = await place(client, scene)
    assert response.status_code == 201, response.text
    hold = response.json()
    assert hold["bed"]["id"] == scene["bed"]
    assert (hold["nights"], hold["nightly_price"], hold["total_price"]) == (5, 30000, 150000)
    assert datetime.fromisoformat(hold["expires_at"]) == clock.now() + timedelta(seconds=600)
    assert hold["expires_at"].endswith("Z") and hold["seconds_left"] == 600
    booked = await confirm(client, hold, scene["headers"])
    assert booked.status_code == 201, booked.text
    booking = booked.json()
    assert booking["status"] == "confirmed"
    assert (
        await db.fetchval("SELECT count(*) FROM bed_nights WHERE booking_id = $1", booking["id"])
        == 5
    )
    assert (
        await db.fetchval("SELECT hold_id FROM bookings WHERE id = $1", booking["id"])
        == hold["hold_id"]
    )
    policy = await db.fetchval("SELECT policy_id FROM bookings WHERE id = $1", booking["id"])
    assert policy is not None
    assert (
        await db.fetchval(
            "SELECT count(*) FROM audit_log WHERE entity = 'hold' AND action = 'hold'"
        )
        == 1
    )


async def test_an_overlapping_hold_is_409_and_a_neighbouring_one_is_fine(
    client: httpx.AsyncClient, scene: dict[str, Any], db: Any, make_token: MakeToken
) -> None:
    assert (await place(client, scene)).status_code == 201
    other, headers = await make_token("family")
    other_scene = {
        **scene,
        "headers": headers,
        "recipient": await builders.recipient(db, family_id=other.id),
    }
    co = scene["co"]
    clash = await place(
        client, other_scene, check_in=co - timedelta(days=1), check_out=co + timedelta(days=2)
    )
    assert clash.status_code == 409
    problem = clash.json()
    assert (problem["type"], problem["title"]) == (
        "/problems/bed-held",
        "The bed is held by someone else",
    )
    assert (problem["bed_id"], problem["reason"]) == (scene["bed"], "held")
    after = await place(client, other_scene, check_in=co, check_out=co + timedelta(days=2))
    assert after.status_code == 201, after.text


async def test_two_hundred_racers_for_one_bed_one_wins(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken
) -> None:
    facility = await builders.facility(db)
    bed = await builders.bed(db, facility)
    recipient = await builders.recipient(db, facility_id=facility)
    tokens = [(await make_token("staff", facility_id=facility))[1] for _ in range(200)]
    check_in = builders.today() + timedelta(days=10)
    body = {
        "care_recipient_id": recipient,
        "bed_id": bed,
        "check_in": check_in.isoformat(),
        "check_out": (check_in + timedelta(days=5)).isoformat(),
    }
    responses = await asyncio.gather(
        *(client.post("/v1/holds", json=body, headers=h) for h in tokens)
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(201) == 1, statuses
    assert statuses.count(409) == 199, statuses


async def test_wrong_or_foreign_tokens_are_404(
    client: httpx.AsyncClient, scene: dict[str, Any], make_token: MakeToken
) -> None:
    hold = (await place(client, scene)).json()
    forged = {**hold, "token": hold["token"][:-3] + "AAA"}
    assert (await confirm(client, forged, scene["headers"])).status_code == 404
    _, stranger = await make_token("family")
    assert (await confirm(client, hold, stranger)).status_code == 404
    moved = {**hold, "hold_id": f"{scene['facility']}-{'0' * 20}"}
    assert (await confirm(client, moved, scene["headers"])).status_code == 404
    gone = await client.delete(
        f"/v1/holds/{hold['hold_id']}", headers={**stranger, "Hold-Token": hold["token"]}
    )
    assert gone.status_code == 404


async def test_release_frees_the_bed_at_once(
    client: httpx.AsyncClient, scene: dict[str, Any], db: Any, make_token: MakeToken
) -> None:
    hold = (await place(client, scene)).json()
    released = await client.delete(
        f"/v1/holds/{hold['hold_id']}", headers={**scene["headers"], "Hold-Token": hold["token"]}
    )
    assert released.status_code == 204
    other, headers = await make_token("family")
    other_scene = {
        **scene,
        "headers": headers,
        "recipient": await builders.recipient(db, family_id=other.id),
    }
    assert (await place(client, other_scene)).status_code == 201
    again = await client.delete(f"/v1/holds/{hold['hold_id']}", headers=scene["headers"])
    assert again.status_code == 404
    empty = await client.delete(
        f"/v1/holds/{hold['hold_id']}", headers={**scene["headers"], "Hold-Token": ""}
    )
    assert empty.status_code == 422


async def test_expiry_lets_another_family_hold(
    client: httpx.AsyncClient,
    scene: dict[str, Any],
    db: Any,
    make_token: MakeToken,
    clock: ManualClock,
) -> None:
    assert (await place(client, scene)).status_code == 201
    other, headers = await make_token("family")
    other_scene = {
        **scene,
        "headers": headers,
        "recipient": await builders.recipient(db, family_id=other.id),
    }
    clock.advance(seconds(599))
    assert (await place(client, other_scene)).status_code == 409
    clock.advance(seconds(2))
    assert (await place(client, other_scene)).status_code == 201


async def test_extensions_are_bounded_in_number_and_age(
    client: httpx.AsyncClient, scene: dict[str, Any], clock: ManualClock
) -> None:
    hold = (await place(client, scene)).json()
    url, body = f"/v1/holds/{hold['hold_id']}/extend", {"token": hold["token"]}
    clock.advance(seconds(300))
    first = await client.post(url, json=body, headers=scene["headers"])
    assert first.status_code == 200, first.text
    assert _at(first.json()["expires_at"]) == clock.now() + timedelta(seconds=600)
    assert first.json()["seconds_left"] == 600
    assert first.json()["extensions_left"] == 1
    clock.advance(seconds(300))
    assert (await client.post(url, json=body, headers=scene["headers"])).status_code == 200
    clock.advance(seconds(300))
    third = await client.post(url, json=body, headers=scene["headers"])
    assert third.status_code == 409
    problem = third.json()
    assert problem["type"] == "/problems/extensions-used-up"
    assert (problem["hold_id"], problem["max_extensions"]) == (hold["hold_id"], 2)
    assert _at(problem["expires_at"]) == clock.now() + timedelta(seconds=300)
    assert problem["reason"] == "extension_limit"


async def test_an_extension_never_passes_the_maximum_age(
    scene: dict[str, Any], clock: ManualClock, settings: Settings
) -> None:
    app = create_app(
        msgspec.structs.replace(settings, hold_max_age_seconds=700),
        clock=clock,
        configure_logs=False,
    )
    async with serve_in_loop(app) as client:
        hold = (await place(client, scene)).json()
        assert _at(hold["max_expires_at"]) == clock.now() + timedelta(seconds=700)
        url, body = f"/v1/holds/{hold['hold_id']}/extend", {"token": hold["token"]}
        clock.advance(seconds(500))
        capped = await client.post(url, json=body, headers=scene["headers"])
        assert capped.status_code == 200
        assert capped.json()["expires_at"] == hold["max_expires_at"]
        clock.advance(seconds(150))
        refused = await client.post(url, json=body, headers=scene["headers"])
        assert refused.status_code == 409
        problem = refused.json()
        assert (problem["type"], problem["hold_id"]) == (
            "/problems/hold-at-maximum-age",
            hold["hold_id"],
        )
        assert problem["expires_at"] == hold["max_expires_at"]
        assert problem["reason"] == "max_age"
        clock.advance(seconds(51))
        gone = await client.post(url, json=body, headers=scene["headers"])
        assert gone.status_code == 404


async def test_a_family_keeps_at_most_three_live_holds(
    client: httpx.AsyncClient, scene: dict[str, Any], db: Any, clock: ManualClock
) -> None:
    beds = [await builders.bed(db, scene["facility"]) for _ in range(4)]
    statuses = [
        (
            await client.post(
                "/v1/holds", json={**hold_body(scene), "bed_id": b}, headers=scene["headers"]
            )
        ).status_code
        for b in beds
    ]
    assert statuses == [201, 201, 201, 429]
    capped = await client.post(
        "/v1/holds", json={**hold_body(scene), "bed_id": beds[3]}, headers=scene["headers"]
    )
    problem = capped.json()
    assert (problem["type"], problem["cap"], problem["retry_after"]) == (
        "/problems/hold-cap-reached",
        3,
        600,
    )
    assert capped.headers["retry-after"] == "600"
    clock.advance(seconds(601))  # the three expire: the cap counts live holds only
    again = await client.post(
        "/v1/holds", json={**hold_body(scene), "bed_id": beds[3]}, headers=scene["headers"]
    )
    assert again.status_code == 201


async def test_an_expired_hold_still_confirms_while_the_bed_is_free(
    client: httpx.AsyncClient, scene: dict[str, Any], clock: ManualClock
) -> None:
    hold = (await place(client, scene)).json()
    clock.advance(seconds(1799))  # long expired (600 s), not yet at its maximum age (1800 s)
    booked = await confirm(client, hold, scene["headers"])
    assert booked.status_code == 201, booked.text


async def test_an_expired_hold_does_not_confirm_over_another_live_hold(
    client: httpx.AsyncClient,
    scene: dict[str, Any],
    db: Any,
    make_token: MakeToken,
    clock: ManualClock,
) -> None:
    hold = (await place(client, scene)).json()
    clock.advance(seconds(601))
    other, headers = await make_token("family")
    other_scene = {
        **scene,
        "headers": headers,
        "recipient": await builders.recipient(db, family_id=other.id),
    }
    assert (await place(client, other_scene)).status_code == 201
    refused = await confirm(client, hold, scene["headers"])
    assert refused.status_code == 409
    problem = refused.json()
    assert problem["type"] == "/problems/held-by-another"
    assert (problem["hold_id"], problem["bed_id"]) == (hold["hold_id"], scene["bed"])
    assert problem["reason"] == "held_by_another"


async def test_fifty_concurrent_replays_make_one_booking(
    client: httpx.AsyncClient, scene: dict[str, Any], db: Any
) -> None:
    hold = (await place(client, scene)).json()
    responses = await asyncio.gather(
        *(confirm(client, hold, scene["headers"], key="same-key") for _ in range(50))
    )
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["id"] for r in responses}) == 1
    assert await db.fetchval("SELECT count(*) FROM bookings") == 1


async def test_one_elder_confirming_two_beds_at_once_gets_one(
    client: httpx.AsyncClient, scene: dict[str, Any], db: Any
) -> None:
    """Holds of two beds for the same nights race to confirm: the elder sleeps in one."""
    other_bed = await builders.bed(db, scene["facility"])
    first = (await place(client, scene)).json()
    second = (
        await place(client, {**scene, "bed": other_bed}, check_in=scene["ci"] + timedelta(days=2))
    ).json()
    answers = await asyncio.gather(
        confirm(client, first, scene["headers"], key="a"),
        confirm(client, second, scene["headers"], key="b"),
    )
    assert sorted(a.status_code for a in answers) == [201, 409]
    [refused] = [a for a in answers if a.status_code == 409]
    [booked] = [a.json() for a in answers if a.status_code == 201]
    assert refused.headers["content-type"].startswith("application/problem+json")
    problem = refused.json()
    assert problem["type"] == "/problems/elder-already-staying"
    assert problem["care_recipient_id"] == scene["recipient"]
    assert problem["conflicting_stay"] == {
        "check_in": booked["check_in"],
        "check_out": booked["check_out"],
    }
    assert "one bed a night" in problem["detail"]
    assert await db.fetchval("SELECT count(*) FROM bookings") == 1
    ledger = await db.fetch(
        "SELECT booking_id FROM recipient_nights WHERE care_recipient_id = $1", scene["recipient"]
    )
    assert [row["booking_id"] for row in ledger] == [booked["id"]] * booked["nights"]


async def test_the_same_key_with_another_body_is_422(
    client: httpx.AsyncClient, scene: dict[str, Any], db: Any
) -> None:
    co = scene["co"]
    first = (await place(client, scene)).json()
    second = (await place(client, scene, check_in=co, check_out=co + timedelta(days=2))).json()
    assert (await confirm(client, first, scene["headers"], key="k")).status_code == 201
    reused = await confirm(client, second, scene["headers"], key="k")
    assert reused.status_code == 422
    assert reused.json()["errors"][0]["field"] == "Idempotency-Key"
    assert await db.fetchval("SELECT count(*) FROM bookings") == 1


async def test_confirm_needs_an_idempotency_key(
    client: httpx.AsyncClient, scene: dict[str, Any]
) -> None:
    hold = (await place(client, scene)).json()
    response = await client.post(
        f"/v1/holds/{hold['hold_id']}/confirm",
        json={"token": hold["token"]},
        headers=scene["headers"],
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "Idempotency-Key"


async def test_placing_with_an_idempotency_key_replays_the_same_hold(
    client: httpx.AsyncClient, scene: dict[str, Any]
) -> None:
    headers = {**scene["headers"], "Idempotency-Key": "place-1"}
    first = await client.post("/v1/holds", json=hold_body(scene), headers=headers)
    again = await client.post("/v1/holds", json=hold_body(scene), headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json()["hold_id"] == again.json()["hold_id"]


async def test_an_ineligible_elder_gets_every_reason(
    client: httpx.AsyncClient, scene: dict[str, Any], db: Any
) -> None:
    young = await builders.recipient(
        db, family_id=scene["family"].id, birth_date=date(1990, 1, 1), level=0
    )
    response = await place(client, {**scene, "recipient": young})
    assert response.status_code == 422
    codes = set(response.json()["refused"])
    assert {"age_below_minimum", "level_not_eligible"} <= codes


async def test_a_booked_bed_is_409_naming_the_booking(
    client: httpx.AsyncClient, scene: dict[str, Any], db: Any
) -> None:
    night = scene["ci"] + timedelta(days=2)
    booking = await builders.booking(db, scene["bed"], night, scene["co"] + timedelta(days=3))
    response = await place(client, scene)
    assert response.status_code == 409
    problem = response.json()
    assert (problem["type"], problem["title"]) == (
        "/problems/bed-taken",
        "The bed is taken on a night of the stay",
    )
    assert (problem["bed_id"], problem["night"]) == (scene["bed"], night.isoformat())
    assert (problem["conflicting_booking"], problem["conflicting_block"]) == (booking, None)


async def test_the_service_picks_the_tightest_gap(
    client: httpx.AsyncClient, scene: dict[str, Any], db: Any
) -> None:
    roomy = scene["bed"]
    ci, co = scene["ci"], scene["co"]
    snug = await builders.bed(db, scene["facility"])
    await builders.booking(db, snug, ci - timedelta(days=3), ci)
    await builders.booking(db, snug, co, co + timedelta(days=3))
    await builders.booking(db, roomy, ci - timedelta(days=30), ci - timedelta(days=20))
    body = {**hold_body(scene), "facility_id": scene["facility"], "kind": "respite"}
    del body["bed_id"]
    response = await client.post("/v1/holds", json=body, headers=scene["headers"])
    assert response.status_code == 201, response.text
    assert response.json()["bed"]["id"] == snug


Change = Callable[[dict[str, Any]], dict[str, Any]]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda s: {"check_out": s["ci"].isoformat()}, "check_out"),
        (lambda s: {"bed_id": "3"}, "bed_id"),
        (lambda s: {"facility_id": 1}, "bed_id"),
        (lambda s: {"surprise": 1}, "surprise"),
        (lambda s: {"check_in": "2026-02-30"}, "check_in"),
    ],
)
async def test_bad_hold_requests_are_422_and_hold_nothing(
    shared_client: httpx.AsyncClient,
    shared_scene: dict[str, Any],
    shared_redis_url: str,
    change: Change,
    field: str,
) -> None:
    response = await shared_client.post(
        "/v1/holds",
        json={**hold_body(shared_scene), **change(shared_scene)},
        headers=shared_scene["headers"],
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == field
    client_ = redis.Redis.from_url(shared_redis_url)
    try:
        assert await client_.keys("*:holds") == []
    finally:
        await client_.aclose()


async def test_holds_need_a_token(
    shared_client: httpx.AsyncClient, shared_scene: dict[str, Any]
) -> None:
    assert (await shared_client.post("/v1/holds", json=hold_body(shared_scene))).status_code == 401


async def test_an_unreadable_entry_in_redis_holds_nothing(
    client: httpx.AsyncClient, scene: dict[str, Any], redis_url: str
) -> None:
    client_ = redis.Redis.from_url(redis_url)
    try:
        await client_.hset(f"{{f:{scene['facility']}}}:holds", "junk", b"not json")
    finally:
        await client_.aclose()
    response = await place(client, scene)
    assert response.status_code == 201, response.text


async def test_a_facility_without_a_free_bed_is_409_no_free_bed(
    client: httpx.AsyncClient, scene: dict[str, Any], db: Any
) -> None:
    await builders.booking(db, scene["bed"], scene["ci"], scene["co"])
    body = {**hold_body(scene), "facility_id": scene["facility"], "kind": "respite"}
    del body["bed_id"]
    response = await client.post("/v1/holds", json=body, headers=scene["headers"])
    assert response.status_code == 409, response.text
    problem = response.json()
    assert (problem["type"], problem["title"]) == (
        "/problems/no-free-bed",
        "No free bed in this facility",
    )
    assert (problem["facility_id"], problem["kind"]) == (scene["facility"], "respite")
    assert problem["reason"] == "no_free_bed"


async def test_a_bed_whose_facility_has_no_policy_in_force_is_409(
    client: httpx.AsyncClient, scene: dict[str, Any], db: Any
) -> None:
    await db.execute(
        "UPDATE facilities SET respite_policy_code = 'nowhere' WHERE id = $1", scene["facility"]
    )
    response = await place(client, scene)
    assert response.status_code == 409, response.text
    problem = response.json()
    assert problem["type"] == "/problems/no-policy-in-force"
    assert (problem["policy_code"], problem["on"]) == ("nowhere", scene["ci"].isoformat())


def _at(iso: str) -> datetime:
    return datetime.fromisoformat(iso)
