"""Stays on site: check-in, check-out, no-show and cancel, each legal or a 409 naming the
current status, each audited with before and after, and each freeing what it should."""

import asyncio
from datetime import date, timedelta
from typing import Any

import httpx
import msgspec
import pytest

from respite.clock import ManualClock
from tests import builders
from tests.conftest import MakeToken


def day(offset: int) -> date:
    """The facility's date ``offset`` days after the suite's today (the builders' facilities
    are in Shanghai, and their assessments are valid around that date)."""
    return builders.today() + timedelta(days=offset)


def on_day(clock: ManualClock, offset: int) -> None:
    """Set the app's clock ``offset`` days after the suite's start: the facility's date is
    then ``day(offset)``."""
    clock.set(builders.SUITE_START + timedelta(days=offset))


class Site(msgspec.Struct):
    facility: int
    bed: int
    staff: dict[str, str]


async def open_site(db: Any, make_token: MakeToken) -> Site:
    facility = await builders.facility(db)
    bed = await builders.bed(db, facility)
    _, staff = await make_token("staff", facility_id=facility)
    return Site(facility, bed, staff)


@pytest.fixture
async def site(db: Any, make_token: MakeToken) -> Site:
    return await open_site(db, make_token)


@pytest.fixture(scope="module")
async def shared_site(shared_db: Any, shared_make_token: MakeToken) -> Site:
    """For the tests that only refuse: they share one database (see conftest), and each
    books a bed of its own at the site."""
    return await open_site(shared_db, shared_make_token)


async def act(
    client: httpx.AsyncClient, booking: int, action: str, headers: dict[str, str]
) -> httpx.Response:
    if action == "cancel":
        return await client.post(
            f"/v1/bookings/{booking}/cancel", json={"reason": "plans changed"}, headers=headers
        )
    return await client.post(f"/v1/bookings/{booking}/{action}", headers=headers)


async def state(db: Any, booking: int) -> tuple[Any, ...]:
    row = await db.fetchrow(
        "SELECT status, check_out, total_price FROM bookings WHERE id = $1", booking
    )
    nights = await db.fetchval("SELECT count(*) FROM bed_nights WHERE booking_id = $1", booking)
    audited = await db.fetchval(
        "SELECT count(*) FROM audit_log WHERE entity = 'booking' AND entity_id = $1", str(booking)
    )
    return (*row.values(), nights, audited)


async def last_audit(db: Any, booking: int) -> dict[str, Any]:
    row = await db.fetchrow(
        "SELECT principal_id, role, action, facility_id, before, after FROM audit_log"
        " WHERE entity = 'booking' AND entity_id = $1 ORDER BY id DESC LIMIT 1",
        str(booking),
    )
    return dict(row)


async def booked_nights(db: Any, bed: int) -> list[date]:
    rows = await db.fetch("SELECT night FROM bed_nights WHERE bed_id = $1 ORDER BY night", bed)
    return [r["night"] for r in rows]


async def test_check_in_then_check_out_on_time(
    client: httpx.AsyncClient, db: Any, site: Site, clock: ManualClock
) -> None:
    booking = await builders.booking(db, site.bed, day(0), day(3))
    checked_in = await act(client, booking, "check-in", site.staff)
    assert checked_in.status_code == 200, checked_in.text
    assert checked_in.json()["status"] == "checked_in"
    assert checked_in.json()["checked_in_at"] is not None
    entry = await last_audit(db, booking)
    assert (entry["action"], entry["role"], entry["facility_id"]) == (
        "check_in",
        "staff",
        site.facility,
    )
    assert (entry["before"]["status"], entry["after"]["status"]) == ("confirmed", "checked_in")

    on_day(clock, 3)
    checked_out = await act(client, booking, "check-out", site.staff)
    assert checked_out.status_code == 200, checked_out.text
    assert checked_out.json()["status"] == "checked_out"
    assert checked_out.json()["check_out"] == day(3).isoformat()
    assert checked_out.json()["nights"] == 3
    entry = await last_audit(db, booking)
    assert (entry["before"]["status"], entry["after"]["status"]) == ("checked_in", "checked_out")
    assert entry["after"]["nights_freed"] == 0
    assert await booked_nights(db, site.bed) == [day(0), day(1), day(2)]


