"""Staff tenancy: which elders staff see, for how long, and which of their fields they change.

Staff see an elder their facility registered, or one with a stay at their facility that is
live or ended at most ``staff_recent_stay_days`` ago by the facility's local date; a cancelled
booking or a no-show shows no one. Of an elder they see but do not own, staff change only the
care fields; and they place an elder only at their own facility.
"""

from datetime import date, datetime, time, timedelta
from typing import Any

import httpx
import pytest

from respite.clock import ManualClock, local_today, zone
from respite.settings import Settings
from tests import builders
from tests.conftest import MakeToken
from tests.e2e.test_problems import assert_problem

URL = "/v1/care-recipients"
ASSESSMENT = {"total": 50, "assessor": "A", "organisation": "O", "assessed_on": "2025-01-02"}


def at_local(day: date, hour: int, minute: int, timezone: str) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=zone(timezone))


async def _staff(make_token: MakeToken, facility: int) -> dict[str, str]:
    return (await make_token("staff", facility_id=facility))[1]


async def _sees(client: httpx.AsyncClient, headers: dict[str, str], elder: int) -> bool:
    """Whether the caller sees the elder, asserting that the read and the list agree."""
    read = await client.get(f"{URL}/{elder}", headers=headers)
    listed = (await client.get(URL, headers=headers)).json()["items"]
    if read.status_code == 404:
        assert_problem(read, 404, "not-found")
        assert elder not in [item["id"] for item in listed]
        return False
    assert read.status_code == 200, read.text
    assert elder in [item["id"] for item in listed]
    return True


async def _refused_everywhere(
    client: httpx.AsyncClient, headers: dict[str, str], elder: int, bed: int, today: date
) -> None:
    """Every route about the elder answers 404 to ``headers``, as for an unknown id."""
    start = today + timedelta(days=5)
    stay = {"check_in": str(start), "check_out": str(start + timedelta(days=2))}
    answers = [
        await client.get(f"{URL}/{elder}", headers=headers),
        await client.patch(f"{URL}/{elder}", json={"needs": []}, headers=headers),
        await client.get(f"{URL}/{elder}/assessments", headers=headers),
        await client.post(f"{URL}/{elder}/assessments", json=ASSESSMENT, headers=headers),
        await client.post(
            "/v1/eligibility", json={"care_recipient_id": elder, **stay}, headers=headers
        ),
        await client.post(
            "/v1/holds", json={"care_recipient_id": elder, "bed_id": bed, **stay}, headers=headers
        ),
    ]
    for answer in answers:
        assert_problem(answer, 404, "not-found")
        assert answer.json()["entity"] == "care recipient"
    assert (await client.get(URL, headers=headers)).json()["items"] == []


# Checked in 60 days ago for 5 nights and never checked out: still in the house.
@pytest.mark.parametrize(
    ("status", "starts_in"),
    [("confirmed", 20), ("confirmed", -2), ("checked_in", -2), ("checked_in", -60)],
)
async def test_staff_see_an_elder_while_a_stay_at_their_facility_is_live(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken, status: str, starts_in: int
) -> None:
    facility = await builders.facility(db)
    bed = await builders.bed(db, facility)
    elder = await builders.recipient(db)
    staff = await _staff(make_token, facility)
    assert not await _sees(client, staff, elder)

    start = builders.today() + timedelta(days=starts_in)
    await builders.booking(
        db, bed, start, start + timedelta(days=5), recipient_id=elder, status=status
    )

    assert await _sees(client, staff, elder)
    staff_elsewhere = await _staff(make_token, await builders.facility(db))
    assert not await _sees(client, staff_elsewhere, elder)


# Shanghai, far east (UTC+14) and far west (UTC-11): the last day is the facility's, never
# UTC's nor the server's. A confirmed stay nobody checked in ends like one checked out.
@pytest.mark.parametrize(
    ("timezone", "status"),
    [
        ("Asia/Shanghai", "checked_out"),
        ("Pacific/Kiritimati", "checked_out"),
        ("Pacific/Pago_Pago", "checked_out"),
        ("Asia/Shanghai", "confirmed"),
    ],
)
async def test_after_a_stay_staff_see_the_elder_for_the_bound_by_the_facilitys_date(
    client: httpx.AsyncClient,
    db: Any,
    make_token: MakeToken,
    clock: ManualClock,
    settings: Settings,
    timezone: str,
    status: str,
) -> None:
    facility = await builders.facility(db, timezone=timezone)
    bed = await builders.bed(db, facility)
    elder = await builders.recipient(db)
    staff = await _staff(make_token, facility)
    left = local_today(timezone, clock.now())
    await builders.booking(
        db, bed, left - timedelta(days=4), left, recipient_id=elder, status=status
    )
    last_day = left + timedelta(days=settings.staff_recent_stay_days)

    clock.set(at_local(last_day, 23, 59, timezone))
    assert await _sees(client, staff, elder)
    record = await client.post(f"{URL}/{elder}/assessments", json=ASSESSMENT, headers=staff)
    assert record.status_code == 201, record.text

    clock.advance(timedelta(minutes=1))  # midnight at the facility
    assert not await _sees(client, staff, elder)
    await _refused_everywhere(client, staff, elder, bed, last_day + timedelta(days=1))


