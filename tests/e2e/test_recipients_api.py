"""Care recipients over HTTP: who owns them, who sees them, identifiers kept out of sight."""

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from respite.clock import ManualClock
from respite.crypto import cipher_for
from respite.settings import Settings
from tests import builders
from tests.conftest import MakeToken
from tests.e2e.test_problems import assert_problem

URL = "/v1/care-recipients"
NATIONAL_ID = "11010519491231002X"
ELDER: dict[str, Any] = {
    "name": "王秀英",
    "sex": "female",
    "birth_date": "1941-03-08",
    "home_address": "上海市徐汇区天平路 100 弄 3 号",
    "home_lat": 31.2,
    "home_lon": 121.44,
    "living_situation": "alone",
    "needs": ["wheelchair", "dementia"],
    "pressure_injury_stage": 2,
    "emergency_contact_name": "李明",
    "emergency_contact_phone": "+86 139 1234 5678",
    "national_id": NATIONAL_ID,
}


async def _count(db: Any, table: str = "care_recipients") -> int:
    return int(await db.fetchval(f"SELECT count(*) FROM {table}"))


async def test_a_family_registers_an_elder_and_owns_it(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken, settings: Settings
) -> None:
    family, headers = await make_token("family")

    created = await client.post(URL, json=ELDER, headers=headers)

    assert created.status_code == 201, created.text
    body = created.json()
    assert body["owner"] == {"kind": "family", "id": family.id}
    assert body["needs"] == ["dementia", "wheelchair"]
    assert body["national_id_last4"] == "002X"
    assert body["emergency_contact_phone_last4"] == "5678"
    assert body["latest_assessment"] is None
    assert NATIONAL_ID not in created.text and "12345678" not in created.text
    row = await db.fetchrow(
        "SELECT family_id, hospital_id, facility_id, national_id_enc, national_id_hash,"
        " emergency_contact_phone_enc, created_by FROM care_recipients WHERE id = $1",
        body["id"],
    )
    assert (row["family_id"], row["hospital_id"], row["facility_id"]) == (family.id, None, None)
    assert row["created_by"] == family.id
    assert NATIONAL_ID.encode() not in row["national_id_enc"]
    cipher = cipher_for(settings)
    assert cipher.decrypt("national_id", row["national_id_enc"]) == NATIONAL_ID
    assert cipher.decrypt("emergency_contact_phone", row["emergency_contact_phone_enc"]) == (
        "+8613912345678"
    )
    audit = await db.fetchval(
        "SELECT after::text FROM audit_log WHERE entity = 'care_recipient' AND action = 'create'"
    )
    assert "002X" in audit and NATIONAL_ID not in audit and "+8613912345678" not in audit

    fetched = await client.get(f"{URL}/{body['id']}", headers=headers)
    assert fetched.status_code == 200 and fetched.json() == body


@pytest.mark.parametrize(("role", "owner_kind"), [("hospital", "hospital"), ("staff", "facility")])
async def test_a_hospital_or_staff_owns_what_it_registers(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken, role: str, owner_kind: str
) -> None:
    hospital_id = await builders.hospital(db) if role == "hospital" else None
    facility_id = await builders.facility(db) if role == "staff" else None
    _, headers = await make_token(role, hospital_id=hospital_id, facility_id=facility_id)

    created = await client.post(URL, json=ELDER, headers=headers)

    assert created.status_code == 201, created.text
    assert created.json()["owner"] == {"kind": owner_kind, "id": hospital_id or facility_id}


async def test_an_admin_cannot_own_an_elder(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken
) -> None:
    _, headers = await make_token("admin")
    refused = await client.post(URL, json=ELDER, headers=headers)
    assert_problem(refused, 403, "forbidden")
    assert await _count(db) == 0


