"""Walk-ins at a facility's desk: the same eligibility check as everyone else, an override that
is staff's to write (test_walk_in_overrides), and a bed that only one racer gets."""

import asyncio
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import httpx
import msgspec
import pytest

from respite.booking.model import MAX_OVERRIDES
from tests import builders
from tests.conftest import MakeToken

PRICE = 28000
OVERRIDE = "family in crisis; assessor visit booked for Monday"


class Desk(msgspec.Struct):
    facility: int
    bed: int
    recipient: int
    headers: dict[str, str]
    today: date
    """The facility's date by the suite's clock (the builders' assessments are valid then)."""


async def open_desk(db: Any, make_token: MakeToken) -> Desk:
    """A facility, a bed at its price, an elder it registered, and its staff's headers."""
    facility = await builders.facility(db)
    bed = await builders.bed(db, facility, price=PRICE, label="3F-12")
    recipient = await builders.recipient(db, facility_id=facility, level=2)
    _, headers = await make_token("staff", facility_id=facility)
    return Desk(facility, bed, recipient, headers, builders.today())


@pytest.fixture
async def desk(db: Any, make_token: MakeToken) -> Desk:
    return await open_desk(db, make_token)


@pytest.fixture(scope="module")
async def shared_desk(shared_db: Any, shared_make_token: MakeToken) -> Desk:
    """For the tests that only refuse: they share one database (see conftest)."""
    return await open_desk(shared_db, shared_make_token)


def body(desk: Desk, start: int = 0, nights: int = 3, **extra: Any) -> dict[str, Any]:
    return {
        "care_recipient_id": desk.recipient,
        "bed_id": desk.bed,
        "check_in": (desk.today + timedelta(start)).isoformat(),
        "check_out": (desk.today + timedelta(start + nights)).isoformat(),
        **extra,
    }


def url(facility: int) -> str:
    return f"/v1/facilities/{facility}/walk-ins"


async def counts(db: Any) -> tuple[int, int, int]:
    return (
        await db.fetchval("SELECT count(*) FROM bookings"),
        await db.fetchval("SELECT count(*) FROM bed_nights"),
        await db.fetchval("SELECT count(*) FROM audit_log WHERE entity = 'booking'"),
    )


async def audits(db: Any, booking: int) -> list[dict[str, Any]]:
    rows = await db.fetch(
        "SELECT principal_id, role, action, facility_id, before, after, at FROM audit_log"
        " WHERE entity = 'booking' AND entity_id = $1 ORDER BY id",
        str(booking),
    )
    return [dict(r) for r in rows]


async def test_an_eligible_walk_in_is_booked_and_audited(
    client: httpx.AsyncClient, db: Any, desk: Desk
) -> None:
    response = await client.post(url(desk.facility), json=body(desk), headers=desk.headers)
    assert response.status_code == 201, response.text
    booking = response.json()
    assert booking["status"] == "confirmed"
    assert (booking["bed_id"], booking["bed_label"]) == (desk.bed, "3F-12")
    assert (booking["facility_id"], booking["care_recipient_id"]) == (desk.facility, desk.recipient)
    assert booking["nights"] == 3
    assert (booking["nightly_price"], booking["total_price"]) == (PRICE, 3 * PRICE)
    assert booking["currency"] == "CNY"
    assert (booking["policy_code"], booking["policy_version"]) == ("cn-respite", 1)
    assert booking["override_reason"] is None
    assert "national_id" not in response.text

    nights = await db.fetch(
        "SELECT night, booking_id FROM bed_nights WHERE bed_id = $1 ORDER BY night", desk.bed
    )
    assert [r["night"] for r in nights] == [desk.today + timedelta(k) for k in range(3)]
    assert {r["booking_id"] for r in nights} == {booking["id"]}
    stored = await db.fetchrow(
        "SELECT decision, booked_by FROM bookings WHERE id = $1", booking["id"]
    )
    assert stored["decision"]["eligible"] is True

    [entry] = await audits(db, booking["id"])
    assert (entry["action"], entry["role"], entry["facility_id"]) == (
        "create",
        "staff",
        desk.facility,
    )
    assert entry["principal_id"] == stored["booked_by"]
    assert entry["before"] is None
    assert entry["after"]["status"] == "confirmed" and entry["after"]["eligible"] is True
    assert entry["after"]["check_in"] == desk.today.isoformat()