async def test_a_stay_that_ended_today_shows_the_elder_and_one_past_the_bound_does_not(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken, settings: Settings
) -> None:
    facility = await builders.facility(db)
    bed = await builders.bed(db, facility)
    staff = await _staff(make_token, facility)
    today = builders.today()
    long_ago, just_left = await builders.recipient(db), await builders.recipient(db)
    ended = today - timedelta(days=settings.staff_recent_stay_days + 1)
    await builders.booking(
        db, bed, ended - timedelta(days=3), ended, recipient_id=long_ago, status="checked_out"
    )
    await builders.booking(
        db, bed, today - timedelta(days=3), today, recipient_id=just_left, status="checked_out"
    )

    assert not await _sees(client, staff, long_ago)
    assert await _sees(client, staff, just_left)


@pytest.mark.parametrize("status", ["cancelled", "no_show"])
async def test_a_cancelled_booking_or_a_no_show_never_shows_the_elder(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken, status: str
) -> None:
    facility = await builders.facility(db)
    bed = await builders.bed(db, facility)
    elder = await builders.recipient(db)
    staff = await _staff(make_token, facility)
    today = builders.today()
    # Today, in the past and in the future: none of them counts.
    for offset in (-3, 0, 10):
        start = today + timedelta(days=offset)
        await builders.booking(
            db, bed, start, start + timedelta(days=2), recipient_id=elder, status=status
        )

    before = await _row(db, elder)
    assessments = await db.fetchval("SELECT count(*) FROM assessments")

    await _refused_everywhere(client, staff, elder, bed, today)

    assert await _row(db, elder) == before
    assert await db.fetchval("SELECT count(*) FROM assessments") == assessments


async def test_staff_see_the_elders_their_facility_registered_without_a_stay(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken, clock: ManualClock
) -> None:
    facility = await builders.facility(db)
    staff = await _staff(make_token, facility)
    created = await client.post(
        URL, json={"name": "赵", "sex": "male", "birth_date": "1939-09-09"}, headers=staff
    )
    assert created.status_code == 201, created.text
    elder = created.json()["id"]

    clock.advance(timedelta(days=400))

    assert await _sees(client, staff, elder)
    colleague = await _staff(make_token, facility)
    assert await _sees(client, colleague, elder)
    assert not await _sees(client, await _staff(make_token, await builders.facility(db)), elder)


async def _elder_staying_at(db: Any, facility: int, **owner: Any) -> int:
    elder = await builders.recipient(db, **owner)
    start = builders.today() + timedelta(days=3)
    bed = await builders.bed(db, facility)
    await builders.booking(db, bed, start, start + timedelta(days=4), recipient_id=elder)
    return elder


async def _row(db: Any, elder: int) -> dict[str, Any]:
    row = await db.fetchrow(
        "SELECT name, sex, birth_date, national_id_hash, home_address, needs,"
        " pressure_injury_stage, updated_at FROM care_recipients WHERE id = $1",
        elder,
    )
    return dict(row)


async def _tenant(db: Any, kind: str) -> int:
    if kind == "family":
        return await builders.principal(db, "family")
    if kind == "hospital":
        return await builders.hospital(db)
    return await builders.facility(db)


@pytest.mark.parametrize("kind", ["family", "hospital", "facility"])
async def test_staff_never_change_who_an_elder_is_that_another_tenant_owns(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken, kind: str
) -> None:
    facility = await builders.facility(db)
    staff = await _staff(make_token, facility)
    elder = await _elder_staying_at(db, facility, **{f"{kind}_id": await _tenant(db, kind)})
    before = await _row(db, elder)
    audits = await db.fetchval("SELECT count(*) FROM audit_log")

    identity = {"name": "X", "sex": "male", "birth_date": "1950-01-01", "national_id": "1234567"}
    for field, value in identity.items():
        refused = await client.patch(f"{URL}/{elder}", json={field: value}, headers=staff)
        body = assert_problem(refused, 403, "owner-only-fields")
        assert (body["fields"], body["owner"]) == ([field], kind)
    everything = {**identity, "home_address": "上海", "needs": ["wheelchair"]}
    refused = await client.patch(f"{URL}/{elder}", json=everything, headers=staff)
    body = assert_problem(refused, 403, "owner-only-fields")
    assert body["fields"] == ["name", "sex", "birth_date", "home_address", "national_id"]
    # The same value counts: a refusal never tells whether a guess was right.
    same = {"name": before["name"], "national_id": None}
    assert (await client.patch(f"{URL}/{elder}", json=same, headers=staff)).status_code == 403
    assert await _row(db, elder) == before
    assert await db.fetchval("SELECT count(*) FROM audit_log") == audits

    care = {"needs": ["wheelchair"], "pressure_injury_stage": 1}
    changed = await client.patch(f"{URL}/{elder}", json=care, headers=staff)
    assert changed.status_code == 200, changed.text
    assert (changed.json()["needs"], changed.json()["pressure_injury_stage"]) == (["wheelchair"], 1)
    assessed = await client.post(f"{URL}/{elder}/assessments", json=ASSESSMENT, headers=staff)
    assert assessed.status_code == 201, assessed.text


