"""Walk-ins at the desk on the pages, as staff without JavaScript would: find an elder of the
facility or register one (with an assessment), the decision in words with the price, booking
once however often the form is sent, a refusal overridden by a manager naming each rule, front
desk staff told to ask a manager (and their forged override refused), bad dates and a short
reason named, and another facility's elder, bed or booking not found."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from typing import Any

import httpx

from respite.auth.guards import SESSION_COOKIE
from respite.auth.model import StaffRole
from respite.auth.service import create_principal, issue_token
from tests import builders
from tests.forms import csrf_token
from tests.pages.elder_forms import ELDER, SCORES

EN = {"Accept-Language": "en"}
ZH = {"Accept-Language": "zh-CN"}


class Desk:
    """A facility with a bed, an elder it registered, and a staff member signed in."""

    def __init__(self, facility: int, bed: int, elder: int, principal_id: int) -> None:
        self.facility = facility
        self.bed = bed
        self.elder = elder
        self.principal_id = principal_id
        self.check_in = builders.today() + timedelta(days=3)
        self.check_out = self.check_in + timedelta(days=4)

    def book_page(self, elder: int | None = None, **extra: Any) -> str:
        query = {
            "elder": elder or self.elder,
            "bed": self.bed,
            "from": self.check_in.isoformat(),
            "to": self.check_out.isoformat(),
            **extra,
        }
        return "/desk/walk-in/book?" + "&".join(f"{k}={v}" for k, v in query.items())


async def sign_in(client: httpx.AsyncClient, db: Any, facility: int, role: StaffRole) -> int:
    principal = await create_principal(
        db, "staff", "Zhou Min", facility_id=facility, staff_role=role
    )
    issued = await issue_token(db, principal, None)
    client.cookies.set(SESSION_COOKIE, issued.token)
    return principal.id


async def desk(
    client: httpx.AsyncClient, db: Any, *, role: StaffRole = "manager", **elder: Any
) -> Desk:
    facility = await builders.facility(db, name="Sunny Days Care Home")
    bed = await builders.bed(db, facility, price=32000, label="2F-08")
    elder_id = await builders.recipient(db, facility_id=facility, **elder)
    principal_id = await sign_in(client, db, facility, role)
    return Desk(facility, bed, elder_id, principal_id)


async def book(
    client: httpx.AsyncClient, scene: Desk, *, elder: int | None = None, **fields: Any
) -> tuple[httpx.Response, str]:
    """Open the book page for the scene's stay, then post its Book form with ``fields``."""
    opened = await client.get(scene.book_page(elder), headers=EN)
    assert opened.status_code == 200, opened.text
    attempt = re.search(r'name="attempt" value="([^"]+)"', opened.text)
    assert attempt is not None, opened.text
    data = {
        "_csrf_token": csrf_token(opened.text),
        "care_recipient_id": str(elder or scene.elder),
        "bed_id": str(scene.bed),
        "check_in": scene.check_in.isoformat(),
        "check_out": scene.check_out.isoformat(),
        "attempt": attempt[1],
        **fields,
    }
    answer = await client.post("/desk/walk-in/book", data=data, headers=EN)
    return answer, opened.text


async def bookings(db: Any, bed: int) -> int:
    return int(await db.fetchval("SELECT count(*) FROM bookings WHERE bed_id = $1", bed))


def booked_id(answer: httpx.Response) -> int:
    assert answer.status_code == 303, answer.text
    found = re.fullmatch(r"/desk/walk-in/booked/(\d+)", answer.headers["location"])
    assert found is not None, answer.headers["location"]
    return int(found[1])


async def test_an_elder_of_the_facility_is_found_by_name_or_phone(
    client: httpx.AsyncClient, db: Any
) -> None:
    scene = await desk(client, db)
    await db.execute(
        "UPDATE care_recipients SET emergency_contact_phone_last4 = '8000' WHERE id = $1",
        scene.elder,
    )
    elsewhere = await builders.facility(db)
    hidden = await builders.recipient(db, facility_id=elsewhere)
    by_name = await client.get("/desk/walk-in?q=秀英", headers=EN)
    assert by_name.status_code == 200
    assert f"elder={scene.elder}" in by_name.text and f"elder={hidden}" not in by_name.text
    assert "Elders found: 1" in by_name.text and "Level 2" in by_name.text
    by_phone = await client.get(f"/desk/walk-in?q=8000&bed={scene.bed}", headers=ZH)
    assert by_phone.status_code == 200 and "找到 1 位长者" in by_phone.text
    assert f"elder={scene.elder}&amp;bed={scene.bed}" in by_phone.text
    start = scene.check_in
    chosen = await client.get(f"/desk/walk-in?bed={scene.bed}&from={start}", headers=ZH)
    assert (
        f"已在床位表中选择：床位 2F-08，{start.year}年{start.month}月{start.day}日起。"
        in chosen.text
    )
    nobody = await client.get("/desk/walk-in?q=Nobody", headers=EN)
    assert "No elder of this care home matches “Nobody”." in nobody.text
    blank = await client.get("/desk/walk-in?q=12", headers=EN)
    assert blank.status_code == 422 and 'href="#f-q"' in blank.text