@pytest.mark.parametrize(
    ("status", "action", "today"),
    [
        ("confirmed", "check-out", 0),  # check-out before check-in
        ("cancelled", "check-in", 0),  # check-in of a cancelled booking
        ("confirmed", "check-in", -1),  # check-in before the stay starts
        ("confirmed", "check-in", 3),  # check-in after the stay ended
        ("confirmed", "no-show", -1),  # no-show before the stay starts
        ("checked_in", "cancel", 1),  # cancel after check-in
        ("checked_in", "no-show", 1),
        ("checked_in", "check-in", 1),
        ("checked_out", "check-out", 3),
        ("no_show", "check-in", 1),
        ("cancelled", "cancel", 0),
    ],
)
async def test_illegal_transitions_are_409_with_the_current_status_and_change_nothing(
    client: httpx.AsyncClient,
    db: Any,
    site: Site,
    clock: ManualClock,
    status: str,
    action: str,
    today: int,
) -> None:
    booking = await builders.booking(db, site.bed, day(0), day(3), status=status)
    on_day(clock, today)
    before = await state(db, booking)
    response = await act(client, booking, action, site.staff)
    assert response.status_code == 409, response.text
    problem = response.json()
    assert (problem["type"], problem["title"]) == (
        "/problems/step-not-allowed",
        "This step is not allowed now",
    )
    assert problem["current_status"] == status
    assert problem["action"] == action.replace("-", "_")
    assert problem["booking_id"] == booking
    assert await state(db, booking) == before


async def test_an_early_check_out_frees_the_remaining_nights_at_once(
    client: httpx.AsyncClient, db: Any, site: Site, clock: ManualClock
) -> None:
    booking = await builders.booking(db, site.bed, day(0), day(5))  # 100 a night
    assert (await act(client, booking, "check-in", site.staff)).status_code == 200
    on_day(clock, 2)
    response = await act(client, booking, "check-out", site.staff)
    assert response.status_code == 200, response.text
    left = response.json()
    assert (left["status"], left["check_out"], left["nights"]) == (
        "checked_out",
        day(2).isoformat(),
        2,
    )
    assert left["total_price"] == 2 * 100
    assert await booked_nights(db, site.bed) == [day(0), day(1)]
    entry = await last_audit(db, booking)
    assert entry["before"]["check_out"] == day(5).isoformat()
    assert entry["after"]["check_out"] == day(2).isoformat()
    assert entry["after"]["nights_freed"] == 3

    # The freed nights are bookable straight away.
    elder = await builders.recipient(db, facility_id=site.facility)
    walk_in = await client.post(
        f"/v1/facilities/{site.facility}/walk-ins",
        json={
            "care_recipient_id": elder,
            "bed_id": site.bed,
            "check_in": day(2).isoformat(),
            "check_out": day(5).isoformat(),
        },
        headers=site.staff,
    )
    assert walk_in.status_code == 201, walk_in.text


async def test_a_no_show_frees_the_whole_stay(
    client: httpx.AsyncClient, db: Any, site: Site, clock: ManualClock
) -> None:
    booking = await builders.booking(db, site.bed, day(0), day(3))
    on_day(clock, 1)
    response = await act(client, booking, "no-show", site.staff)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "no_show"
    assert await booked_nights(db, site.bed) == []
    entry = await last_audit(db, booking)
    assert (entry["action"], entry["before"]["status"], entry["after"]["status"]) == (
        "no_show",
        "confirmed",
        "no_show",
    )
    assert entry["after"]["nights_freed"] == 3

    elder = await builders.recipient(db, facility_id=site.facility)
    walk_in = await client.post(
        f"/v1/facilities/{site.facility}/walk-ins",
        json={
            "care_recipient_id": elder,
            "bed_id": site.bed,
            "check_in": day(1).isoformat(),
            "check_out": day(3).isoformat(),
        },
        headers=site.staff,
    )
    assert walk_in.status_code == 201, walk_in.text


