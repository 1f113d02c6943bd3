"""Today and tomorrow at the desk, over the test client as a browser without JavaScript:
the day's arrivals and departures, each step through its confirmation page (check in, check
out on time and early, no-show), a step refused named in words, a second click, one booking's
page with who booked it and a cancel with a reason, another facility's booking (404), and a
family or a stranger at the desk's door."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import httpx
import pytest

from respite.auth.guards import SESSION_COOKIE
from respite.auth.model import Principal, StaffRole
from respite.auth.service import create_principal, issue_token
from tests import builders
from tests.forms import csrf_token


class Desk:
    """A care home with beds, and one of its staff signed in on the pages."""

    def __init__(self, facility: int, beds: dict[str, int], token: str) -> None:
        self.facility = facility
        self.beds = beds
        self.token = token
        self.today = builders.today()


async def open_desk(
    client: httpx.AsyncClient, db: Any, *, staff_role: StaffRole = "front_desk"
) -> Desk:
    facility = await builders.facility(db, name="Sunny Days Care Home", phone="021 6432 1000")
    beds = {label: await builders.bed(db, facility, label=label) for label in ("3A", "3B", "4A")}
    staff = await create_principal(
        db, "staff", "Zhou Min", facility_id=facility, staff_role=staff_role
    )
    issued = await issue_token(db, staff, None)
    client.cookies.set(SESSION_COOKIE, issued.token)
    return Desk(facility, beds, issued.token)


async def elder(db: Any, facility: int, name: str, **extra: Any) -> int:
    rid = await builders.recipient(db, facility_id=facility, **extra)
    await db.execute("UPDATE care_recipients SET name = $2 WHERE id = $1", rid, name)
    return rid


async def stay(
    db: Any,
    desk: Desk,
    bed: str,
    first: int,
    nights: int,
    *,
    name: str = "王芳",
    status: str = "confirmed",
) -> int:
    """A booking of ``bed`` from ``first`` days after today, for an elder called ``name``."""
    check_in = desk.today + timedelta(days=first)
    rid = await elder(db, desk.facility, name)
    return await builders.booking(
        db,
        desk.beds[bed],
        check_in,
        check_in + timedelta(days=nights),
        recipient_id=rid,
        status=status,
    )


async def status_of(db: Any, booking: int) -> str:
    return str(await db.fetchval("SELECT status FROM bookings WHERE id = $1", booking))


async def confirm(
    client: httpx.AsyncClient, booking: int, step: str, *, back: str = "today"
) -> httpx.Response:
    """Open the step's confirmation page and press its button."""
    asked = await client.get(f"/desk/bookings/{booking}/{step}?from={back}")
    assert asked.status_code == 200, asked.text
    return await client.post(
        f"/desk/bookings/{booking}/{step}",
        data={"_csrf_token": csrf_token(asked.text), "back": back},
    )


def row_of(html: str, booking: int) -> str:
    found = re.search(rf'<tr id="booking-{booking}".*?</tr>', html, re.S)
    assert found is not None, f"no row of booking {booking}"
    return found[0]


async def test_the_desk_lists_today_and_tomorrow_with_the_steps_each_allows(
    client: httpx.AsyncClient, db: Any
) -> None:
    desk = await open_desk(client, db)
    arriving = await stay(db, desk, "3A", 0, 3, name="王芳")
    leaving = await stay(db, desk, "3B", -4, 4, name="李桂兰", status="checked_in")
    tomorrow_in = await stay(db, desk, "4A", 1, 2, name="张秀珍")
    tomorrow_out = await stay(db, desk, "4A", -2, 3, name="陈玉梅", status="checked_in")
    page = await client.get("/desk")
    assert page.status_code == 200
    html = page.text
    today, tomorrow = html.split("Tomorrow, ")
    assert f"Today, {desk.today:%B} {desk.today.day}, {desk.today.year}" in today
    assert "Arriving (1)" in today and "Leaving (1)" in today
    row = row_of(today, arriving)
    assert "王芳" in row and "3A" in row and "3 nights" in row and ">Booked<" in row
    assert f'href="/desk/bookings/{arriving}/check-in?from=today"' in row
    assert f'href="/desk/bookings/{arriving}/no-show?from=today"' in row
    assert "check-out" not in row
    row = row_of(today, leaving)
    assert "李桂兰" in row and ">Checked in<" in row and ">Check out<" in row
    row = row_of(tomorrow, tomorrow_in)
    day = desk.today + timedelta(days=1)
    # not yet: it starts tomorrow, and the row says when
    assert "张秀珍" in row and f"Check in on {day:%B} {day.day}, {day.year}" in row
    assert "/check-in" not in row
    row = row_of(tomorrow, tomorrow_out)
    assert ">Check out early<" in row and f"/desk/bookings/{tomorrow_out}/check-out" in row
    # the desk's other work is a link away: referrals, exports
    assert 'href="/desk/referrals"' in tomorrow and 'href="/desk/exports"' in tomorrow
    chinese = await client.get("/desk", headers={"Accept-Language": "zh-CN"})
    assert "今明两天" in chinese.text and "办理入住" in chinese.text and "Today" not in chinese.text