async def test_a_refused_walk_in_is_422_with_every_reason_and_writes_nothing(
    shared_client: httpx.AsyncClient, shared_db: Any, shared_desk: Desk
) -> None:
    # Level 0 is not eligible, and 40 nights break the 30-night limit: two grounds at once.
    intact = await builders.recipient(shared_db, facility_id=shared_desk.facility, level=0)
    before = await counts(shared_db)
    response = await shared_client.post(
        url(shared_desk.facility),
        json={**body(shared_desk, nights=40), "care_recipient_id": intact},
        headers=shared_desk.headers,
    )
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["type"] == "/problems/not-eligible"
    assert problem["title"] == "Not eligible for this bed"
    assert set(problem["refused"]) == {"level_not_eligible", "stay_exceeds_consecutive_limit"}
    refused = [r for r in problem["reasons"] if not r["ok"]]
    assert {r["code"] for r in refused} == set(problem["refused"])
    assert all(r["message"] for r in problem["reasons"])
    assert "level_not_eligible" in problem["detail"]
    assert problem["override_options"] == [
        {"code": "level_not_eligible", "allowed": "never"},
        {"code": "stay_exceeds_consecutive_limit", "allowed": "with_reason"},
    ]
    assert problem["not_overridden"] == problem["refused"]
    assert await counts(shared_db) == before


@pytest.mark.parametrize("role", ["family", "hospital"])
async def test_families_and_hospitals_cannot_take_walk_ins_or_override(
    shared_client: httpx.AsyncClient,
    shared_db: Any,
    shared_make_token: MakeToken,
    shared_desk: Desk,
    role: str,
) -> None:
    hospital = await builders.hospital(shared_db) if role == "hospital" else None
    _, headers = await shared_make_token(role, hospital_id=hospital)
    before = await counts(shared_db)
    overriding = body(shared_desk, override_reason=OVERRIDE, overrides=[{"code": "no_assessment"}])
    response = await shared_client.post(url(shared_desk.facility), json=overriding, headers=headers)
    assert response.status_code == 403, response.text
    assert response.json()["type"] == "/problems/forbidden"
    assert await counts(shared_db) == before


async def test_check_in_now_books_and_checks_in_in_one_go(
    client: httpx.AsyncClient, db: Any, desk: Desk
) -> None:
    response = await client.post(
        url(desk.facility), json=body(desk, check_in_now=True), headers=desk.headers
    )
    assert response.status_code == 201, response.text
    booking = response.json()
    assert booking["status"] == "checked_in" and booking["checked_in_at"] is not None
    entries = await audits(db, booking["id"])
    assert [e["action"] for e in entries] == ["create", "check_in"]
    assert entries[1]["before"]["status"] == "confirmed"
    assert entries[1]["after"]["status"] == "checked_in"


async def test_check_in_now_needs_a_stay_that_includes_today(
    shared_client: httpx.AsyncClient, shared_db: Any, shared_desk: Desk
) -> None:
    before = await counts(shared_db)
    response = await shared_client.post(
        url(shared_desk.facility),
        json=body(shared_desk, start=2, check_in_now=True),
        headers=shared_desk.headers,
    )
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["check_in_now"]
    assert await counts(shared_db) == before


async def test_another_facilitys_desk_bed_or_elder_is_404(
    shared_client: httpx.AsyncClient,
    shared_db: Any,
    shared_make_token: MakeToken,
    shared_desk: Desk,
) -> None:
    other = await builders.facility(shared_db)
    other_bed = await builders.bed(shared_db, other)
    family_elder = await builders.recipient(shared_db)  # a family's, never booked here
    _, other_staff = await shared_make_token("staff", facility_id=other)
    before = await counts(shared_db)
    cases = [
        (url(shared_desk.facility), body(shared_desk), other_staff, "facility"),
        (url(other), body(shared_desk), shared_desk.headers, "facility"),
        (
            url(shared_desk.facility),
            {**body(shared_desk), "bed_id": other_bed},
            shared_desk.headers,
            "bed",
        ),
        (
            url(shared_desk.facility),
            {**body(shared_desk), "bed_id": 10**12},
            shared_desk.headers,
            "bed",
        ),
        (
            url(shared_desk.facility),
            {**body(shared_desk), "care_recipient_id": family_elder},
            shared_desk.headers,
            "care recipient",
        ),
        (
            url(shared_desk.facility),
            {**body(shared_desk), "care_recipient_id": 10**12},
            shared_desk.headers,
            "care recipient",
        ),
        (url(10**12), body(shared_desk), shared_desk.headers, "facility"),
    ]
    for path, payload, headers, entity in cases:
        response = await shared_client.post(path, json=payload, headers=headers)
        assert response.status_code == 404, (path, payload, response.text)
        assert response.json()["entity"] == entity
    assert await counts(shared_db) == before


