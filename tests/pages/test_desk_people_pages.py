"""The people at the desk, over the test client: finding an elder by name or phone among the
facility's bookings, the elder's page (needs, level in words, stays here), the emergency
contact revealed by a form that says why (one audit row, never the number), an elder with no
stay here (404), the referrals placed with the facility with the ward to call, and a family
or a stranger at the door."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import msgspec

from respite.auth.guards import SESSION_COOKIE
from respite.auth.model import Principal
from respite.auth.service import issue_token
from respite.crypto import cipher_for
from respite.settings import Settings
from tests import builders
from tests.conftest import MakeToken
from tests.forms import csrf_token
from tests.pages.test_desk_today_pages import Desk, open_desk


async def family_elder(
    client: httpx.AsyncClient, family: dict[str, str], name: str, phone: str | None
) -> int:
    """An elder a family registers through the API, with an emergency contact."""
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


async def staying(
    client: httpx.AsyncClient,
    db: Any,
    make_token: MakeToken,
    desk: Desk,
    *,
    name: str = "王秀英",
    phone: str | None = "+86 138 0013 8000",
) -> tuple[int, int]:
    """A family's elder (assessed at level 3) with a booking at the desk's care home: the
    elder's id and the booking's."""
    _, family = await make_token("family")
    elder = await family_elder(client, family, name, phone)
    await db.execute(
        "INSERT INTO assessments (care_recipient_id, total, base_level, level, assessed_on,"
        " valid_until) VALUES ($1, 40, 3, 3, $2, $3)",
        elder,
        desk.today - timedelta(days=10),
        desk.today + timedelta(days=355),
    )
    booking = await builders.booking(
        db, desk.beds["3A"], desk.today, desk.today + timedelta(days=4), recipient_id=elder
    )
    return elder, booking


async def reveals(db: Any) -> list[Any]:
    return list(
        await db.fetch(
            "SELECT principal_id, role, entity_id, facility_id, after::text AS after"
            " FROM audit_log WHERE action = 'reveal' ORDER BY id"
        )
    )


async def test_an_elder_is_found_by_name_or_by_the_phones_last_four(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken
) -> None:
    desk = await open_desk(client, db)
    elder, booking = await staying(client, db, make_token, desk)
    by_name = await client.get("/desk/elders", params={"q": "秀英"})
    assert by_name.status_code == 200
    html = by_name.text
    assert f'href="/desk/elders/{elder}"' in html and f'href="/desk/bookings/{booking}"' in html
    assert "张伟" in html and "ending in 8000" in html and "3A" in html
    assert "13800138000" not in html
    by_phone = await client.get("/desk/elders", params={"q": "8000"})
    assert f'href="/desk/elders/{elder}"' in by_phone.text
    nobody = await client.get("/desk/elders", params={"q": "赵"})
    assert "No booking of this care home matches" in nobody.text
    few = await client.get("/desk/elders", params={"q": "12"})
    assert few.status_code == 422 and 'href="#f-q"' in few.text
    assert "the last 4 digits of the phone number" in few.text
    empty = await client.get("/desk/elders", headers={"Accept-Language": "zh-CN"})
    assert empty.status_code == 200 and "查找长者" in empty.text
    assert 'href="/desk/referrals"' in empty.text


async def test_the_elders_page_shows_needs_level_and_stays_here(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken
) -> None:
    desk = await open_desk(client, db)
    elder, booking = await staying(client, db, make_token, desk)
    page = await client.get(f"/desk/elders/{elder}")
    assert page.status_code == 200
    html = page.text
    assert "<h1>王秀英</h1>" in html and "Needs oxygen" in html and "At risk of falling" in html
    assert "Level 3: severely impaired" in html
    assert f'href="/desk/bookings/{booking}"' in html and ">Booked<" in html
    assert "ending in 8000" in html and "+8613800138000" not in html
    assert "Show the emergency contact" in html
    assert f'href="/desk/walk-in/book?elder={elder}">Book a bed for 王秀英<' in html
    chinese = await client.get(f"/desk/elders/{elder}", headers={"Accept-Language": "zh-CN"})
    assert "3 级：重度受损" in chinese.text and "显示紧急联系人" in chinese.text


async def test_revealing_the_contact_says_why_and_is_audited(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken
) -> None:
    desk = await open_desk(client, db)
    elder, booking = await staying(client, db, make_token, desk)
    page = await client.get(f"/desk/elders/{elder}")
    token = csrf_token(page.text)
    url = f"/desk/elders/{elder}/emergency-contact"
    blank = await client.post(url, data={"_csrf_token": token, "reason": "  "})
    assert blank.status_code == 422 and 'href="#f-reason"' in blank.text
    assert "+8613800138000" not in blank.text and await reveals(db) == []
    shown = await client.post(
        url, data={"_csrf_token": token, "reason": "fell during the night; calling the family"}
    )
    assert shown.status_code == 200
    assert ">+8613800138000</a>" in shown.text and 'href="tel:+8613800138000"' in shown.text
    assert "this has been recorded" in shown.text
    [row] = await reveals(db)
    staff_id = await db.fetchval("SELECT id FROM principals WHERE name = 'Zhou Min'")
    assert row["principal_id"] == staff_id and row["role"] == "staff"
    assert row["entity_id"] == str(elder) and row["facility_id"] == desk.facility
    assert msgspec.json.decode(row["after"]) == {
        "booking_id": booking,
        "reason": "fell during the night; calling the family",
        "had_phone": True,
    }
    assert "8000" not in row["after"].replace(str(booking), "")
    again = await client.get(f"/desk/elders/{elder}")  # the number is on that answer alone
    assert "+8613800138000" not in again.text


async def test_an_elder_with_no_stay_here_is_not_found(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken
) -> None:
    desk = await open_desk(client, db)
    _, family = await make_token("family")
    stranger = await family_elder(client, family, "刘秀兰", "+86 139 0000 1111")
    elsewhere = await builders.facility(db)
    bed = await builders.bed(db, elsewhere)
    await builders.booking(
        db, bed, desk.today, desk.today + timedelta(days=2), recipient_id=stranger
    )
    assert (await client.get(f"/desk/elders/{stranger}")).status_code == 404
    token = csrf_token((await client.get("/desk/elders")).text)
    sent = await client.post(
        f"/desk/elders/{stranger}/emergency-contact",
        data={"_csrf_token": token, "reason": "curious"},
    )
    assert sent.status_code == 404 and "1111" not in sent.text and await reveals(db) == []
    found = await client.get("/desk/elders", params={"q": "刘秀兰"})
    assert f"/desk/elders/{stranger}" not in found.text
    # A stay here long over no longer shows the elder (the rule of who staff see).
    past = await family_elder(client, family, "赵桂芳", None)
    await builders.booking(
        db,
        desk.beds["3B"],
        desk.today - timedelta(days=60),
        desk.today - timedelta(days=55),
        recipient_id=past,
        status="checked_out",
    )
    assert (await client.get(f"/desk/elders/{past}")).status_code == 404


async def test_referrals_show_the_ward_to_call(
    client: httpx.AsyncClient, db: Any, settings: Settings
) -> None:
    desk = await open_desk(client, db)
    hospital = await builders.hospital(db)
    elder = await builders.recipient(db, hospital_id=hospital)
    booking = await builders.booking(
        db, desk.beds["4A"], desk.today, desk.today + timedelta(days=5), recipient_id=elder
    )
    author = await builders.principal(db, "hospital", hospital_id=hospital)
    sealed = cipher_for(settings).encrypt("emergency_contact_phone", "021-64041990")
    referral = await db.fetchval(
        "INSERT INTO referrals (hospital_id, care_recipient_id, status, kind, discharge_date,"
        " nights, contact_name, contact_department, contact_phone_enc, contact_phone_last4,"
        " created_by, booking_id, facility_id, note)"
        " VALUES ($1, $2, 'booked', 'respite', $3, 5, '李护士长', '老年医学科二病区', $4, '1990',"
        " $5, $6, $7, '需要吸痰') RETURNING id",
        hospital,
        elder,
        desk.today,
        sealed,
        author,
        booking,
        desk.facility,
    )
    page = await client.get("/desk/referrals")
    assert page.status_code == 200
    html = page.text
    assert f'data-referral="{referral}"' in html and "老年医学科二病区" in html
    assert "李护士长" in html and 'href="tel:021-64041990"' in html and "需要吸痰" in html
    assert f'href="/desk/bookings/{booking}"' in html and f'href="/desk/elders/{elder}"' in html
    assert "5 nights" in html and ">Booked<" in html
    [row] = await reveals(db)
    assert msgspec.json.decode(row["after"]) == {"referral_ids": [referral]}
    chinese = await client.get("/desk/referrals", headers={"Accept-Language": "zh-CN"})
    assert "医院转介" in chinese.text and "出院日期" in chinese.text


async def test_no_referrals_says_so(client: httpx.AsyncClient, db: Any) -> None:
    await open_desk(client, db)
    page = await client.get("/desk/referrals")
    assert "No hospital has referred a patient" in page.text and await reveals(db) == []


async def test_a_family_and_a_stranger_do_not_reach_the_peoples_pages(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken
) -> None:
    desk = await open_desk(client, db)
    elder, _ = await staying(client, db, make_token, desk)
    client.cookies.clear()
    for path in ("/desk/elders", f"/desk/elders/{elder}", "/desk/referrals"):
        answer = await client.get(path)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/signin")
    family = await builders.principal(db, "family")
    issued = await issue_token(db, Principal(id=family, role="family", name="family"), None)
    client.cookies.set(SESSION_COOKIE, issued.token)
    for path in ("/desk/elders", f"/desk/elders/{elder}", "/desk/referrals"):
        assert (await client.get(path)).status_code == 403, path
    token = csrf_token((await client.get("/desk/elders")).text)
    sent = await client.post(
        f"/desk/elders/{elder}/emergency-contact", data={"_csrf_token": token, "reason": "x"}
    )
    assert sent.status_code == 403 and await reveals(db) == []