async def test_the_search_finds_only_the_elders_the_desk_may_see(
    client: httpx.AsyncClient, db: Any
) -> None:
    scene = await desk(client, db)
    today = builders.today()
    staying = await builders.recipient(db)  # a family's elder, staying here now
    await builders.booking(
        db,
        scene.bed,
        today,
        today + timedelta(days=2),
        recipient_id=staying,
        status="checked_in",
    )
    long_gone = await builders.recipient(db)
    await builders.booking(
        db,
        scene.bed,
        today - timedelta(days=90),
        today - timedelta(days=80),
        recipient_id=long_gone,
        status="checked_out",
    )
    cancelled = await builders.recipient(db)
    await builders.booking(
        db,
        scene.bed,
        today + timedelta(days=9),
        today + timedelta(days=10),
        recipient_id=cancelled,
        status="cancelled",
    )
    found = await client.get("/desk/walk-in?q=王", headers=EN)
    assert found.status_code == 200 and "Elders found: 2" in found.text
    assert f"elder={scene.elder}" in found.text and f"elder={staying}" in found.text
    for hidden in (long_gone, cancelled):
        assert f"elder={hidden}" not in found.text
        refused = await client.get(scene.book_page(elder=hidden), headers=EN)
        assert refused.status_code == 404


async def test_a_new_elder_is_registered_with_an_assessment_and_goes_on_to_book(
    client: httpx.AsyncClient, db: Any
) -> None:
    scene = await desk(client, db)
    opened = await client.get(f"/desk/walk-in/new?bed={scene.bed}&from=2027-01-05", headers=ZH)
    assert opened.status_code == 200 and "登记现场入住的长者" in opened.text
    fields = {**ELDER, **SCORES, "home_place": "", "bed": str(scene.bed), "from": "2027-01-05"}
    fields["assessed_on"] = (builders.today() - timedelta(days=3)).isoformat()
    answer = await client.post(
        "/desk/walk-in/new", data={"_csrf_token": csrf_token(opened.text), **fields}
    )
    assert answer.status_code == 303, answer.text
    found = re.fullmatch(
        rf"/desk/walk-in/book\?elder=(\d+)&bed={scene.bed}&from=2027-01-05",
        answer.headers["location"],
    )
    assert found is not None, answer.headers["location"]
    row = await db.fetchrow(
        "SELECT facility_id, family_id, needs FROM care_recipients WHERE id = $1", int(found[1])
    )
    assert row["facility_id"] == scene.facility and row["family_id"] is None
    assert sorted(row["needs"]) == ["dementia", "fall_risk"]
    level = await db.fetchval(
        "SELECT level FROM assessments WHERE care_recipient_id = $1", int(found[1])
    )
    assert level is not None


async def test_a_refused_assessment_registers_no_elder_and_names_each_field(
    client: httpx.AsyncClient, db: Any
) -> None:
    scene = await desk(client, db)
    before = await db.fetchval("SELECT count(*) FROM care_recipients")
    opened = await client.get("/desk/walk-in/new", headers=EN)
    fields = {**ELDER, "home_place": "", "self_care": "99", "birth_date": "not a date"}
    answer = await client.post(
        "/desk/walk-in/new", data={"_csrf_token": csrf_token(opened.text), **fields}, headers=EN
    )
    assert answer.status_code == 422
    for name in ("birth_date", "self_care", "mobility", "mental", "perception_social"):
        assert f'href="#f-{name}"' in answer.text, name
    assert await db.fetchval("SELECT count(*) FROM care_recipients") == before
    assert scene.facility