async def test_a_family_cancels_its_own_booking_before_check_in(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken, site: Site
) -> None:
    family, headers = await make_token("family")
    elder = await builders.recipient(db, family_id=family.id)
    booking = await builders.booking(db, site.bed, day(1), day(4), recipient_id=elder)
    response = await client.post(
        f"/v1/bookings/{booking}/cancel", json={"reason": "  feeling better  "}, headers=headers
    )
    assert response.status_code == 200, response.text
    cancelled = response.json()
    assert cancelled["status"] == "cancelled" and cancelled["cancelled_at"] is not None
    assert cancelled["cancel_reason"] == "feeling better"
    row = await db.fetchrow(
        "SELECT cancelled_by, cancel_reason FROM bookings WHERE id = $1", booking
    )
    assert (row["cancelled_by"], row["cancel_reason"]) == (family.id, "feeling better")
    assert await booked_nights(db, site.bed) == []
    entry = await last_audit(db, booking)
    assert (entry["principal_id"], entry["role"], entry["action"]) == (
        family.id,
        "family",
        "cancel",
    )
    assert entry["before"]["status"] == "confirmed" and entry["before"]["cancel_reason"] is None
    assert entry["after"]["status"] == "cancelled"
    assert entry["after"]["cancel_reason"] == "feeling better"


async def test_a_family_cannot_cancel_after_check_in(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken, site: Site
) -> None:
    family, headers = await make_token("family")
    elder = await builders.recipient(db, family_id=family.id)
    booking = await builders.booking(
        db, site.bed, day(0), day(3), recipient_id=elder, status="checked_in"
    )
    before = await state(db, booking)
    response = await act(client, booking, "cancel", headers)
    assert response.status_code == 409, response.text
    assert response.json()["current_status"] == "checked_in"
    assert await state(db, booking) == before


async def test_cancel_by_each_role(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken, site: Site
) -> None:
    other_facility = await builders.facility(db)
    hospital = await builders.hospital(db)
    _, other_staff = await make_token("staff", facility_id=other_facility)
    _, other_family = await make_token("family")
    _, hospital_headers = await make_token("hospital", hospital_id=hospital)
    _, other_hospital = await make_token("hospital", hospital_id=await builders.hospital(db))
    _, admin = await make_token("admin")

    async def fresh(start: int) -> int:
        return await builders.booking(db, site.bed, day(start), day(start + 1))

    refused = await fresh(0)
    await db.execute("UPDATE bookings SET hospital_id = $1 WHERE id = $2", hospital, refused)
    before = await state(db, refused)
    for headers in (other_staff, other_family, other_hospital):
        response = await act(client, refused, "cancel", headers)
        assert response.status_code == 404, response.text
        assert response.json()["entity"] == "booking"
    assert await state(db, refused) == before

    hospitals = await fresh(1)
    await db.execute("UPDATE bookings SET hospital_id = $1 WHERE id = $2", hospital, hospitals)
    for booking, headers in (
        (refused, site.staff),
        (hospitals, hospital_headers),
        (await fresh(2), admin),
    ):
        response = await act(client, booking, "cancel", headers)
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "cancelled"
    assert await booked_nights(db, site.bed) == []


