"""What staff need to reach people: the emergency contact revealed (and audited), a day's
arrivals and departures by the facility's date, bookings found by the elder's name or phone,
and the referring ward of the referrals placed with the facility."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import httpx
import msgspec
import pytest

from respite.app import create_app
from respite.clock import ManualClock, zone
from respite.crypto import cipher_for
from respite.settings import Settings
from tests import builders
from tests.conftest import MakeToken, serve_in_loop
from tests.e2e.test_problems import assert_problem

TODAY = builders.today()
REASON = {"reason": "fell during the night; calling the family"}


def reveal_url(elder: int) -> str:
    return f"/v1/care-recipients/{elder}/emergency-contact/reveal"


async def _elder(
    client: httpx.AsyncClient, family: dict[str, str], name: str, phone: str | None
) -> int:
    body: dict[str, Any] = {
        "name": name,
        "sex": "female",
        "birth_date": "1941-02-03",
        "emergency_contact_name": "张伟",
        "needs": ["oxygen", "fall_risk"],
    }
    if phone is not None:
        body["emergency_contact_phone"] = phone
    created = await client.post("/v1/care-recipients", json=body, headers=family)
    assert created.status_code == 201, created.text
    return int(created.json()["id"])


async def _reveals(db: Any) -> list[Any]:
    return list(
        await db.fetch(
            "SELECT principal_id, role, entity_id, facility_id, before::text AS before,"
            " after::text AS after FROM audit_log WHERE action = 'reveal' ORDER BY id"
        )
    )


async def test_a_reveal_answers_the_whole_number_and_audits_each_reveal_without_it(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken
) -> None:
    _, family = await make_token("family")
    elder = await _elder(client, family, "王秀英", "+86 138 0013 8000")
    facility = await builders.facility(db)
    bed = await builders.bed(db, facility)
    stay = await builders.booking(
        db, bed, TODAY, TODAY + timedelta(days=3), recipient_id=elder, status="checked_in"
    )
    staff, headers = await make_token("staff", facility_id=facility)
    # What everyone reads is still the last four.
    shown = await client.get(f"/v1/care-recipients/{elder}", headers=headers)
    assert shown.json()["emergency_contact_phone_last4"] == "8000"

    for count in (1, 2):
        revealed = await client.post(reveal_url(elder), json=REASON, headers=headers)
        assert revealed.status_code == 200, revealed.text
        answer = revealed.json()
        assert answer["phone"] == "+8613800138000"
        assert answer["name"] == "张伟"
        assert answer["booking_id"] == stay
        rows = await _reveals(db)
        assert len(rows) == count
    for row in rows:
        assert (row["principal_id"], row["role"]) == (staff.id, "staff")
        assert (row["entity_id"], row["facility_id"]) == (str(elder), facility)
        after = msgspec.json.decode(row["after"])
        assert after == {"booking_id": stay, "reason": REASON["reason"], "had_phone": True}
        assert "138" not in row["after"] and row["before"] is None


async def test_a_reveal_is_refused_once_the_stay_is_long_past(
    client: httpx.AsyncClient,
    db: Any,
    make_token: MakeToken,
    clock: ManualClock,
    settings: Settings,
) -> None:
    _, family = await make_token("family")
    elder = await _elder(client, family, "王秀英", "13800138000")
    facility = await builders.facility(db)
    bed = await builders.bed(db, facility)
    left = TODAY - timedelta(days=settings.staff_recent_stay_days)
    await builders.booking(
        db, bed, left - timedelta(days=5), left, recipient_id=elder, status="checked_out"
    )
    _, staff = await make_token("staff", facility_id=facility)
    assert (await client.post(reveal_url(elder), json=REASON, headers=staff)).status_code == 200
    clock.advance(timedelta(days=1))
    late = await client.post(reveal_url(elder), json=REASON, headers=staff)
    assert_problem(late, 404, "not-found")
    assert len(await _reveals(db)) == 1, "a refused reveal records nothing"


async def test_only_staff_who_see_the_elder_reveal_and_others_learn_nothing(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken
) -> None:
    _, family = await make_token("family")
    elder = await _elder(client, family, "王秀英", "13800138000")
    facility, elsewhere = await builders.facility(db), await builders.facility(db)
    bed = await builders.bed(db, facility)
    await builders.booking(db, bed, TODAY, TODAY + timedelta(days=2), recipient_id=elder)
    cancelled = await builders.bed(db, elsewhere)
    await builders.booking(
        db, cancelled, TODAY, TODAY + timedelta(days=2), recipient_id=elder, status="cancelled"
    )
    _, other_staff = await make_token("staff", facility_id=elsewhere)
    for unknown in (elder, 987654321):
        refused = await client.post(reveal_url(unknown), json=REASON, headers=other_staff)
        assert_problem(refused, 404, "not-found")
    hospital = await builders.hospital(db)
    others = [
        (await make_token("family"))[1],
        (await make_token("hospital", hospital_id=hospital))[1],
        (await make_token("admin"))[1],
        family,
    ]
    for headers in others:
        refused = await client.post(reveal_url(elder), json=REASON, headers=headers)
        assert_problem(refused, 403, "forbidden")
    _, staff = await make_token("staff", facility_id=facility)
    blank = await client.post(reveal_url(elder), json={"reason": "  "}, headers=staff)
    assert [e["field"] for e in assert_problem(blank, 422, "invalid-input")["errors"]] == ["reason"]
    assert await _reveals(db) == []


async def test_reveals_are_limited_per_staff_member(
    settings: Settings, clock: ManualClock, db: Any, make_token: MakeToken
) -> None:
    limited = msgspec.structs.replace(settings, contact_reveal_limit=2)
    app = create_app(limited, clock=clock, configure_logs=False)
    facility = await builders.facility(db)
    bed = await builders.bed(db, facility)
    elder = await builders.recipient(db, facility_id=facility)
    await builders.booking(db, bed, TODAY, TODAY + timedelta(days=2), recipient_id=elder)
    _, staff = await make_token("staff", facility_id=facility)
    _, colleague = await make_token("staff", facility_id=facility)
    async with serve_in_loop(app) as client:
        answers = [
            (await client.post(reveal_url(elder), json=REASON, headers=staff)).status_code
            for _ in range(3)
        ]
        assert answers == [200, 200, 429]
        again = await client.post(reveal_url(elder), json=REASON, headers=colleague)
        assert again.status_code == 200
    assert len(await _reveals(db)) == 3


def _at(day: date, hour: int, minute: int) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=zone("Asia/Shanghai"))


async def test_arrivals_and_departures_follow_the_facilitys_midnight(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken, clock: ManualClock
) -> None:
    facility = await builders.facility(db, timezone="Asia/Shanghai")
    day, tomorrow = TODAY, TODAY + timedelta(days=1)
    a, b, c = [
        await builders.bed(db, facility, label=label) for label in ("2F-01", "1F-01", "3F-09")
    ]
    tonight = await builders.booking(db, a, day, day + timedelta(days=3))
    later = await builders.booking(db, b, tomorrow, tomorrow + timedelta(days=2))
    leaving = await builders.booking(db, c, day - timedelta(days=4), day, status="checked_in")
    await builders.booking(db, c, day, day + timedelta(days=1), status="cancelled")
    await db.execute("UPDATE care_recipients SET needs = '{oxygen}'")
    _, staff = await make_token("staff", facility_id=facility)
    url = f"/v1/facilities/{facility}"

    clock.set(_at(day, 23, 59))
    arrivals = (await client.get(f"{url}/arrivals", headers=staff)).json()
    assert arrivals["date"] == day.isoformat()
    assert [s["booking_id"] for s in arrivals["items"]] == [tonight]
    departures = (await client.get(f"{url}/departures", headers=staff)).json()
    assert [s["booking_id"] for s in departures["items"]] == [leaving]
    first = departures["items"][0]
    assert (first["bed_label"], first["status"], first["elder_name"]) == (
        "3F-09",
        "checked_in",
        "王秀英",
    )

    clock.advance(timedelta(minutes=2))  # 00:01 in Shanghai: 16:01 UTC, the UTC date unchanged
    zh = {**staff, "Accept-Language": "zh-CN"}
    arrivals = (await client.get(f"{url}/arrivals", headers=zh)).json()
    assert arrivals["date"] == tomorrow.isoformat()
    assert [s["booking_id"] for s in arrivals["items"]] == [later]
    assert arrivals["items"][0]["status_words"] == "已预订"
    assert arrivals["items"][0]["needs_words"] == ["吸氧"]
    assert (await client.get(f"{url}/departures", headers=staff)).json()["items"] == []
    asked = await client.get(f"{url}/arrivals", params={"date": day.isoformat()}, headers=staff)
    assert [s["booking_id"] for s in asked.json()["items"]] == [tonight]
    bad = await client.get(f"{url}/arrivals", params={"date": "tomorrow"}, headers=staff)
    assert [e["field"] for e in assert_problem(bad, 422, "invalid-input")["errors"]] == ["date"]


async def test_a_days_list_pages_by_bed_label(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken
) -> None:
    facility = await builders.facility(db)
    labels = ["A-3", "A-1", "A-2"]
    for label in labels:
        bed = await builders.bed(db, facility, label=label)
        await builders.booking(db, bed, TODAY, TODAY + timedelta(days=1))
    _, staff = await make_token("staff", facility_id=facility)
    url = f"/v1/facilities/{facility}/arrivals"
    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await client.get(url, params=params, headers=staff)).json()
        seen += [s["bed_label"] for s in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(labels)
    _, other = await make_token("staff", facility_id=await builders.facility(db))
    assert_problem(await client.get(url, headers=other), 404, "not-found")
    _, admin = await make_token("admin")
    missing = await client.get("/v1/facilities/987654321/arrivals", headers=admin)
    assert_problem(missing, 404, "not-found")


@pytest.mark.parametrize(
    ("q", "found"),
    [
        ("建国", ["张建国"]),
        ("王", ["王秀英", "王建华"]),
        ("8000", ["张建国"]),
        ("13800138000", ["张建国"]),
        ("+86 138 0013 8000", ["张建国"]),
        ("138-0013-8000", ["张建国"]),
        ("+86 139 1234 5678", ["王秀英"]),
        ("13912345679", []),
        ("赵", []),
    ],
)
async def test_bookings_are_found_by_the_elders_name_or_phone(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken, q: str, found: list[str]
) -> None:
    _, family = await make_token("family")
    facility, elsewhere = await builders.facility(db), await builders.facility(db)
    for name, phone in (("张建国", "13800138000"), ("王秀英", "+86 139-1234-5678")):
        bed = await builders.bed(db, facility)
        elder = await _elder(client, family, name, phone)
        await builders.booking(db, bed, TODAY, TODAY + timedelta(days=2), recipient_id=elder)
    # Same name and number at another facility: not this facility's booking.
    there = await builders.bed(db, elsewhere)
    twin = await _elder(client, family, "王建华", "13800138000")
    await builders.booking(db, there, TODAY, TODAY + timedelta(days=2), recipient_id=twin)
    walk_in = await builders.recipient(db, facility_id=facility)
    await db.execute("UPDATE care_recipients SET name = '王建华' WHERE id = $1", walk_in)
    await builders.booking(
        db, await builders.bed(db, facility), TODAY, TODAY + timedelta(days=1), recipient_id=walk_in
    )
    _, staff = await make_token("staff", facility_id=facility)
    answer = await client.get(f"/v1/facilities/{facility}/bookings", params={"q": q}, headers=staff)
    assert answer.status_code == 200, answer.text
    assert sorted(s["elder_name"] for s in answer.json()["items"]) == sorted(found)


async def test_a_search_refuses_a_few_digits_and_finds_no_elder_staff_may_not_see(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken, settings: Settings
) -> None:
    _, family = await make_token("family")
    facility = await builders.facility(db)
    old = TODAY - timedelta(days=settings.staff_recent_stay_days + 1)
    elder = await _elder(client, family, "张建国", "13800138000")
    bed = await builders.bed(db, facility)
    await builders.booking(
        db, bed, old - timedelta(days=3), old, recipient_id=elder, status="checked_out"
    )
    _, staff = await make_token("staff", facility_id=facility)
    url = f"/v1/facilities/{facility}/bookings"
    for q in ("张建国", "8000", "13800138000"):
        assert (await client.get(url, params={"q": q}, headers=staff)).json()["items"] == []
    for q in ("138", "13800", "  "):
        refused = await client.get(url, params={"q": q}, headers=staff)
        assert [e["field"] for e in assert_problem(refused, 422, "invalid-input")["errors"]] == [
            "q"
        ]
    _, other = await make_token("staff", facility_id=await builders.facility(db))
    assert_problem(await client.get(url, params={"q": "张"}, headers=other), 404, "not-found")


async def test_a_search_pages_newest_first(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken
) -> None:
    facility = await builders.facility(db)
    made = [
        await builders.booking(
            db, await builders.bed(db, facility), TODAY, TODAY + timedelta(days=1)
        )
        for _ in range(3)
    ]
    _, staff = await make_token("staff", facility_id=facility)
    url = f"/v1/facilities/{facility}/bookings"
    first = (await client.get(url, params={"q": "秀英", "limit": 2}, headers=staff)).json()
    assert first["matched_by"] == "name"
    rest = (
        await client.get(url, params={"q": "秀英", "cursor": first["next_cursor"]}, headers=staff)
    ).json()
    assert [s["booking_id"] for s in first["items"] + rest["items"]] == sorted(made, reverse=True)
    assert rest["next_cursor"] is None


async def test_staff_read_the_referring_wards_contact_of_referrals_placed_with_them(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken, settings: Settings
) -> None:
    facility = await builders.facility(db)
    hospital = await builders.hospital(db)
    elder = await builders.recipient(db, hospital_id=hospital)
    bed = await builders.bed(db, facility)
    booking = await builders.booking(db, bed, TODAY, TODAY + timedelta(days=5), recipient_id=elder)
    author = await builders.principal(db, "hospital", hospital_id=hospital)
    sealed = cipher_for(settings).encrypt("emergency_contact_phone", "021-64041990")
    referral = await db.fetchval(
        "INSERT INTO referrals (hospital_id, care_recipient_id, status, kind, discharge_date,"
        " nights, contact_name, contact_department, contact_phone_enc, contact_phone_last4,"
        " created_by, booking_id, facility_id)"
        " VALUES ($1, $2, 'booked', 'respite', $3, 5, '李护士长', '老年医学科二病区', $4, '1990',"
        " $5, $6, $7) RETURNING id",
        hospital,
        elder,
        TODAY,
        sealed,
        author,
        booking,
        facility,
    )
    _, staff = await make_token("staff", facility_id=facility)
    listed = await client.get(f"/v1/facilities/{facility}/referrals", headers=staff)
    assert listed.status_code == 200, listed.text
    [placed] = listed.json()["items"]
    assert placed["id"] == referral and placed["booking_id"] == booking
    assert placed["contact"] == {
        "ward": "老年医学科二病区",
        "name": "李护士长",
        "phone": "021-64041990",
        "email": None,
    }
    [row] = await _reveals(db)
    assert msgspec.json.decode(row["after"]) == {"referral_ids": [referral]}
    arrivals = (await client.get(f"/v1/facilities/{facility}/arrivals", headers=staff)).json()
    assert arrivals["items"][0]["referral_id"] == referral
    _, other = await make_token("staff", facility_id=await builders.facility(db))
    assert_problem(
        await client.get(f"/v1/facilities/{facility}/referrals", headers=other), 404, "not-found"
    )