async def test_staff_change_every_field_of_an_elder_their_facility_registered(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken
) -> None:
    facility = await builders.facility(db)
    staff = await _staff(make_token, facility)
    elder = await builders.recipient(db, facility_id=facility)
    change = {
        "name": "王秀兰",
        "sex": "male",
        "birth_date": "1945-06-07",
        "national_id": "110105194506070011",
        "home_address": "上海",
        "living_situation": "alone",
        "emergency_contact_name": "李明",
        "emergency_contact_phone": "+86 139 1234 5678",
        "needs": ["dementia"],
    }

    changed = await client.patch(f"{URL}/{elder}", json=change, headers=staff)

    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["name"], body["sex"], body["birth_date"]) == ("王秀兰", "male", "1945-06-07")
    assert body["national_id_last4"] == "0011"


async def test_an_admin_and_the_owner_still_change_identity_fields(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken
) -> None:
    family, family_headers = await make_token("family")
    _, admin = await make_token("admin")
    elder = await _elder_staying_at(db, await builders.facility(db), family_id=family.id)

    for headers, name in ((family_headers, "王一"), (admin, "王二")):
        changed = await client.patch(f"{URL}/{elder}", json={"name": name}, headers=headers)
        assert changed.status_code == 200, changed.text
        assert changed.json()["name"] == name


async def test_staff_never_place_an_elder_at_another_facility(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken
) -> None:
    """Staff of facility 1 see a family's elder staying there, and their own walk-in; neither
    can be held or booked at facility 2 (the elder is not visible there)."""
    here, there = await builders.facility(db), await builders.facility(db)
    staff = await _staff(make_token, here)
    staying = await _elder_staying_at(db, here)
    registered = await builders.recipient(db, facility_id=here)
    bed_there = await builders.bed(db, there)
    start = builders.today() + timedelta(days=30)
    stay = {"check_in": str(start), "check_out": str(start + timedelta(days=2))}

    for elder in (staying, registered):
        assert await _sees(client, staff, elder)
        one_bed = {"care_recipient_id": elder, "bed_id": bed_there, **stay}
        by_facility = {"care_recipient_id": elder, "facility_id": there, "kind": "respite"}
        for hold in (one_bed, {**by_facility, **stay}):
            refused = await client.post("/v1/holds", json=hold, headers=staff)
            assert_problem(refused, 404, "not-found")
            assert refused.json()["entity"] == "care recipient"
        walk_in = await client.post(f"/v1/facilities/{there}/walk-ins", json=one_bed, headers=staff)
        assert_problem(walk_in, 404, "not-found")
    assert await db.fetchval("SELECT count(*) FROM bookings WHERE facility_id = $1", there) == 0
    # The bed is free: nothing held it.
    parent, family = await make_token("family")
    own = await builders.recipient(db, family_id=parent.id)
    held = await client.post(
        "/v1/holds", json={"care_recipient_id": own, "bed_id": bed_there, **stay}, headers=family
    )
    assert held.status_code == 201, held.text


async def test_staff_hold_at_their_own_facility_only_an_elder_they_still_see(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken, clock: ManualClock
) -> None:
    facility = await builders.facility(db)
    staff = await _staff(make_token, facility)
    bed = await builders.bed(db, facility)
    elder = await builders.recipient(db)
    today = builders.today()
    await builders.booking(
        db, bed, today - timedelta(days=3), today, recipient_id=elder, status="checked_out"
    )
    start = today + timedelta(days=40)
    hold = {
        "care_recipient_id": elder,
        "bed_id": bed,
        "check_in": str(start),
        "check_out": str(start + timedelta(days=2)),
    }

    held = await client.post("/v1/holds", json=hold, headers=staff)
    assert held.status_code == 201, held.text
    released = await client.delete(
        f"/v1/holds/{held.json()['hold_id']}", headers={**staff, "Hold-Token": held.json()["token"]}
    )
    assert released.is_success, released.text

    clock.advance(timedelta(days=31))
    refused = await client.post("/v1/holds", json=hold, headers=staff)
    assert_problem(refused, 404, "not-found")