@pytest.mark.parametrize("role", ["family", "hospital"])
@pytest.mark.parametrize("action", ["check-in", "check-out", "no-show"])
async def test_only_staff_and_admins_move_a_stay_on_site(
    shared_client: httpx.AsyncClient,
    shared_db: Any,
    shared_make_token: MakeToken,
    shared_site: Site,
    role: str,
    action: str,
) -> None:
    hospital = await builders.hospital(shared_db) if role == "hospital" else None
    principal, headers = await shared_make_token(role, hospital_id=hospital)
    elder = await builders.recipient(
        shared_db, family_id=principal.id if role == "family" else None, hospital_id=hospital
    )
    bed = await builders.bed(shared_db, shared_site.facility)
    booking = await builders.booking(shared_db, bed, day(0), day(2), recipient_id=elder)
    await shared_db.execute("UPDATE bookings SET hospital_id = $1 WHERE id = $2", hospital, booking)
    before = await state(shared_db, booking)
    response = await act(shared_client, booking, action, headers)
    assert response.status_code == 403, response.text
    assert await state(shared_db, booking) == before


async def test_staff_of_another_facility_cannot_touch_a_booking(
    shared_client: httpx.AsyncClient,
    shared_db: Any,
    shared_make_token: MakeToken,
    shared_site: Site,
) -> None:
    bed = await builders.bed(shared_db, shared_site.facility)
    booking = await builders.booking(shared_db, bed, day(0), day(2))
    _, other = await shared_make_token("staff", facility_id=await builders.facility(shared_db))
    before = await state(shared_db, booking)
    for action in ("check-in", "no-show", "cancel", "check-out"):
        response = await act(shared_client, booking, action, other)
        assert response.status_code == 404, (action, response.text)
    assert (await shared_client.get(f"/v1/bookings/{booking}", headers=other)).status_code == 404
    assert await state(shared_db, booking) == before


async def test_two_cancels_at_once_one_wins_one_is_told_the_status(
    client: httpx.AsyncClient, db: Any, site: Site
) -> None:
    booking = await builders.booking(db, site.bed, day(1), day(3))
    responses = await asyncio.gather(
        *(act(client, booking, "cancel", site.staff) for _ in range(4))
    )
    assert sorted(r.status_code for r in responses) == [200, 409, 409, 409]
    assert all(r.json()["current_status"] == "cancelled" for r in responses if r.status_code == 409)
    assert (await state(db, booking))[3:] == (0, 1)  # no nights left, one audit entry


async def test_check_in_and_cancel_at_once_exactly_one_applies(
    client: httpx.AsyncClient, db: Any, site: Site
) -> None:
    booking = await builders.booking(db, site.bed, day(0), day(3))
    check_in, cancel = await asyncio.gather(
        act(client, booking, "check-in", site.staff), act(client, booking, "cancel", site.staff)
    )
    assert sorted([check_in.status_code, cancel.status_code]) == [200, 409]
    winner, loser = (check_in, cancel) if check_in.status_code == 200 else (cancel, check_in)
    assert loser.json()["current_status"] == winner.json()["status"]
    status, _, _, nights, audited = await state(db, booking)
    assert status == winner.json()["status"]
    assert nights == (3 if status == "checked_in" else 0)
    assert audited == 1


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "reason"),
        ({"reason": ""}, "reason"),
        ({"reason": "   "}, "reason"),
        ({"reason": 5}, "reason"),
        ({"reason": "x" * 501}, "reason"),
        ({"reason": "ok", "status": "confirmed"}, "status"),
    ],
)
async def test_a_bad_cancel_body_is_422_and_changes_nothing(
    shared_client: httpx.AsyncClient,
    shared_db: Any,
    shared_site: Site,
    payload: dict[str, Any],
    field: str,
) -> None:
    bed = await builders.bed(shared_db, shared_site.facility)
    booking = await builders.booking(shared_db, bed, day(0), day(2))
    before = await state(shared_db, booking)
    response = await shared_client.post(
        f"/v1/bookings/{booking}/cancel", json=payload, headers=shared_site.staff
    )
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == [field]
    assert await state(shared_db, booking) == before