async def test_another_tenants_elder_is_not_found_for_every_route(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken
) -> None:
    _, owner = await make_token("family")
    _, stranger = await make_token("family")
    _, staff_elsewhere = await make_token("staff", facility_id=await builders.facility(db))
    elder = (await client.post(URL, json=ELDER, headers=owner)).json()["id"]
    assessment = {"total": 50, "assessor": "A", "organisation": "O", "assessed_on": "2025-01-02"}

    for headers in (stranger, staff_elsewhere):
        answers = [
            await client.get(f"{URL}/{elder}", headers=headers),
            await client.patch(f"{URL}/{elder}", json={"name": "X"}, headers=headers),
            await client.get(f"{URL}/{elder}/assessments", headers=headers),
            await client.post(f"{URL}/{elder}/assessments", json=assessment, headers=headers),
        ]
        for answer in answers:
            assert_problem(answer, 404, "not-found")
        missing = await client.get(f"{URL}/{elder + 1000}", headers=headers)
        assert missing.json()["detail"].replace(str(elder + 1000), "N") == answers[0].json()[
            "detail"
        ].replace(str(elder), "N")
        listed = await client.get(URL, headers=headers)
        assert listed.json() == {"items": [], "next_cursor": None}
    assert await _count(db, "assessments") == 0
    assert await db.fetchval("SELECT name FROM care_recipients") == "王秀英"


async def test_staff_see_elders_booked_at_their_facility_and_admins_see_all(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken
) -> None:
    facility = await builders.facility(db)
    bed = await builders.bed(db, facility)
    _, family = await make_token("family")
    _, staff = await make_token("staff", facility_id=facility)
    _, admin = await make_token("admin")
    elder = (await client.post(URL, json=ELDER, headers=family)).json()["id"]
    assert (await client.get(f"{URL}/{elder}", headers=staff)).status_code == 404

    start = builders.today() + timedelta(days=3)
    await builders.booking(db, bed, start, start + timedelta(days=2), recipient_id=elder)

    assert (await client.get(f"{URL}/{elder}", headers=staff)).status_code == 200
    assert (await client.get(f"{URL}/{elder}", headers=admin)).status_code == 200


async def test_list_pages_through_what_the_caller_sees(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken
) -> None:
    _, headers = await make_token("family")
    _, other = await make_token("family")
    await client.post(URL, json={**ELDER, "national_id": None}, headers=other)
    ids = [
        (await client.post(URL, json={**ELDER, "national_id": None}, headers=headers)).json()["id"]
        for _ in range(3)
    ]

    first = (await client.get(URL, params={"limit": 2}, headers=headers)).json()
    assert [item["id"] for item in first["items"]] == ids[:2]
    params = {"cursor": first["next_cursor"], "limit": 2}
    second = (await client.get(URL, params=params, headers=headers)).json()
    assert [item["id"] for item in second["items"]] == ids[2:]
    assert second["next_cursor"] is None


async def test_a_duplicate_national_id_is_409_within_the_tenant_only(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken
) -> None:
    _, headers = await make_token("family")
    _, other = await make_token("family")
    first = (await client.post(URL, json=ELDER, headers=headers)).json()["id"]

    # The same number written differently is the same number.
    spaced = {**ELDER, "national_id": "110105 19491231 002x"}
    again = await client.post(URL, json=spaced, headers=headers)
    problem = assert_problem(again, 409, "duplicate-national-id")
    assert problem["care_recipient_id"] == first
    assert NATIONAL_ID not in again.text

    elsewhere = await client.post(URL, json=ELDER, headers=other)
    assert elsewhere.status_code == 201
    assert "care_recipient_id" not in elsewhere.json()
    assert await _count(db) == 2


async def test_racing_registrations_of_one_national_id_store_one(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken
) -> None:
    _, headers = await make_token("family")

    answers = await asyncio.gather(
        *(client.post(URL, json=ELDER, headers=headers) for _ in range(8))
    )

    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [201] + [409] * 7, [a.text for a in answers]
    winner = next(a for a in answers if a.status_code == 201).json()["id"]
    assert {a.json()["care_recipient_id"] for a in answers if a.status_code == 409} == {winner}
    assert await _count(db) == 1