async def test_checking_in_asks_first_then_checks_in(client: httpx.AsyncClient, db: Any) -> None:
    desk = await open_desk(client, db)
    booking = await stay(db, desk, "3A", 0, 3, name="Wang Fang")
    asked = await client.get(f"/desk/bookings/{booking}/check-in?from=today")
    assert asked.status_code == 200
    assert "Check in Wang Fang to bed 3A for 3 nights?" in asked.text
    assert (
        ">Back, change nothing<" in asked.text and f'href="/desk#booking-{booking}"' in asked.text
    )
    assert await status_of(db, booking) == "confirmed"  # asking changes nothing
    answer = await client.post(
        f"/desk/bookings/{booking}/check-in",
        data={"_csrf_token": csrf_token(asked.text), "back": "today"},
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == (
        f"/desk?done=check_in&booking={booking}#booking-{booking}"
    )
    assert await status_of(db, booking) == "checked_in"
    after = await client.get(answer.headers["location"])
    assert "Wang Fang is checked in to bed 3A." in after.text
    row = row_of(after.text, booking)
    assert ">Checked in<" in row and "check-in" not in row
    audited = await db.fetchval(
        "SELECT count(*) FROM audit_log WHERE entity = 'booking' AND entity_id = $1"
        " AND action = 'check_in'",
        str(booking),
    )
    assert audited == 1
    again = await client.post(  # a second click of the same form: done already
        f"/desk/bookings/{booking}/check-in",
        data={"_csrf_token": csrf_token(asked.text), "back": "today"},
    )
    assert again.status_code == 303 and await status_of(db, booking) == "checked_in"


async def test_an_early_check_out_frees_the_rest_of_the_nights_at_once(
    client: httpx.AsyncClient, db: Any
) -> None:
    desk = await open_desk(client, db)
    booking = await stay(db, desk, "3B", -2, 5, name="Li Guilan", status="checked_in")
    asked = await client.get(f"/desk/bookings/{booking}/check-out?from=booking")
    assert "Check Li Guilan out of bed 3B early?" in asked.text
    planned = desk.today + timedelta(days=3)
    assert f"the remaining 3 nights from {desk.today:%B} {desk.today.day}" in asked.text
    assert f"instead of {planned:%B} {planned.day}, {planned.year}" in asked.text
    answer = await confirm(client, booking, "check-out", back="booking")
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/desk/bookings/{booking}?done=check_out"
    row = await db.fetchrow("SELECT status, check_out FROM bookings WHERE id = $1", booking)
    assert row["status"] == "checked_out" and row["check_out"] == desk.today
    held = await db.fetchval(
        "SELECT count(*) FROM bed_nights WHERE booking_id = $1 AND night >= $2",
        booking,
        desk.today,
    )
    assert held == 0
    after = await client.get(answer.headers["location"])
    assert "Li Guilan is checked out of bed 3B" in after.text and ">Checked out<" in after.text


async def test_checking_out_on_the_last_day_keeps_the_stay(
    client: httpx.AsyncClient, db: Any
) -> None:
    desk = await open_desk(client, db)
    booking = await stay(db, desk, "3A", -3, 3, name="Chen Yumei", status="checked_in")
    asked = await client.get(f"/desk/bookings/{booking}/check-out")
    assert "Check Chen Yumei out of bed 3A?" in asked.text and "as planned" in asked.text
    answer = await confirm(client, booking, "check-out")
    assert answer.status_code == 303 and await status_of(db, booking) == "checked_out"


async def test_a_no_show_is_marked_after_asking(client: httpx.AsyncClient, db: Any) -> None:
    desk = await open_desk(client, db)
    booking = await stay(db, desk, "4A", 0, 2, name="Zhang Xiuzhen")
    asked = await client.get(f"/desk/bookings/{booking}/no-show")
    assert "Mark Zhang Xiuzhen as not arrived?" in asked.text
    answer = await confirm(client, booking, "no-show")
    assert answer.status_code == 303 and await status_of(db, booking) == "no_show"
    freed = await db.fetchval("SELECT count(*) FROM bed_nights WHERE booking_id = $1", booking)
    assert freed == 0
    after = await client.get(answer.headers["location"])
    assert "Zhang Xiuzhen is marked as not arrived; bed 4A is free again" in after.text
    assert f'id="booking-{booking}"' not in after.text


@pytest.mark.parametrize(
    ("first", "status", "step", "words"),
    [
        (1, "confirmed", "check-in", "The stay starts on"),
        (1, "confirmed", "no-show", "a no-show is recorded only from that day"),
        (0, "confirmed", "check-out", "Check-out needs a checked-in booking"),
        (-2, "checked_out", "check-in", "needs a confirmed booking; this one is checked out"),
    ],
)
async def test_a_step_the_booking_does_not_allow_is_refused_in_words(
    client: httpx.AsyncClient, db: Any, first: int, status: str, step: str, words: str
) -> None:
    desk = await open_desk(client, db)
    booking = await stay(db, desk, "3A", first, 2, status=status)
    asked = await client.get(f"/desk/bookings/{booking}/{step}")
    assert asked.status_code == 409
    assert "cannot be" in asked.text and words in asked.text
    assert 'action="/desk/bookings/' not in asked.text  # no button to press
    token = csrf_token(asked.text)
    sent = await client.post(f"/desk/bookings/{booking}/{step}", data={"_csrf_token": token})
    assert sent.status_code == 409 and words in sent.text
    assert await status_of(db, booking) == status
    chinese = await client.get(
        f"/desk/bookings/{booking}/{step}", headers={"Accept-Language": "zh-CN"}
    )
    assert chinese.status_code == 409 and "现在无法" in chinese.text


async def test_the_booking_page_says_who_booked_and_cancels_with_a_reason(
    client: httpx.AsyncClient, db: Any, make_token: Any
) -> None:
    desk = await open_desk(client, db)
    rid = await elder(db, desk.facility, "Wang Fang")
    _, staff_headers = await make_token("staff", facility_id=desk.facility)
    check_in = desk.today + timedelta(days=5)
    walked = await client.post(
        f"/v1/facilities/{desk.facility}/walk-ins",
        json={
            "care_recipient_id": rid,
            "bed_id": desk.beds["3A"],
            "check_in": check_in.isoformat(),
            "check_out": (check_in + timedelta(days=2)).isoformat(),
        },
        headers=staff_headers,
    )
    assert walked.status_code == 201, walked.text
    booking = walked.json()["id"]
    page = await client.get(f"/desk/bookings/{booking}")
    assert page.status_code == 200
    html = page.text
    assert "Booking of Wang Fang" in html and "Walk-in, booked at the desk" in html
    assert "3A" in html and "2 nights" in html and ">Booked<" in html
    assert f'href="/desk/elders/{rid}"' in html and "Cancel the booking" in html
    blank = await client.post(
        f"/desk/bookings/{booking}/cancel", data={"_csrf_token": csrf_token(html), "reason": " "}
    )
    assert blank.status_code == 422 and 'href="#f-reason"' in blank.text
    assert "say why the booking is cancelled" in blank.text
    assert await status_of(db, booking) == "confirmed"
    cancelled = await client.post(
        f"/desk/bookings/{booking}/cancel",
        data={"_csrf_token": csrf_token(html), "reason": "The family called: in hospital"},
    )
    assert cancelled.status_code == 303
    assert cancelled.headers["location"] == f"/desk/bookings/{booking}?done=cancel"
    assert await status_of(db, booking) == "cancelled"
    reason = await db.fetchval("SELECT cancel_reason FROM bookings WHERE id = $1", booking)
    assert reason == "The family called: in hospital"
    after = await client.get(cancelled.headers["location"])
    assert "is cancelled; its nights are free again" in after.text
    assert "The family called: in hospital" in after.text
    assert 'action="/desk/bookings/' not in after.text.split("</header>")[1]


async def test_the_booking_page_leads_to_its_bed_and_says_times_by_the_facilitys_clock(
    client: httpx.AsyncClient, db: Any
) -> None:
    desk = await open_desk(client, db)
    booking = await stay(db, desk, "3B", 0, 3, name="Wang Fang")
    # 20:05 UTC is 04:05 the next morning in Shanghai, the care home's time zone
    await db.execute(
        "UPDATE bookings SET created_at = '2026-03-01 20:05:00+00' WHERE id = $1", booking
    )
    html = (await client.get(f"/desk/bookings/{booking}")).text
    assert f'<a href="/desk/beds/{desk.beds["3B"]}">3B</a>' in html
    assert f'href="/desk/board?start={desk.today.isoformat()}&amp;prefix=3B"' in html
    assert "Mar 2, 2026, 4:05" in html and "Mar 1, 2026" not in html
    asked = (await client.get(f"/desk/bookings/{booking}/check-in?from=booking")).text
    assert "Mar 2, 2026, 4:05" in asked


async def test_a_booking_through_a_hospital_or_a_family_is_said_so(
    client: httpx.AsyncClient, db: Any
) -> None:
    desk = await open_desk(client, db)
    hospital = await builders.hospital(db)
    booking = await stay(db, desk, "3A", 3, 2)
    await db.execute("UPDATE bookings SET hospital_id = $2 WHERE id = $1", booking, hospital)
    page = await client.get(f"/desk/bookings/{booking}", headers={"Accept-Language": "zh-CN"})
    assert "医院转介" in page.text
    family = await builders.principal(db, "family")
    other = await stay(db, desk, "3B", 3, 2)
    await db.execute(
        "UPDATE bookings SET booked_by = $2, hold_id = 'h1' WHERE id = $1", other, family
    )
    assert "The family, online" in (await client.get(f"/desk/bookings/{other}")).text


async def test_another_facilitys_booking_is_not_found_from_any_page(
    client: httpx.AsyncClient, db: Any
) -> None:
    desk = await open_desk(client, db)
    elsewhere = await builders.facility(db)
    bed = await builders.bed(db, elsewhere, label="9Z")
    theirs = await builders.booking(db, bed, desk.today, desk.today + timedelta(days=2))
    opened = await client.get("/desk")
    token = csrf_token(opened.text)
    assert "9Z" not in opened.text
    for path in (f"/desk/bookings/{theirs}", f"/desk/bookings/{theirs}/check-in"):
        assert (await client.get(path)).status_code == 404, path
    for step in ("check-in", "no-show", "check-out", "cancel"):
        sent = await client.post(
            f"/desk/bookings/{theirs}/{step}", data={"_csrf_token": token, "reason": "x"}
        )
        assert sent.status_code == 404, step
    assert await status_of(db, theirs) == "confirmed"
    unknown = await client.get(f"/desk/bookings/{theirs}/check-sideways")
    assert unknown.status_code == 404


async def test_a_family_and_a_stranger_do_not_reach_the_desk(
    client: httpx.AsyncClient, db: Any
) -> None:
    desk = await open_desk(client, db)
    booking = await stay(db, desk, "3A", 0, 2)
    client.cookies.clear()
    stranger = await client.get("/desk")
    assert stranger.status_code == 303 and stranger.headers["location"] == "/signin?next=/desk"
    stranger = await client.get(f"/desk/bookings/{booking}")
    assert stranger.status_code == 303
    family = await builders.principal(db, "family")
    issued = await issue_token(db, Principal(id=family, role="family", name="family"), None)
    client.cookies.set(SESSION_COOKIE, issued.token)
    refused = await client.get("/desk")
    assert refused.status_code == 403 and "for the staff of a care home" in refused.text
    token = csrf_token(refused.text)
    sent = await client.post(f"/desk/bookings/{booking}/check-in", data={"_csrf_token": token})
    assert sent.status_code == 403 and await status_of(db, booking) == "confirmed"


async def test_a_step_without_its_csrf_token_changes_nothing(
    client: httpx.AsyncClient, db: Any
) -> None:
    desk = await open_desk(client, db)
    booking = await stay(db, desk, "3A", 0, 2)
    sent = await client.post(f"/desk/bookings/{booking}/check-in", data={"back": "today"})
    assert sent.status_code == 403 and await status_of(db, booking) == "confirmed"


async def test_a_manager_takes_the_same_steps(client: httpx.AsyncClient, db: Any) -> None:
    desk = await open_desk(client, db, staff_role="manager")
    booking = await stay(db, desk, "3A", 0, 2)
    answer = await confirm(client, booking, "check-in")
    assert answer.status_code == 303 and await status_of(db, booking) == "checked_in"


async def test_a_stay_that_has_begun_is_not_cancelled_and_says_why(
    client: httpx.AsyncClient, db: Any
) -> None:
    desk = await open_desk(client, db)
    booking = await stay(db, desk, "3A", -1, 3, status="checked_in")
    page = await client.get(f"/desk/bookings/{booking}")
    assert 'action="/desk/bookings/' not in page.text.split("</header>")[1]  # no cancel form
    sent = await client.post(
        f"/desk/bookings/{booking}/cancel",
        data={"_csrf_token": csrf_token(page.text), "reason": "the family asked"},
    )
    assert sent.status_code == 409
    assert "This booking cannot be cancelled now" in sent.text
    assert "needs a confirmed booking; this one is checked in" in sent.text
    assert await status_of(db, booking) == "checked_in"