def days_from(today: date, offset: int) -> str:
    return (today + timedelta(offset)).isoformat()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda t: {"bed_id": "1"}, "bed_id"),
        (lambda t: {"bed_id": 2**63}, "bed_id"),
        (lambda t: {"care_recipient_id": 0}, "care_recipient_id"),
        (lambda t: {"check_in": "tomorrow"}, "check_in"),
        (lambda t: {"check_out": days_from(t, -1)}, "check_out"),
        (lambda t: {"check_out": days_from(t, 400)}, "check_out"),
        (lambda t: {"check_in": "9999-12-30", "check_out": "9999-12-31"}, "check_in"),
        (lambda t: {"check_in": days_from(t, 367), "check_out": days_from(t, 368)}, "check_in"),
        (lambda t: {"override_reason": "because"}, "override_reason"),
        (lambda t: {"override_reason": 12345678901}, "override_reason"),
        (lambda t: {"override_reason": OVERRIDE}, "overrides"),
        (lambda t: {"overrides": [{"code": "no_assessment"}]}, "override_reason"),
        (lambda t: {"override_reason": OVERRIDE, "overrides": "sex_rule"}, "overrides"),
        (lambda t: {"override_reason": OVERRIDE, "overrides": ["sex_rule"]}, "overrides[0]"),
        (
            lambda t: {"override_reason": OVERRIDE, "overrides": [{"code": "sex_ruIe"}]},
            "overrides[0].code",
        ),
        (
            lambda t: {"override_reason": OVERRIDE, "overrides": [{"code": "within_quota"}]},
            "overrides[0].code",
        ),
        (
            lambda t: {
                "override_reason": OVERRIDE,
                "overrides": [{"code": "sex_rule"}, {"code": "no_assessment", "acknowledged": 1}],
            },
            "overrides[1].acknowledged",
        ),
        (
            lambda t: {
                "override_reason": OVERRIDE,
                "overrides": [{"code": "sex_rule", "by": "me"}],
            },
            "overrides[0].by",
        ),
        (
            lambda t: {
                "override_reason": OVERRIDE,
                "overrides": [{"code": "sex_rule"}, {"code": "sex_rule", "acknowledged": True}],
            },
            "overrides",
        ),
        (
            lambda t: {
                "override_reason": OVERRIDE,
                "overrides": [{"code": "no_assessment"}] * (MAX_OVERRIDES + 1),
            },
            "overrides",
        ),
        (lambda t: {"check_in_now": "yes"}, "check_in_now"),
        (lambda t: {"surprise": True}, "surprise"),
    ],
)
async def test_bad_walk_in_bodies_name_the_field_and_write_nothing(
    shared_client: httpx.AsyncClient,
    shared_db: Any,
    shared_desk: Desk,
    change: Callable[[date], dict[str, Any]],
    field: str,
) -> None:
    before = await counts(shared_db)
    response = await shared_client.post(
        url(shared_desk.facility),
        json={**body(shared_desk), **change(shared_desk.today)},
        headers=shared_desk.headers,
    )
    assert response.status_code == 422, response.text
    assert response.json()["type"] == "/problems/invalid-input"
    assert [e["field"] for e in response.json()["errors"]] == [field]
    assert await counts(shared_db) == before


@pytest.mark.parametrize("facility", ["abc", str(2**63), "-1", "0"])
async def test_a_bad_facility_id_in_the_path_is_a_4xx(
    shared_client: httpx.AsyncClient, shared_desk: Desk, facility: str
) -> None:
    response = await shared_client.post(
        f"/v1/facilities/{facility}/walk-ins", json=body(shared_desk), headers=shared_desk.headers
    )
    assert 400 <= response.status_code < 500, response.text


async def test_a_taken_night_is_409_naming_the_booking_or_block(
    client: httpx.AsyncClient, db: Any, desk: Desk
) -> None:
    today = desk.today
    held = await builders.booking(db, desk.bed, today + timedelta(2), today + timedelta(4))
    other_bed = await builders.bed(db, desk.facility)
    block = await builders.block(db, other_bed, today, today + timedelta(1))
    before = await counts(db)

    taken = await client.post(url(desk.facility), json=body(desk), headers=desk.headers)
    assert taken.status_code == 409, taken.text
    problem = taken.json()
    assert (problem["type"], problem["bed_id"]) == ("/problems/bed-taken", desk.bed)
    assert problem["conflicting_booking"] == held and problem["conflicting_block"] is None
    assert problem["night"] == (today + timedelta(2)).isoformat()

    blocked = await client.post(
        url(desk.facility), json={**body(desk), "bed_id": other_bed}, headers=desk.headers
    )
    assert blocked.status_code == 409, blocked.text
    assert blocked.json()["type"] == "/problems/bed-taken"
    assert blocked.json()["conflicting_block"] == block
    assert blocked.json()["conflicting_booking"] is None
    assert blocked.json()["night"] == today.isoformat()
    assert await counts(db) == before