async def test_patch_changes_only_what_is_given_and_null_clears(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken
) -> None:
    _, headers = await make_token("family")
    created = (await client.post(URL, json=ELDER, headers=headers)).json()

    changed = await client.patch(
        f"{URL}/{created['id']}",
        json={"needs": ["oxygen"], "home_lat": None, "home_lon": None, "national_id": None},
        headers=headers,
    )

    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["needs"], body["home_lat"], body["home_lon"]) == (["oxygen"], None, None)
    assert body["national_id_last4"] is None
    assert body["emergency_contact_phone_last4"] == "5678"
    unchanged = {k: v for k, v in created.items() if k not in ("needs", "home_lat", "home_lon")}
    unchanged |= {"national_id_last4": None}
    assert {k: body[k] for k in unchanged if k != "updated_at"} == {
        k: v for k, v in unchanged.items() if k != "updated_at"
    }
    assert body["updated_at"] > created["updated_at"]
    row = await db.fetchrow(
        "SELECT national_id_enc, national_id_hash FROM care_recipients WHERE id = $1",
        created["id"],
    )
    assert (row["national_id_enc"], row["national_id_hash"]) == (None, None)
    before = await db.fetchval(
        "SELECT before::text FROM audit_log WHERE entity = 'care_recipient' AND action = 'update'"
    )
    assert '"wheelchair"' in before and "002X" in before and NATIONAL_ID not in before


async def test_patch_to_a_national_id_the_tenant_has_is_409(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken
) -> None:
    _, headers = await make_token("family")
    first = (await client.post(URL, json=ELDER, headers=headers)).json()["id"]
    second = (
        await client.post(URL, json={**ELDER, "national_id": "310101195001010011"}, headers=headers)
    ).json()

    clash = await client.patch(
        f"{URL}/{second['id']}", json={"national_id": NATIONAL_ID, "name": "X"}, headers=headers
    )

    assert assert_problem(clash, 409, "duplicate-national-id")["care_recipient_id"] == first
    row = await db.fetchrow(
        "SELECT name, national_id_last4 FROM care_recipients WHERE id = $1", second["id"]
    )
    assert (row["name"], row["national_id_last4"]) == ("王秀英", "0011")


@pytest.fixture(scope="module")
async def shared_elder(
    shared_client: httpx.AsyncClient, shared_make_token: MakeToken
) -> tuple[dict[str, str], dict[str, Any]]:
    """A family and its elder, for the tests that only refuse: they share one database (see
    conftest)."""
    _, headers = await shared_make_token("family")
    created = await shared_client.post(
        URL, json={**ELDER, "national_id": "310101195001010011"}, headers=headers
    )
    assert created.status_code == 201, created.text
    return headers, created.json()


async def _updates(db: Any) -> int:
    return int(await db.fetchval("SELECT count(*) FROM audit_log WHERE action = 'update'"))


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"sex": "other"}, "sex"),
        ({"birth_date": "1850-01-01"}, "birth_date"),
        ({"birth_date": "1941-02-30"}, "birth_date"),
        ({"home_lat": 91}, "home_lat"),
        ({"home_lon": None}, "home_lon"),
        ({"home_lat": None}, "home_lat"),
        ({"home_lat": "31.2"}, "home_lat"),
        ({"living_situation": "hotel"}, "living_situation"),
        ({"needs": ["dementia", "snoring"]}, "needs[1]"),
        ({"needs": ["dementia", "dementia"]}, "needs"),
        ({"needs": "dementia"}, "needs"),
        ({"pressure_injury_stage": 5}, "pressure_injury_stage"),
        ({"emergency_contact_phone": "call me"}, "emergency_contact_phone"),
        ({"national_id": "12"}, "national_id"),
        ({"national_id": "1101-0519<script>"}, "national_id"),
        ({"shoe_size": 38}, "shoe_size"),
    ],
)
async def test_bad_fields_are_named_and_change_nothing(
    shared_client: httpx.AsyncClient,
    shared_db: Any,
    shared_elder: tuple[dict[str, str], dict[str, Any]],
    change: dict[str, Any],
    field: str,
) -> None:
    headers, existing = shared_elder
    before = (await _count(shared_db), await _updates(shared_db))

    created = await shared_client.post(URL, json={**ELDER, **change}, headers=headers)
    problem = assert_problem(created, 422, "invalid-input")
    assert [e["field"] for e in problem["errors"]] == [field], problem

    patched = await shared_client.patch(f"{URL}/{existing['id']}", json=change, headers=headers)
    problem = assert_problem(patched, 422, "invalid-input")
    assert [e["field"] for e in problem["errors"]] == [field], problem

    assert (await _count(shared_db), await _updates(shared_db)) == before
    got = await shared_client.get(f"{URL}/{existing['id']}", headers=headers)
    assert got.json() == existing