async def test_an_eligible_walk_in_shows_the_decision_and_price_and_books(
    client: httpx.AsyncClient, db: Any
) -> None:
    scene = await desk(client, db)
    page = await client.get(scene.book_page(), headers=EN)
    assert page.status_code == 200
    assert "王秀英 may stay in this bed on these dates." in page.text
    assert "¥1,280.00, that is ¥320.00 a night" in page.text
    assert "Override this rule" not in page.text
    answer, _ = await book(client, scene)
    booking = booked_id(answer)
    row = await db.fetchrow(
        "SELECT status, booked_by, override_reason, facility_id FROM bookings WHERE id = $1",
        booking,
    )
    assert row["status"] == "confirmed" and row["booked_by"] == scene.principal_id
    assert row["override_reason"] is None and row["facility_id"] == scene.facility
    shown = await client.get(f"/desk/walk-in/booked/{booking}", headers=ZH)
    assert shown.status_code == 200 and f'href="/desk/bookings/{booking}"' in shown.text
    assert "已为王秀英预订床位 2F-08。" in shown.text
    assert f'<a href="/desk/elders/{scene.elder}">王秀英</a>' in shown.text
    assert f'<a href="/desk/beds/{scene.bed}">2F-08</a>' in shown.text and "4 晚" in shown.text


async def test_a_double_submit_books_once(client: httpx.AsyncClient, db: Any) -> None:
    scene = await desk(client, db)
    opened = await client.get(scene.book_page(), headers=EN)
    attempt = re.search(r'name="attempt" value="([^"]+)"', opened.text)
    assert attempt is not None
    data = {
        "_csrf_token": csrf_token(opened.text),
        "care_recipient_id": str(scene.elder),
        "bed_id": str(scene.bed),
        "check_in": scene.check_in.isoformat(),
        "check_out": scene.check_out.isoformat(),
        "attempt": attempt[1],
    }
    first = await client.post("/desk/walk-in/book", data=data)
    second = await client.post("/desk/walk-in/book", data=data)
    assert booked_id(first) == booked_id(second)
    assert await bookings(db, scene.bed) == 1


async def test_two_submits_at_once_book_once(client: httpx.AsyncClient, db: Any) -> None:
    scene = await desk(client, db)
    opened = await client.get(scene.book_page(), headers=EN)
    attempt = re.search(r'name="attempt" value="([^"]+)"', opened.text)
    assert attempt is not None
    data = {
        "_csrf_token": csrf_token(opened.text),
        "care_recipient_id": str(scene.elder),
        "bed_id": str(scene.bed),
        "check_in": scene.check_in.isoformat(),
        "check_out": scene.check_out.isoformat(),
        "attempt": attempt[1],
    }
    answers = await asyncio.gather(
        *(client.post("/desk/walk-in/book", data=data) for _ in range(4))
    )
    assert len({booked_id(answer) for answer in answers}) == 1
    assert await bookings(db, scene.bed) == 1


async def test_a_bed_taken_after_the_page_was_shown_is_said_and_books_nothing(
    client: httpx.AsyncClient, db: Any
) -> None:
    scene = await desk(client, db)
    opened = await client.get(scene.book_page(), headers=EN)
    attempt = re.search(r'name="attempt" value="([^"]+)"', opened.text)
    assert attempt is not None
    await builders.booking(db, scene.bed, scene.check_in, scene.check_in + timedelta(days=1))
    answer = await client.post(
        "/desk/walk-in/book",
        data={
            "_csrf_token": csrf_token(opened.text),
            "care_recipient_id": str(scene.elder),
            "bed_id": str(scene.bed),
            "check_in": scene.check_in.isoformat(),
            "check_out": scene.check_out.isoformat(),
            "attempt": attempt[1],
        },
        headers=EN,
    )
    assert answer.status_code == 409 and "error-summary" in answer.text
    assert "Bed 2F-08 is not free on every night of these dates." in answer.text
    assert await bookings(db, scene.bed) == 1


async def test_registering_an_id_number_twice_points_to_the_elder_registered(
    client: httpx.AsyncClient, db: Any
) -> None:
    await desk(client, db)
    fields = {**ELDER, "home_place": "", "national_id": "11010519491231002X"}
    opened = await client.get("/desk/walk-in/new", headers=EN)
    first = await client.post(
        "/desk/walk-in/new", data={"_csrf_token": csrf_token(opened.text), **fields}
    )
    assert first.status_code == 303, first.text
    elder = first.headers["location"].split("elder=")[1]
    again = await client.post(
        "/desk/walk-in/new", data={"_csrf_token": csrf_token(opened.text), **fields}, headers=EN
    )
    assert again.status_code == 409 and 'href="#f-national_id"' in again.text
    assert f'href="/desk/walk-in/book?elder={elder}"' in again.text


async def test_checking_in_now_books_and_checks_in(client: httpx.AsyncClient, db: Any) -> None:
    scene = await desk(client, db)
    scene.check_in = builders.today()
    page = await client.get(scene.book_page(), headers=EN)
    assert "Check the elder in now" in page.text
    answer, _ = await book(client, scene, check_in_now="true")
    booking = booked_id(answer)
    status = await db.fetchval("SELECT status FROM bookings WHERE id = $1", booking)
    assert status == "checked_in"