async def test_two_overlapping_walk_ins_at_once_one_wins(
    client: httpx.AsyncClient, db: Any, desk: Desk
) -> None:
    second = await builders.recipient(db, facility_id=desk.facility, level=3)
    responses = await asyncio.gather(
        client.post(url(desk.facility), json=body(desk, 0, 4), headers=desk.headers),
        client.post(
            url(desk.facility),
            json={**body(desk, 2, 4), "care_recipient_id": second},
            headers=desk.headers,
        ),
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201, 409], [r.text for r in responses]
    winner = next(r.json() for r in responses if r.status_code == 201)
    loser = next(r.json() for r in responses if r.status_code == 409)
    assert loser["conflicting_booking"] == winner["id"]
    assert await db.fetchval("SELECT count(*) FROM bookings") == 1
    owners = await db.fetch(
        "SELECT DISTINCT booking_id FROM bed_nights WHERE bed_id = $1", desk.bed
    )
    assert [r["booking_id"] for r in owners] == [winner["id"]]


async def test_many_racers_for_one_bed_leave_no_shared_night_and_no_5xx(
    client: httpx.AsyncClient, db: Any, desk: Desk
) -> None:
    elders = [await builders.recipient(db, facility_id=desk.facility) for _ in range(10)]
    # Stays of three nights starting on consecutive days: each overlaps its neighbours.
    responses = await asyncio.gather(
        *(
            client.post(
                url(desk.facility),
                json={**body(desk, start, 3), "care_recipient_id": elder},
                headers=desk.headers,
            )
            for start, elder in enumerate(elders)
        )
    )
    assert {r.status_code for r in responses} <= {201, 409}, [r.text for r in responses]
    won = [r.json() for r in responses if r.status_code == 201]
    assert won
    nights = [
        date.fromisoformat(b["check_in"]) + timedelta(k) for b in won for k in range(b["nights"])
    ]
    assert len(nights) == len(set(nights)), "two bookings share a night"
    assert await db.fetchval("SELECT count(*) FROM bed_nights") == len(nights)
    assert await db.fetchval("SELECT count(*) FROM bookings") == len(won)


async def test_two_walk_ins_of_one_elder_at_once_cannot_both_break_the_night_limit(
    client: httpx.AsyncClient, db: Any, desk: Desk
) -> None:
    # Twenty nights each, back to back on two beds: either alone is fine, together they make
    # a run of 40 consecutive nights against the policy's limit of 30.
    other_bed = await builders.bed(db, desk.facility)
    responses = await asyncio.gather(
        client.post(url(desk.facility), json=body(desk, 0, 20), headers=desk.headers),
        client.post(
            url(desk.facility),
            json={**body(desk, 20, 20), "bed_id": other_bed},
            headers=desk.headers,
        ),
    )
    assert sorted(r.status_code for r in responses) == [201, 422], [r.text for r in responses]
    refused = next(r.json() for r in responses if r.status_code == 422)
    assert refused["refused"] == ["stay_exceeds_consecutive_limit"]
    assert await db.fetchval("SELECT count(*) FROM bookings") == 1


async def test_a_retried_walk_in_with_its_idempotency_key_books_once(
    client: httpx.AsyncClient, db: Any, desk: Desk
) -> None:
    headers = {**desk.headers, "Idempotency-Key": "desk-7f3a"}
    first, second = await asyncio.gather(
        client.post(url(desk.facility), json=body(desk), headers=headers),
        client.post(url(desk.facility), json=body(desk), headers=headers),
    )
    assert (first.status_code, second.status_code) == (201, 201), (first.text, second.text)
    assert first.json() == second.json()
    assert await counts(db) == (1, 3, 1)

    reused = await client.post(url(desk.facility), json=body(desk, start=5), headers=headers)
    assert reused.status_code == 422, reused.text
    assert [e["field"] for e in reused.json()["errors"]] == ["Idempotency-Key"]
    assert await counts(db) == (1, 3, 1)