async def test_an_empty_patch_and_out_of_range_parameters_are_refused(
    client: httpx.AsyncClient, make_token: MakeToken
) -> None:
    _, headers = await make_token("family")
    elder = (await client.post(URL, json=ELDER, headers=headers)).json()["id"]
    empty = await client.patch(f"{URL}/{elder}", json={}, headers=headers)
    assert assert_problem(empty, 422, "invalid-input")["errors"][0]["field"] == "$"
    huge = 2**63
    for answer, field in (
        (await client.get(f"{URL}/{huge}", headers=headers), "care_recipient_id"),
        (await client.get(f"{URL}/0/assessments", headers=headers), "care_recipient_id"),
        (await client.get(URL, params={"limit": 0}, headers=headers), "limit"),
        (await client.get(URL, params={"limit": 201}, headers=headers), "limit"),
        (await client.get(URL, params={"cursor": str(huge)}, headers=headers), "cursor"),
        (await client.get(URL, params={"cursor": "x" * 600}, headers=headers), "cursor"),
    ):
        problem = assert_problem(answer, 422, "invalid-input")
        assert [e["field"] for e in problem["errors"]] == [field]


async def test_identifiers_are_never_logged(
    client: httpx.AsyncClient, make_token: MakeToken, caplog: pytest.LogCaptureFixture
) -> None:
    _, headers = await make_token("family")
    with caplog.at_level(logging.DEBUG):
        await client.post(URL, json=ELDER, headers=headers)
        await client.post(URL, json=ELDER, headers=headers)
        await client.post(URL, json={**ELDER, "national_id": "x"}, headers=headers)
    assert caplog.records
    assert NATIONAL_ID not in caplog.text
    assert "1234 5678" not in caplog.text and "12345678" not in caplog.text


@pytest.mark.parametrize(
    ("hour", "refused"), [(9, True), (10, False)], ids=["UTC+14 on 1 March", "UTC+14 on 2 March"]
)
async def test_a_birth_date_is_in_the_future_until_it_is_today_somewhere(
    client: httpx.AsyncClient,
    db: Any,
    make_token: MakeToken,
    clock: ManualClock,
    hour: int,
    refused: bool,
) -> None:
    # No facility decides an elder's birth date: 2 March is refused until the first timezone
    # (UTC+14) reaches it, at 10:00 UTC on 1 March.
    clock.set(datetime(2030, 3, 1, hour, 0, tzinfo=UTC))
    _, headers = await make_token("family")
    elder = {**ELDER, "national_id": None, "birth_date": "2030-03-02"}
    before = await _count(db)

    created = await client.post(URL, json=elder, headers=headers)

    if refused:
        problem = assert_problem(created, 422, "invalid-input")
        assert [e["field"] for e in problem["errors"]] == ["birth_date"]
        assert await _count(db) == before
    else:
        assert created.status_code == 201, created.text