async def test_a_refusal_is_said_in_words_and_books_nothing_without_an_override(
    client: httpx.AsyncClient, db: Any
) -> None:
    scene = await desk(client, db, level=None)
    page = await client.get(scene.book_page(), headers=ZH)
    assert page.status_code == 200
    assert "王秀英不符合在这些日期入住这个床位的条件" in page.text
    assert "第 1 条" in page.text and 'name="override" value="no_assessment"' in page.text
    answer, _ = await book(client, scene)
    assert answer.status_code == 422
    assert 'href="#f-override-0"' in answer.text
    assert await bookings(db, scene.bed) == 0


async def test_a_manager_overrides_naming_each_rule_and_it_is_audited(
    client: httpx.AsyncClient, db: Any
) -> None:
    scene = await desk(client, db, level=None, needs=("oxygen",))
    page = await client.get(scene.book_page(), headers=EN)
    assert page.status_code == 200
    for code in ("no_assessment", "needs_capability_missing:oxygen"):
        assert f'name="override" value="{code}"' in page.text, code
    assert 'name="acknowledge" value="needs_capability_missing:oxygen"' in page.text
    assert 'name="acknowledge" value="no_assessment"' not in page.text
    assert "can be overridden only if you also confirm" in page.text
    reason = "Daughter in hospital tonight, assessment booked Monday"
    # One rule left out: named, nothing booked.
    partly, _ = await book(client, scene, override="no_assessment", override_reason=reason)
    assert partly.status_code == 422 and "Not overridden yet:" in partly.text
    assert 'href="#f-override-1"' in partly.text and await bookings(db, scene.bed) == 0
    # Ticked but not acknowledged: still not covered.
    unacknowledged, _ = await book(
        client,
        scene,
        override=["no_assessment", "needs_capability_missing:oxygen"],
        override_reason=reason,
    )
    assert unacknowledged.status_code == 422 and await bookings(db, scene.bed) == 0
    answer, _ = await book(
        client,
        scene,
        override=["no_assessment", "needs_capability_missing:oxygen"],
        acknowledge="needs_capability_missing:oxygen",
        override_reason=reason,
    )
    booking = booked_id(answer)
    row = await db.fetchrow(
        "SELECT override_reason, overrides FROM bookings WHERE id = $1", booking
    )
    assert row["override_reason"] == reason
    assert "needs_capability_missing:oxygen" in str(row["overrides"])
    audited = await db.fetchval(
        "SELECT after FROM audit_log WHERE entity = 'booking' AND entity_id = $1"
        " AND action = 'create'",
        str(booking),
    )
    assert reason in str(audited)


async def test_an_override_reason_too_short_is_named(client: httpx.AsyncClient, db: Any) -> None:
    scene = await desk(client, db, level=None)
    answer, _ = await book(client, scene, override="no_assessment", override_reason="urgent")
    assert answer.status_code == 422
    assert 'href="#f-override_reason"' in answer.text and "10" in answer.text
    assert 'value="no_assessment" checked' in answer.text and ">urgent</textarea>" in answer.text
    assert await bookings(db, scene.bed) == 0


async def test_front_desk_is_told_to_ask_a_manager_and_a_forged_override_is_refused(
    client: httpx.AsyncClient, db: Any
) -> None:
    scene = await desk(client, db, role="front_desk", level=None)
    page = await client.get(scene.book_page(), headers=EN)
    assert page.status_code == 200
    assert "Ask your manager to override this refusal." in page.text
    assert 'name="override"' not in page.text
    assert 'method="post" action="/desk/walk-in/book"' not in page.text
    opened = await client.get(scene.book_page(level="1"), headers=EN)
    forged = await client.post(
        "/desk/walk-in/book",
        data={
            "_csrf_token": csrf_token(opened.text),
            "care_recipient_id": str(scene.elder),
            "bed_id": str(scene.bed),
            "check_in": scene.check_in.isoformat(),
            "check_out": scene.check_out.isoformat(),
            "attempt": "a" * 22,
            "override": "no_assessment",
            "override_reason": "I know better than the rules",
        },
        headers=EN,
    )
    assert forged.status_code == 403 and "managers" in forged.text
    assert await bookings(db, scene.bed) == 0


async def test_front_desk_books_an_eligible_walk_in(client: httpx.AsyncClient, db: Any) -> None:
    scene = await desk(client, db, role="front_desk")
    answer, _ = await book(client, scene)
    booked_id(answer)
    assert await bookings(db, scene.bed) == 1


