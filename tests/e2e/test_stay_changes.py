"""Changing a stay through the API: extend, shorten and move, each quoted first and then made
at the quoted price; the ledgers of bed nights and elder nights exactly the stay's after each;
freed nights queued for the waiting list; who may change what and when; a change that loses a
race or is refused leaves the stay as it was."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from respite.clock import ManualClock
from tests import builders
from tests.conftest import MakeToken
from tests.e2e.test_booking_lifecycle import on_day
from tests.e2e.test_notifications_api import book
from tests.e2e.test_problems import assert_problem


def day(offset: int) -> date:
    return builders.today() + timedelta(days=offset)


def stay(check_in: int, check_out: int, **more: Any) -> dict[str, Any]:
    return {"check_in": day(check_in).isoformat(), "check_out": day(check_out).isoformat(), **more}


async def quote_and_change(
    client: httpx.AsyncClient, booking: int, headers: dict[str, str], change: dict[str, Any]
) -> tuple[dict[str, Any], httpx.Response]:
    quoted = await client.post(f"/v1/bookings/{booking}/change/quote", json=change, headers=headers)
    assert quoted.status_code == 200, quoted.text
    price = quoted.json()["nightly_price"]
    made = await client.post(
        f"/v1/bookings/{booking}/change", json={**change, "nightly_price": price}, headers=headers
    )
    return quoted.json(), made


async def ledgers(db: Any, booking: int) -> tuple[list[tuple[int, date]], list[date]]:
    """The bed nights and the elder nights the booking claims."""
    beds = await db.fetch(
        "SELECT bed_id, night FROM bed_nights WHERE booking_id = $1 ORDER BY night", booking
    )
    elders = await db.fetch(
        "SELECT night FROM recipient_nights WHERE booking_id = $1 ORDER BY night", booking
    )
    return [(r["bed_id"], r["night"]) for r in beds], [r["night"] for r in elders]


def nights(bed: int, check_in: int, check_out: int) -> tuple[list[tuple[int, date]], list[date]]:
    span = [day(n) for n in range(check_in, check_out)]
    return [(bed, night) for night in span], span


class Family:
    def __init__(self, headers: dict[str, str], elder: int, facility: int, bed: int) -> None:
        self.headers, self.elder, self.facility, self.bed = headers, elder, facility, bed


@pytest.fixture
async def family(db: Any, make_token: MakeToken) -> Family:
    facility = await builders.facility(db)
    bed = await builders.bed(db, facility, price=30000)
    owner, headers = await make_token("family")
    elder = await builders.recipient(db, family_id=owner.id)
    return Family(headers, elder, facility, bed)


async def test_a_family_extends_its_stay_at_the_price_it_was_quoted(
    client: httpx.AsyncClient, db: Any, family: Family
) -> None:
    booking = await book(client, family.headers, family.elder, family.bed, "extend-1")
    assert (booking["check_in"], booking["check_out"]) == (str(day(10)), str(day(13)))
    quote, made = await quote_and_change(client, booking["id"], family.headers, stay(10, 15))
    assert quote["nights"] == 5 and quote["nights_added"] == 2 and quote["nights_freed"] == 0
    assert quote["total_price"] == 5 * 30000 and quote["difference"] == 2 * 30000
    assert made.status_code == 200, made.text
    changed = made.json()
    assert (changed["check_out"], changed["nights"], changed["total_price"]) == (
        str(day(15)),
        5,
        150000,
    )
    assert await ledgers(db, booking["id"]) == nights(family.bed, 10, 15)
    audit = await db.fetchrow(
        "SELECT before, after FROM audit_log WHERE action = 'change' AND entity_id = $1",
        str(booking["id"]),
    )
    assert audit is not None
    assert (audit["before"]["nights"], audit["after"]["nights"]) == (3, 5)


async def test_shortening_frees_nights_for_the_waiting_list(
    client: httpx.AsyncClient, db: Any, family: Family
) -> None:
    booking = await book(client, family.headers, family.elder, family.bed, "short-1")
    _, made = await quote_and_change(client, booking["id"], family.headers, stay(11, 13))
    assert made.status_code == 200, made.text
    assert await ledgers(db, booking["id"]) == nights(family.bed, 11, 13)
    job = await db.fetchrow(
        "SELECT cause, bed_id, from_night, until_night FROM waitlist_jobs"
        " WHERE cause = 'stay_shortened'"
    )
    assert dict(job) == {
        "cause": "stay_shortened",
        "bed_id": family.bed,
        "from_night": day(10),
        "until_night": day(11),
    }


async def test_a_move_to_another_facility_claims_there_before_it_frees_here(
    client: httpx.AsyncClient, db: Any, family: Family
) -> None:
    booking = await book(client, family.headers, family.elder, family.bed, "move-1")
    elsewhere = await builders.facility(db)
    other_bed = await builders.bed(db, elsewhere, price=25000)
    change = stay(12, 16, bed_id=other_bed)
    quote, made = await quote_and_change(client, booking["id"], family.headers, change)
    assert (quote["facility_id"], quote["bed_id"], quote["nightly_price"]) == (
        elsewhere,
        other_bed,
        25000,
    )
    assert quote["nights_added"] == 4 and quote["nights_freed"] == 3
    assert made.status_code == 200, made.text
    assert (made.json()["facility_id"], made.json()["bed_id"]) == (elsewhere, other_bed)
    assert await ledgers(db, booking["id"]) == nights(other_bed, 12, 16)
    assert await db.fetchval("SELECT count(*) FROM bed_nights WHERE bed_id = $1", family.bed) == 0
    assert await db.fetchval("SELECT cause FROM waitlist_jobs WHERE bed_id = $1", family.bed) == (
        "stay_moved"
    )


async def test_a_price_changed_since_the_quote_changes_nothing(
    client: httpx.AsyncClient, db: Any, family: Family
) -> None:
    booking = await book(client, family.headers, family.elder, family.bed, "price-1")
    other_bed = await builders.bed(db, family.facility, price=28000)
    change = stay(10, 13, bed_id=other_bed)
    quoted = await client.post(
        f"/v1/bookings/{booking['id']}/change/quote", json=change, headers=family.headers
    )
    await db.execute("UPDATE beds SET nightly_price = 31000 WHERE id = $1", other_bed)
    made = await client.post(
        f"/v1/bookings/{booking['id']}/change",
        json={**change, "nightly_price": quoted.json()["nightly_price"]},
        headers=family.headers,
    )
    assert_problem(made, 409, "price-changed")
    assert await ledgers(db, booking["id"]) == nights(family.bed, 10, 13)
    without = await client.post(
        f"/v1/bookings/{booking['id']}/change", json=change, headers=family.headers
    )
    assert [e["field"] for e in assert_problem(without, 422, "invalid-input")["errors"]] == [
        "nightly_price"
    ]


async def test_a_move_onto_taken_nights_leaves_the_stay_whole(
    client: httpx.AsyncClient, db: Any, family: Family
) -> None:
    booking = await book(client, family.headers, family.elder, family.bed, "taken-1")
    other_bed = await builders.bed(db, family.facility, price=30000)
    await builders.booking(db, other_bed, day(14), day(15))
    _, made = await quote_and_change(
        client, booking["id"], family.headers, stay(10, 13, bed_id=other_bed)
    )
    assert made.status_code == 200  # the taken night is outside the stay
    longer = stay(10, 15, bed_id=other_bed)
    quoted = await client.post(
        f"/v1/bookings/{booking['id']}/change/quote", json=longer, headers=family.headers
    )
    assert assert_problem(quoted, 409, "bed-taken")["night"] == str(day(14))
    # The change itself refuses too (as when a night is taken after its quote): nothing changes.
    made = await client.post(
        f"/v1/bookings/{booking['id']}/change",
        json={**longer, "nightly_price": 30000},
        headers=family.headers,
    )
    assert_problem(made, 409, "bed-taken")
    assert await ledgers(db, booking["id"]) == nights(other_bed, 10, 13)


async def test_an_elder_who_may_not_have_the_new_bed_is_told_why_and_keeps_the_old(
    client: httpx.AsyncClient, db: Any, family: Family
) -> None:
    booking = await book(client, family.headers, family.elder, family.bed, "sex-1")
    men_only = await builders.bed(db, family.facility, sex_rule="male")
    quoted = await client.post(
        f"/v1/bookings/{booking['id']}/change/quote",
        json=stay(10, 13, bed_id=men_only),
        headers={**family.headers, "Accept-Language": "zh-CN"},
    )
    problem = assert_problem(quoted, 422, "not-eligible")
    assert any(not reason["ok"] for reason in problem["reasons"])
    assert await ledgers(db, booking["id"]) == nights(family.bed, 10, 13)


async def test_who_may_change_a_stay_and_when(
    client: httpx.AsyncClient, db: Any, family: Family, make_token: MakeToken, clock: ManualClock
) -> None:
    booking = await book(client, family.headers, family.elder, family.bed, "who-1")
    _, stranger = await make_token("family")
    refused = await client.post(
        f"/v1/bookings/{booking['id']}/change/quote", json=stay(10, 14), headers=stranger
    )
    assert_problem(refused, 404, "not-found")
    _, other_staff = await make_token("staff", facility_id=await builders.facility(db))
    assert (
        await client.post(
            f"/v1/bookings/{booking['id']}/change/quote", json=stay(10, 14), headers=other_staff
        )
    ).status_code == 404
    same = await client.post(
        f"/v1/bookings/{booking['id']}/change/quote", json=stay(10, 13), headers=family.headers
    )
    assert [e["field"] for e in assert_problem(same, 422, "invalid-input")["errors"]] == [
        "check_out"
    ]

    # On the day of check-in the family asks the care home; its staff extend the stay under way.
    on_day(clock, 10)
    late = await client.post(
        f"/v1/bookings/{booking['id']}/change/quote", json=stay(10, 14), headers=family.headers
    )
    assert_problem(late, 409, "step-not-allowed")
    _, staff = await make_token("staff", facility_id=family.facility)
    checked_in = await client.post(f"/v1/bookings/{booking['id']}/check-in", headers=staff)
    assert checked_in.status_code == 200, checked_in.text
    on_day(clock, 11)
    moved = await client.post(
        f"/v1/bookings/{booking['id']}/change/quote",
        json=stay(10, 14, bed_id=await builders.bed(db, family.facility)),
        headers=staff,
    )
    assert [e["field"] for e in assert_problem(moved, 422, "invalid-input")["errors"]] == ["bed_id"]
    _, extended = await quote_and_change(client, booking["id"], staff, stay(10, 16))
    assert extended.status_code == 200, extended.text
    assert extended.json()["status"] == "checked_in"
    assert await ledgers(db, booking["id"]) == nights(family.bed, 10, 16)


async def test_a_move_racing_a_walk_in_for_the_same_bed_leaves_one_winner(
    client: httpx.AsyncClient, db: Any, family: Family, make_token: MakeToken
) -> None:
    booking = await book(client, family.headers, family.elder, family.bed, "race-1")
    target = await builders.bed(db, family.facility, price=30000)
    _, staff = await make_token("staff", facility_id=family.facility)
    walker = await builders.recipient(db, facility_id=family.facility)
    change = stay(10, 13, bed_id=target, nightly_price=30000)
    walk_in = {"care_recipient_id": walker, "bed_id": target, **stay(11, 12)}
    moved, walked = await asyncio.gather(
        client.post(f"/v1/bookings/{booking['id']}/change", json=change, headers=family.headers),
        client.post(f"/v1/facilities/{family.facility}/walk-ins", json=walk_in, headers=staff),
    )
    assert sorted([moved.status_code, walked.status_code]) in ([200, 409], [201, 409])
    if moved.status_code == 200:
        assert await ledgers(db, booking["id"]) == nights(target, 10, 13)
    else:
        assert_problem(moved, 409, "bed-taken")
        assert await ledgers(db, booking["id"]) == nights(family.bed, 10, 13)
    taken = await db.fetchval(
        "SELECT count(*) FROM bed_nights WHERE bed_id = $1 AND night = $2", target, day(11)
    )
    assert taken == 1


async def test_a_hospital_hears_its_booking_changed(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken
) -> None:
    facility = await builders.facility(db)
    bed = await builders.bed(db, facility)
    hospital = await builders.hospital(db)
    _, headers = await make_token("hospital", hospital_id=hospital)
    elder = await builders.recipient(db, hospital_id=hospital)
    creator = await db.fetchval("SELECT id FROM principals WHERE hospital_id = $1", hospital)
    referral_id = await db.fetchval(
        "INSERT INTO referrals (hospital_id, care_recipient_id, kind, discharge_date, nights,"
        " contact_name, created_by) VALUES ($1, $2, 'respite', $3, 3, 'Zhou', $4) RETURNING id",
        hospital,
        elder,
        day(10),
        creator,
    )
    hold = await client.post(
        "/v1/holds",
        json={
            "care_recipient_id": elder,
            "bed_id": bed,
            "referral_id": referral_id,
            **stay(10, 13),
        },
        headers=headers,
    )
    assert hold.status_code == 201, hold.text
    confirmed = await client.post(
        f"/v1/holds/{hold.json()['hold_id']}/confirm",
        json={"token": hold.json()["token"]},
        headers={**headers, "Idempotency-Key": "confirm-change-1"},
    )
    assert confirmed.status_code == 201, confirmed.text
    _, made = await quote_and_change(client, confirmed.json()["id"], headers, stay(10, 14))
    assert made.status_code == 200, made.text
    event = await db.fetchrow("SELECT body FROM webhook_events WHERE type = 'booking.changed'")
    assert event is not None and str(day(14)) in event["body"]
    status = await db.fetchval("SELECT status FROM referrals WHERE id = $1", referral_id)
    assert status == "booked"