@pytest.mark.parametrize("ident", [str(2**63), "0", "-5", "abc"])
async def test_a_bad_booking_id_is_a_4xx(
    shared_client: httpx.AsyncClient, shared_site: Site, ident: str
) -> None:
    for response in (
        await shared_client.get(f"/v1/bookings/{ident}", headers=shared_site.staff),
        await shared_client.post(f"/v1/bookings/{ident}/check-in", headers=shared_site.staff),
    ):
        assert 400 <= response.status_code < 500, response.text


async def test_a_retried_cancel_with_its_idempotency_key_answers_the_same(
    client: httpx.AsyncClient, db: Any, site: Site
) -> None:
    booking = await builders.booking(db, site.bed, day(1), day(3))
    headers = {**site.staff, "Idempotency-Key": "cancel-1"}
    path, reason = f"/v1/bookings/{booking}/cancel", {"reason": "plans changed"}
    first = await client.post(path, json=reason, headers=headers)
    again = await client.post(path, json=reason, headers=headers)
    assert (first.status_code, again.status_code) == (200, 200), again.text
    assert first.json() == again.json()
    assert (await state(db, booking))[3:] == (0, 1)  # freed once, audited once

    without_key = await client.post(path, json=reason, headers=site.staff)
    assert without_key.status_code == 409
    other_reason = await client.post(path, json={"reason": "another"}, headers=headers)
    assert other_reason.status_code == 422
    assert [e["field"] for e in other_reason.json()["errors"]] == ["Idempotency-Key"]
    bad_key = await client.post(
        path, json=reason, headers={**site.staff, "Idempotency-Key": "has space"}
    )
    assert bad_key.status_code == 422


async def assert_the_elder_ledger_is_the_live_stays(db: Any) -> None:
    """Invariant 7's ledger holds exactly one row per night of each live booking's elder."""
    ledger = await db.fetch("SELECT care_recipient_id, night, booking_id FROM recipient_nights")
    live = await db.fetch(
        "SELECT care_recipient_id, check_in + k AS night, id AS booking_id FROM bookings,"
        " generate_series(0, check_out - check_in - 1) AS k"
        " WHERE status IN ('confirmed', 'checked_in')"
    )
    assert sorted(map(tuple, ledger)) == sorted(map(tuple, live))


async def test_the_elder_ledger_is_exactly_the_live_stays_after_every_step(
    client: httpx.AsyncClient, db: Any, site: Site, clock: ManualClock
) -> None:
    beds = [site.bed] + [await builders.bed(db, site.facility) for _ in range(3)]
    elders = [await builders.recipient(db, facility_id=site.facility) for _ in range(4)]

    async def walk_in(elder: int, bed: int, first: int, last: int, now: bool = False) -> int:
        response = await client.post(
            f"/v1/facilities/{site.facility}/walk-ins",
            json={
                "care_recipient_id": elder,
                "bed_id": bed,
                "check_in": day(first).isoformat(),
                "check_out": day(last).isoformat(),
                "check_in_now": now,
            },
            headers=site.staff,
        )
        assert response.status_code == 201, response.text
        await assert_the_elder_ledger_is_the_live_stays(db)
        return int(response.json()["id"])

    async def step(booking: int, action: str) -> None:
        response = await act(client, booking, action, site.staff)
        assert response.status_code == 200, response.text
        await assert_the_elder_ledger_is_the_live_stays(db)

    leaving_early = await walk_in(elders[0], beds[0], 0, 5, now=True)
    missing = await walk_in(elders[1], beds[1], 1, 3)
    cancelled = await walk_in(elders[2], beds[2], 3, 6)
    on_time = await walk_in(elders[3], beds[3], 0, 2, now=True)
    await step(cancelled, "cancel")
    await walk_in(elders[2], beds[2], 3, 6)  # the cancelled stay's nights are the elder's again
    on_day(clock, 1)
    await step(missing, "no-show")
    on_day(clock, 2)
    await step(leaving_early, "check-out")
    await step(on_time, "check-out")
    await walk_in(elders[0], beds[1], 2, 4)  # elsewhere, from the night the elder left
    assert await db.fetchval("SELECT count(*) FROM recipient_nights") == 3 + 2
