"""POST /v1/referrals and the rest of a referral's API as hospitals use it: bad input changes
nothing, retries create one referral, a hospital sees only its own, and the candidates say
why a closer facility was not offered."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from tests import builders
from tests.conftest import MakeToken
from tests.e2e.test_problems import assert_problem
from tests.e2e.test_webhook_receiver import (
    Hospital,
    hospital,
    refer,
    referral_body,
    site,
)

TABLES = ("referrals", "care_recipients", "assessments", "idempotency_keys", "audit_log")


async def counts(db: Any) -> dict[str, int]:
    return {t: int(await db.fetchval(f"SELECT count(*) FROM {t}")) for t in TABLES}


@pytest.fixture
async def ward(client: httpx.AsyncClient, make_token: MakeToken) -> Hospital:
    _, admin = await make_token("admin")
    return await hospital(client, admin)


@pytest.fixture(scope="module")
async def shared_ward(shared_client: httpx.AsyncClient, shared_make_token: MakeToken) -> Hospital:
    """For the tests that only refuse: they share one database (see conftest)."""
    _, admin = await shared_make_token("admin")
    return await hospital(shared_client, admin)


# An edit of a good body; dates are given as days from the test's today.
Edit = Callable[[dict[str, Any], date], None]


def day(offset: int) -> Callable[[date], str]:
    return lambda today: (today + timedelta(days=offset)).isoformat()


def _value(value: Any, today: date) -> Any:
    if callable(value):
        return value(today)
    if isinstance(value, dict):
        return {k: _value(v, today) for k, v in value.items()}
    return value


def patient(**change: Any) -> Edit:
    def edit(body: dict[str, Any], today: date) -> None:
        body["patient"] = {**body["patient"], **_value(change, today)}

    return edit


def field(name: str, value: Any) -> Edit:
    def edit(body: dict[str, Any], today: date) -> None:
        body[name] = _value(value, today)

    return edit


def fields(**values: Any) -> Edit:
    def edit(body: dict[str, Any], today: date) -> None:
        body.update(_value(values, today))

    return edit


def drop(name: str) -> Edit:
    def edit(body: dict[str, Any], today: date) -> None:
        del body[name]

    return edit


BAD = [
    (field("discharge_date", day(-1)), "discharge_date"),
    (field("discharge_date", day(800)), "discharge_date"),
    (field("nights", None), "nights"),
    (field("nights", 91), "nights"),
    (field("nights", 0), "nights"),
    (field("nights", "5"), "nights"),
    (field("care_recipient_id", 1), "patient"),
    (drop("patient"), "patient"),
    (field("assessment", None), "assessment"),
    (fields(kind="home", nights=367), "nights"),
    (field("kind", "hospice"), "kind"),
    (patient(home_lat=None, home_lon=None), "preferred_area"),
    (patient(sex="unknown"), "patient.sex"),
    (patient(needs=["jetpack"]), "patient.needs[0]"),
    (patient(birth_date=day(2)), "birth_date"),
    (
        field(
            "assessment",
            {"total": 91, "assessor": "a", "organisation": "b", "assessed_on": day(0)},
        ),
        "assessment.total",
    ),
    (
        field(
            "assessment",
            {"total": 50, "assessor": "a", "organisation": "b", "assessed_on": day(3)},
        ),
        "assessed_on",
    ),
    (drop("contact"), "contact"),
    (field("contact", {"name": "  "}), "contact.name"),
    (field("contact", {"name": "Zhou", "phone": "call me"}), "contact.phone"),
    (field("preferred_area", {"lat": 95, "lon": 121.4}), "preferred_area.lat"),
    (
        field("preferred_area", {"lat": 31.2, "lon": 121.4, "radius_km": 80}),
        "preferred_area.radius_km",
    ),
    (
        field("preferred_area", {"lat": 31.2, "lon": 121.4, "radius_km": 0.0001}),
        "preferred_area.radius_km",
    ),
    (field("surprise", True), "surprise"),
]


@pytest.mark.parametrize(("edit", "name"), BAD)
async def test_bad_input_is_a_problem_naming_the_field_and_stores_nothing(
    shared_client: httpx.AsyncClient, shared_db: Any, shared_ward: Hospital, edit: Any, name: str
) -> None:
    body = referral_body()
    edit(body, builders.today())
    before = await counts(shared_db)
    response = await shared_client.post(
        "/v1/referrals", json=body, headers={**shared_ward.headers, "Idempotency-Key": "k"}
    )
    problem = assert_problem(response, 422, "invalid-input")
    assert [e["field"] for e in problem["errors"]] == [name], problem
    assert await counts(shared_db) == before


async def test_home_care_without_a_home_location_is_refused(
    shared_client: httpx.AsyncClient, shared_db: Any, shared_ward: Hospital
) -> None:
    before = await counts(shared_db)
    response = await refer(
        shared_client,
        shared_ward,
        kind="home",
        nights=None,
        patient={**referral_body()["patient"], "home_lat": None, "home_lon": None},
    )
    assert_problem(response, 422, "invalid-input")
    assert response.json()["errors"][0]["field"] == "patient"
    assert await counts(shared_db) == before


async def test_a_write_needs_an_idempotency_key_used_for_one_body_only(
    client: httpx.AsyncClient, db: Any, ward: Hospital
) -> None:
    missing = await client.post("/v1/referrals", json=referral_body(), headers=ward.headers)
    assert_problem(missing, 422, "invalid-input")
    assert missing.json()["errors"][0]["field"] == "Idempotency-Key"
    assert (await refer(client, ward, key="same")).status_code == 201
    before = await counts(db)
    reused = await refer(client, ward, key="same", nights=6)
    assert_problem(reused, 422, "invalid-input")
    assert reused.json()["errors"][0]["field"] == "Idempotency-Key"
    assert await counts(db) == before


async def test_the_same_referral_sent_20_times_at_once_creates_one(
    client: httpx.AsyncClient, db: Any, ward: Hospital, make_token: MakeToken
) -> None:
    await site(db, make_token)
    answers = await asyncio.gather(*(refer(client, ward, key="his-123") for _ in range(20)))
    assert [a.status_code for a in answers] == [201] * 20, [a.text for a in answers]
    assert len({a.json()["referral"]["id"] for a in answers}) == 1
    assert all(a.json()["candidates"] for a in answers)
    assert await db.fetchval("SELECT count(*) FROM referrals") == 1
    assert await db.fetchval("SELECT count(*) FROM care_recipients") == 1
    assert await db.fetchval("SELECT count(*) FROM assessments") == 1
    assert await db.fetchval("SELECT count(*) FROM audit_log WHERE entity = 'referral'") == 1


async def test_a_known_patient_is_linked_by_id_and_not_registered_twice(
    client: httpx.AsyncClient, db: Any, ward: Hospital, make_token: MakeToken
) -> None:
    first = (await refer(client, ward, key="a")).json()["referral"]
    twice = await refer(client, ward, key="b")
    # The care recipient's own conflict (its type is the recipients domain's).
    assert twice.status_code == 409, twice.text
    assert twice.json()["care_recipient_id"] == first["care_recipient_id"]

    body = referral_body(care_recipient_id=first["care_recipient_id"])
    del body["patient"], body["assessment"]
    linked = await client.post(
        "/v1/referrals", json=body, headers={**ward.headers, "Idempotency-Key": "c"}
    )
    assert linked.status_code == 201, linked.text
    assert linked.json()["referral"]["care_recipient_id"] == first["care_recipient_id"]
    assert await db.fetchval("SELECT count(*) FROM care_recipients") == 1

    unassessed = await builders.recipient(db, hospital_id=ward.id, level=None)
    body["care_recipient_id"] = unassessed
    before = await counts(db)
    refused = await client.post(
        "/v1/referrals", json=body, headers={**ward.headers, "Idempotency-Key": "d"}
    )
    assert_problem(refused, 422, "invalid-input")
    assert refused.json()["errors"][0]["field"] == "assessment"
    assert await counts(db) == before

    someone_elses = await builders.recipient(db, hospital_id=await builders.hospital(db))
    body["care_recipient_id"] = someone_elses
    before = await counts(db)
    assert_problem(
        await client.post(
            "/v1/referrals", json=body, headers={**ward.headers, "Idempotency-Key": "e"}
        ),
        404,
        "not-found",
    )
    assert await counts(db) == before


async def test_a_hospital_sees_and_changes_only_its_own_referrals(
    client: httpx.AsyncClient, db: Any, ward: Hospital, make_token: MakeToken
) -> None:
    near = await site(db, make_token)
    referral = (await refer(client, ward)).json()["referral"]
    _, admin = await make_token("admin")
    other = await hospital(client, admin, "华山医院")
    rid = referral["id"]
    for method, path, body in [
        ("GET", f"/v1/referrals/{rid}", None),
        ("GET", f"/v1/referrals/{rid}/candidates", None),
        ("GET", f"/v1/referrals/{rid}/events", None),
        ("POST", f"/v1/referrals/{rid}/cancel", {"reason": "mine now"}),
    ]:
        response = await client.request(method, path, json=body, headers=other.headers)
        assert_problem(response, 404, "not-found")
    assert (await client.get("/v1/referrals", headers=other.headers)).json()["items"] == []
    held = await client.post(
        "/v1/holds",
        json={
            "care_recipient_id": referral["care_recipient_id"],
            "bed_id": near.beds[0],
            "check_in": referral["discharge_date"],
            "check_out": (builders.today() + timedelta(days=5)).isoformat(),
            "referral_id": rid,
        },
        headers=other.headers,
    )
    assert_problem(held, 404, "not-found")
    _, family = await make_token("family")
    assert_problem(await client.get("/v1/referrals", headers=family), 403, "forbidden")
    assert (await client.get(f"/v1/referrals/{rid}", headers=ward.headers)).json()[
        "status"
    ] == "open"


async def hold(
    client: httpx.AsyncClient, ward: Hospital, referral: dict[str, Any], bed: int, **change: Any
) -> httpx.Response:
    body = {
        "care_recipient_id": referral["care_recipient_id"],
        "bed_id": bed,
        "check_in": referral["discharge_date"],
        "check_out": (builders.today() + timedelta(days=5)).isoformat(),
        "referral_id": referral["id"],
        **change,
    }
    return await client.post("/v1/holds", json=body, headers=ward.headers)


async def test_the_life_cycle_refuses_illegal_steps_with_409_and_changes_nothing(
    client: httpx.AsyncClient, db: Any, ward: Hospital, make_token: MakeToken
) -> None:
    near = await site(db, make_token)
    referral = (await refer(client, ward)).json()["referral"]
    stranger = await builders.recipient(db, hospital_id=ward.id)
    wrong = await hold(client, ward, referral, near.beds[0], care_recipient_id=stranger)
    assert_problem(wrong, 422, "invalid-input")
    assert wrong.json()["errors"][0]["field"] == "care_recipient_id"

    placed = await hold(client, ward, referral, near.beds[0])
    assert placed.status_code == 201, placed.text
    assert (await client.get(f"/v1/referrals/{referral['id']}", headers=ward.headers)).json()[
        "status"
    ] == "held"
    cancel = await client.post(
        f"/v1/referrals/{referral['id']}/cancel",
        json={"reason": "family takes her home"},
        headers=ward.headers,
    )
    assert cancel.status_code == 200 and cancel.json()["status"] == "cancelled"
    assert cancel.json()["status_reason"] == "family takes her home"

    hold_ = placed.json()
    late = await client.post(
        f"/v1/holds/{hold_['hold_id']}/confirm",
        json={"token": hold_["token"]},
        headers={**ward.headers, "Idempotency-Key": "late"},
    )
    problem = assert_problem(late, 409, "referral-step-not-allowed")
    assert (problem["current_status"], problem["step"]) == ("cancelled", "confirm")
    assert problem["referral_id"] == referral["id"] and problem["allowed_steps"] == []
    assert await db.fetchval("SELECT count(*) FROM bookings") == 0
    again = await client.post(
        f"/v1/referrals/{referral['id']}/cancel", json={"reason": "again"}, headers=ward.headers
    )
    problem = assert_problem(again, 409, "referral-step-not-allowed")
    assert (problem["current_status"], problem["step"]) == ("cancelled", "cancel")
    refused = await hold(client, ward, referral, near.beds[1])
    assert assert_problem(refused, 409, "referral-step-not-allowed")["step"] == "hold"
    events = await client.get(f"/v1/referrals/{referral['id']}/events", headers=ward.headers)
    assert [e["type"] for e in events.json()] == ["referral.held", "referral.cancelled"]


async def test_a_booked_referral_cannot_be_cancelled_until_its_booking_is(
    client: httpx.AsyncClient, db: Any, ward: Hospital, make_token: MakeToken
) -> None:
    near = await site(db, make_token)
    referral = (await refer(client, ward)).json()["referral"]
    hold_ = (await hold(client, ward, referral, near.beds[0])).json()
    booking = (
        await client.post(
            f"/v1/holds/{hold_['hold_id']}/confirm",
            json={"token": hold_["token"]},
            headers={**ward.headers, "Idempotency-Key": "c"},
        )
    ).json()
    refused = await client.post(
        f"/v1/referrals/{referral['id']}/cancel", json={"reason": "x"}, headers=ward.headers
    )
    problem = assert_problem(refused, 409, "referral-step-not-allowed")
    assert problem["current_status"] == "booked"
    assert problem["allowed_steps"] == ["check_in", "no_show", "booking_cancelled", "change"]
    by_hospital = await client.post(
        f"/v1/bookings/{booking['id']}/cancel", json={"reason": "went home"}, headers=ward.headers
    )
    assert by_hospital.status_code == 200, by_hospital.text
    done = await client.post(
        f"/v1/referrals/{referral['id']}/cancel",
        json={"reason": "went home"},
        headers={**ward.headers, "Idempotency-Key": "cancel-1"},
    )
    assert done.json()["status"] == "cancelled"
    replay = await client.post(
        f"/v1/referrals/{referral['id']}/cancel",
        json={"reason": "went home"},
        headers={**ward.headers, "Idempotency-Key": "cancel-1"},
    )
    assert replay.status_code == 200 and replay.json() == done.json()  # the same answer
    events = await client.get(f"/v1/referrals/{referral['id']}/events", headers=ward.headers)
    types = [(e["type"], e["data"]["actor"]["party"]) for e in events.json()]
    assert types == [
        ("referral.held", "hospital"),
        ("booking.confirmed", "hospital"),
        ("booking.cancelled", "hospital"),
        ("referral.cancelled", "hospital"),
    ]


async def test_the_list_pages_by_last_change_for_reconciliation(
    client: httpx.AsyncClient, db: Any, ward: Hospital
) -> None:
    ids = []
    for n in range(5):
        body_patient = {**referral_body()["patient"], "national_id": None}
        ids.append(
            (await refer(client, ward, key=f"k{n}", patient=body_patient)).json()["referral"]["id"]
        )
    await client.post(f"/v1/referrals/{ids[0]}/cancel", json={"reason": "x"}, headers=ward.headers)
    seen, cursor = [], None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/v1/referrals", params=params, headers=ward.headers)).json()
        seen += [r["id"] for r in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [*ids[1:], ids[0]]  # the cancelled one changed last
    cancelled = await client.get(
        "/v1/referrals", params={"status": "cancelled"}, headers=ward.headers
    )
    assert [r["id"] for r in cancelled.json()["items"]] == [ids[0]]
    last = await client.get(f"/v1/referrals/{ids[0]}", headers=ward.headers)
    since = last.json()["updated_at"]
    recent = await client.get(
        "/v1/referrals", params={"updated_since": since}, headers=ward.headers
    )
    assert [r["id"] for r in recent.json()["items"]] == [ids[0]]
    bad: list[tuple[dict[str, Any], str]] = [
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"updated_since": "2025-01-01T08:00:00"}, "updated_since"),
        ({"updated_since": "yesterday"}, "updated_since"),
        ({"status": "lost"}, "status"),
        ({"limit": 0}, "limit"),
    ]
    for params, name in bad:
        response = await client.get("/v1/referrals", params=params, headers=ward.headers)
        problem = assert_problem(response, 422, "invalid-input")
        assert problem["errors"][0]["field"] == name


async def test_candidates_name_the_closer_facilities_not_offered_and_why(
    client: httpx.AsyncClient, db: Any, ward: Hospital
) -> None:
    closer = await builders.facility(db, lat=31.235, lon=121.47)
    await builders.bed(db, closer)  # no oxygen
    farther = await builders.facility(db, lat=31.26, lon=121.47)
    oxygen_bed = await builders.bed(db, farther, capabilities=("oxygen",))
    answer = await refer(client, ward, patient={**referral_body()["patient"], "needs": ["oxygen"]})
    assert answer.status_code == 201, answer.text
    (candidate,) = answer.json()["candidates"]
    assert candidate["facility_id"] == farther
    assert [b["bed_id"] for b in candidate["beds"]] == [oxygen_bed]
    (not_offered,) = candidate["closer_not_offered"]
    assert not_offered["facility_id"] == closer
    assert [r["code"] for r in not_offered["reasons"]] == ["needs_capability_missing:oxygen"]
    assert not_offered["reasons"][0]["message"].startswith("The bed lacks oxygen supply")
    assert answer.json()["summary"]


async def test_a_patient_the_policy_refuses_gets_the_reasons_instead_of_candidates(
    client: httpx.AsyncClient, db: Any, ward: Hospital, make_token: MakeToken
) -> None:
    await site(db, make_token)
    intact = {**referral_body()["assessment"], "total": 90}
    answer = await refer(client, ward, assessment=intact)
    assert answer.status_code == 201, answer.text
    assert answer.json()["candidates"] == []
    (refusal,) = answer.json()["refused"]
    assert refusal["policy"]["code"] == "cn-respite"
    assert "level_not_eligible" in [r["code"] for r in refusal["reasons"] if not r["ok"]]


async def test_open_ended_home_care_is_searched_for_its_first_month(
    client: httpx.AsyncClient, db: Any, ward: Hospital
) -> None:
    provider = await builders.facility(db, lat=31.24, lon=121.47, radius_m=5000)
    home_bed = await builders.bed(db, provider, kind="home")
    answer = await refer(client, ward, kind="home", nights=None)
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert (body["referral"]["kind"], body["referral"]["nights"]) == ("home", None)
    today = builders.today()
    assert body["search"] == {
        "check_in": today.isoformat(),
        "check_out": (today + timedelta(days=30)).isoformat(),
    }
    assert [b["bed_id"] for b in body["candidates"][0]["beds"]] == [home_bed]


async def test_a_placed_referral_and_its_booking_carry_the_facilitys_contact(
    client: httpx.AsyncClient, db: Any, ward: Hospital, make_token: MakeToken
) -> None:
    near = await site(db, make_token)
    await db.execute(
        "UPDATE facilities SET address = '静安区共和新路 1000 号', phone = '021-5555 0000'"
        " WHERE id = $1",
        near.facility,
    )
    name = await db.fetchval("SELECT name FROM facilities WHERE id = $1", near.facility)
    contact = {
        "id": near.facility,
        "name": name,
        "address": "静安区共和新路 1000 号",
        "phone": "021-5555 0000",
    }
    referral = (await refer(client, ward)).json()["referral"]
    assert referral["facility"] is None
    hold_ = (await hold(client, ward, referral, near.beds[0])).json()
    path = f"/v1/referrals/{referral['id']}"
    assert (await client.get(path, headers=ward.headers)).json()["facility"] == contact
    booked = await client.post(
        f"/v1/holds/{hold_['hold_id']}/confirm",
        json={"token": hold_["token"]},
        headers={**ward.headers, "Idempotency-Key": "contact"},
    )
    assert booked.json()["facility"] == contact
    listed = (await client.get("/v1/referrals", headers=ward.headers)).json()["items"]
    assert [r["facility"] for r in listed] == [contact]
    bookings = (await client.get("/v1/bookings", headers=ward.headers)).json()["items"]
    assert [b["facility"] for b in bookings] == [contact]