async def test_bad_dates_are_named_and_nothing_is_checked(
    client: httpx.AsyncClient, db: Any
) -> None:
    scene = await desk(client, db)
    base = f"/desk/walk-in/book?elder={scene.elder}&bed={scene.bed}&checked=1"
    backwards = await client.get(f"{base}&from=2027-03-05&to=2027-03-01", headers=EN)
    assert backwards.status_code == 422 and 'href="#f-to"' in backwards.text
    assert "may stay" not in backwards.text
    garbled = await client.get(f"{base}&from=tomorrow&to=", headers=ZH)
    assert garbled.status_code == 422
    assert 'href="#f-from"' in garbled.text and 'href="#f-to"' in garbled.text
    posted, _ = await book(client, scene, check_out="2020-13-01")
    assert posted.status_code == 422 and 'href="#f-to"' in posted.text
    assert await bookings(db, scene.bed) == 0


async def test_a_bed_not_free_is_said_and_offers_no_booking(
    client: httpx.AsyncClient, db: Any
) -> None:
    scene = await desk(client, db)
    await builders.block(
        db, scene.bed, scene.check_in + timedelta(days=1), scene.check_out, "cleaning"
    )
    page = await client.get(scene.book_page(), headers=EN)
    assert page.status_code == 200
    assert "Bed 2F-08 is not free on every night of these dates." in page.text
    assert "out of service" in page.text and "(cleaning)" in page.text
    assert 'method="post" action="/desk/walk-in/book"' not in page.text


async def test_an_elder_staying_elsewhere_on_those_nights_is_said_before_booking(
    client: httpx.AsyncClient, db: Any
) -> None:
    scene = await desk(client, db)
    other = await builders.facility(db, name="Elsewhere")
    elsewhere = await builders.bed(db, other)
    first, end = scene.check_in - timedelta(days=1), scene.check_in + timedelta(days=2)
    await builders.booking(db, elsewhere, first, end, recipient_id=scene.elder)
    page = await client.get(scene.book_page(), headers=EN)
    assert page.status_code == 200
    assert "cannot be booked for these dates" in page.text
    assert f"already has a stay booked from {first:%B} {first.day}, {first.year}" in page.text
    assert f'href="/desk/elders/{scene.elder}"' in page.text
    assert 'method="post" action="/desk/walk-in/book"' not in page.text  # no Book, no override
    after = f"elder={scene.elder}&bed={scene.bed}&from={end}&to={scene.check_out}"
    later = await client.get(f"/desk/walk-in/book?{after}", headers=EN)
    assert "cannot be booked" not in later.text
    assert 'method="post" action="/desk/walk-in/book"' in later.text


async def test_another_facilitys_bed_elder_or_booking_is_not_found(
    client: httpx.AsyncClient, db: Any
) -> None:
    scene = await desk(client, db)
    other = await builders.facility(db)
    their_bed = await builders.bed(db, other)
    their_elder = await builders.recipient(db, facility_id=other)
    their_booking = await builders.booking(
        db, their_bed, scene.check_in, scene.check_out, recipient_id=their_elder
    )
    for path in (
        f"/desk/walk-in?bed={their_bed}",
        f"/desk/walk-in/new?bed={their_bed}",
        scene.book_page(elder=their_elder),
        f"/desk/walk-in/book?elder={scene.elder}&bed={their_bed}",
        f"/desk/walk-in/booked/{their_booking}",
    ):
        answer = await client.get(path, headers=EN)
        assert answer.status_code == 404, path
    opened = await client.get(scene.book_page(), headers=EN)
    for elder, bed in ((their_elder, scene.bed), (scene.elder, their_bed)):
        answer = await client.post(
            "/desk/walk-in/book",
            data={
                "_csrf_token": csrf_token(opened.text),
                "care_recipient_id": str(elder),
                "bed_id": str(bed),
                "check_in": scene.check_in.isoformat(),
                "check_out": scene.check_out.isoformat(),
                "attempt": "b" * 22,
            },
        )
        assert answer.status_code == 404, (elder, bed)
    assert await bookings(db, their_bed) == 1 and await bookings(db, scene.bed) == 0


async def test_signed_out_goes_to_sign_in_and_a_family_is_refused(
    client: httpx.AsyncClient, db: Any, make_token: Any
) -> None:
    signed_out = await client.get("/desk/walk-in")
    assert signed_out.status_code == 303 and "/signin" in signed_out.headers["location"]
    _, headers = await make_token("family")
    client.cookies.set(SESSION_COOKIE, headers["Authorization"].removeprefix("Bearer "))
    refused = await client.get("/desk/walk-in", headers=EN)
    assert refused.status_code == 403
