"""The desk's day in Chromium at a desk computer's and a tablet's size, in both languages:
check in, check out early (the freed nights are then booked through the API), and a no-show,
each through its confirmation page; an elder found by name, and the emergency contact
revealed (one audit row). Every page visited is scanned (axe-core) and photographed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from playwright.async_api import Page

from respite.auth.service import create_principal, issue_token
from respite.i18n import LANGUAGES, Lang
from tests import builders
from tests.browser.actions import say, sign_in_with
from tests.browser.conftest import DESK_SCREENS
from tests.browser.harness import Look

BOTH = pytest.mark.parametrize("language", LANGUAGES)
SCREENS = pytest.mark.parametrize("screen", DESK_SCREENS)


class Desk:
    """A care home with two beds, and a front-desk colleague signed in in the browser."""

    def __init__(self, facility: int, beds: dict[str, int], token: str) -> None:
        self.facility = facility
        self.beds = beds
        self.token = token
        self.today = builders.today()

    @property
    def bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def open_desk(page: Page, live_server: str, db: Any, *, role: str = "front_desk") -> Desk:
    facility = await builders.facility(db, name="阳光长者照护中心")
    beds = {label: await builders.bed(db, facility, label=label) for label in ("3A", "3B")}
    staff = await create_principal(
        db,
        "staff",
        "周敏",
        facility_id=facility,
        staff_role="manager" if role == "manager" else "front_desk",
    )
    issued = await issue_token(db, staff, None)
    await sign_in_with(page, live_server, issued.token)
    return Desk(facility, beds, issued.token)


async def stay(db: Any, desk: Desk, bed: str, first: int, nights: int, name: str, **kw: Any) -> int:
    elder = await builders.recipient(db, facility_id=desk.facility)
    await db.execute("UPDATE care_recipients SET name = $2 WHERE id = $1", elder, name)
    check_in = desk.today + timedelta(days=first)
    return await builders.booking(
        db, desk.beds[bed], check_in, check_in + timedelta(days=nights), recipient_id=elder, **kw
    )


async def status_of(db: Any, booking: int) -> str:
    return str(await db.fetchval("SELECT status FROM bookings WHERE id = $1", booking))


@BOTH
@SCREENS
async def test_a_check_in_from_the_day_through_its_confirmation(
    live_server: str, page: Page, look: Look, db: Any, language: Lang
) -> None:
    desk = await open_desk(page, live_server, db)
    booking = await stay(db, desk, "3A", 0, 3, "王芳")
    await page.goto(f"{live_server}/desk")
    await look(page, "today")
    row = page.locator(f"#booking-{booking}")
    await row.get_by_role("link", name=say("desk.today.step.check_in", language)).click()
    await page.wait_for_url(f"**/desk/bookings/{booking}/check-in?from=today")
    nights = say("desk.today.nights_many", language, n=3)
    question = say("desk.today.confirm.check_in", language, who="王芳", bed="3A", nights=nights)
    assert await page.locator("h1").inner_text() == question
    await look(page, "confirm-check-in")
    assert await status_of(db, booking) == "confirmed"
    await page.get_by_role("button", name=say("desk.today.confirm.yes.check_in", language)).click()
    await page.wait_for_url(f"**/desk?done=check_in&booking={booking}#booking-{booking}")
    done = say("desk.today.done.check_in", language, who="王芳", bed="3A")
    assert await page.locator(".notice[role=status]").inner_text() == done
    assert await row.locator(".tag").inner_text() == say("staff.status.checked_in", language)
    await look(page, "checked-in")
    assert await status_of(db, booking) == "checked_in"


@BOTH
@SCREENS
async def test_an_early_check_out_frees_the_nights_for_another_booking(
    live_server: str, page: Page, look: Look, db: Any, language: Lang
) -> None:
    desk = await open_desk(page, live_server, db)
    booking = await stay(db, desk, "3B", -2, 5, "李桂兰", status="checked_in")
    await page.goto(f"{live_server}/desk/bookings/{booking}")
    await look(page, "booking")
    early = say("desk.today.step.check_out_early", language)
    await page.get_by_role("link", name=early).click()
    await page.wait_for_url(f"**/desk/bookings/{booking}/check-out?from=booking")
    question = say("desk.today.confirm.check_out_early", language, who="李桂兰", bed="3B")
    assert await page.locator("h1").inner_text() == question
    await look(page, "confirm-check-out")
    # Back changes nothing; then the desk checks out for real.
    await page.get_by_role("link", name=say("desk.today.confirm.back", language)).click()
    await page.wait_for_url(f"**/desk/bookings/{booking}")
    assert await status_of(db, booking) == "checked_in"
    await page.get_by_role("link", name=early).click()
    yes = say("desk.today.confirm.yes.check_out", language)
    await page.get_by_role("button", name=yes).click()
    await page.wait_for_url(f"**/desk/bookings/{booking}?done=check_out")
    tag = page.locator(".desk-facts .tag")
    assert await tag.inner_text() == say("staff.status.checked_out", language)
    await look(page, "checked-out")
    row = await db.fetchrow("SELECT status, check_out FROM bookings WHERE id = $1", booking)
    assert row["status"] == "checked_out" and row["check_out"] == desk.today
    # The nights given back are bookable at once: a walk-in takes tonight and the next two.
    elder = await builders.recipient(db, facility_id=desk.facility)
    walk_in = await page.request.post(
        f"{live_server}/v1/facilities/{desk.facility}/walk-ins",
        data={
            "care_recipient_id": elder,
            "bed_id": desk.beds["3B"],
            "check_in": desk.today.isoformat(),
            "check_out": (desk.today + timedelta(days=3)).isoformat(),
        },
        headers=desk.bearer,
    )
    assert walk_in.status == 201, await walk_in.text()


@BOTH
@SCREENS
async def test_a_no_show_through_its_confirmation_without_javascript(
    live_server: str, new_page: Any, look: Look, db: Any, language: Lang, screen: str
) -> None:
    page = await new_page(javascript=False)
    desk = await open_desk(page, live_server, db, role="manager")
    booking = await stay(db, desk, "3A", 0, 2, "张秀珍")
    await page.goto(f"{live_server}/desk")
    row = page.locator(f"#booking-{booking}")
    await row.get_by_role("link", name=say("desk.today.step.no_show", language)).click()
    await page.wait_for_url(f"**/desk/bookings/{booking}/no-show?from=today")
    question = say("desk.today.confirm.no_show", language, who="张秀珍")
    assert await page.locator("h1").inner_text() == question
    await look(page, "confirm-no-show")
    await page.get_by_role("button", name=say("desk.today.confirm.yes.no_show", language)).click()
    await page.wait_for_url(f"**/desk?done=no_show&booking={booking}*")
    done = say("desk.today.done.no_show", language, who="张秀珍", bed="3A")
    assert await page.locator(".notice[role=status]").inner_text() == done
    assert await row.count() == 0  # no longer arriving
    await look(page, "no-show")
    assert await status_of(db, booking) == "no_show"


@BOTH
@SCREENS
async def test_an_elder_found_by_name_and_the_contact_revealed(
    live_server: str, page: Page, look: Look, db: Any, language: Lang, make_token: Any
) -> None:
    desk = await open_desk(page, live_server, db)
    _, family = await make_token("family")
    created = await page.request.post(
        f"{live_server}/v1/care-recipients",
        data={
            "name": "王秀英",
            "sex": "female",
            "birth_date": "1941-02-03",
            "emergency_contact_name": "张伟",
            "emergency_contact_phone": "+86 138 0013 8000",
            "needs": ["oxygen"],
        },
        headers=family,
    )
    assert created.status == 201, await created.text()
    elder = (await created.json())["id"]
    booking = await builders.booking(
        db, desk.beds["3A"], desk.today, desk.today + timedelta(days=4), recipient_id=elder
    )
    await page.goto(f"{live_server}/desk/elders")
    await look(page, "find")
    await page.fill("#f-q", "秀英")
    await page.get_by_role("button", name=say("desk.people.find.submit", language)).click()
    await page.wait_for_url("**/desk/elders?q=*")
    await look(page, "found")
    await page.get_by_role("link", name="王秀英").click()
    await page.wait_for_url(f"**/desk/elders/{elder}")
    assert await page.locator(f'a[href="/desk/bookings/{booking}"]').count() == 1
    assert "+8613800138000" not in await page.content()
    await look(page, "elder")
    await page.fill("#f-reason", "长者夜间摔倒，需要通知家属")
    await page.get_by_role("button", name=say("desk.people.contact.reveal", language)).click()
    phone = page.locator('a[href="tel:+8613800138000"]')
    await phone.wait_for()
    assert await phone.inner_text() == "+8613800138000"
    await look(page, "contact-shown")
    audited = await db.fetch(
        "SELECT entity_id, after->>'reason' AS reason FROM audit_log WHERE action = 'reveal'"
        " AND entity = 'emergency_contact'"
    )
    assert [(r["entity_id"], r["reason"]) for r in audited] == [
        (str(elder), "长者夜间摔倒，需要通知家属")
    ]


@BOTH
@pytest.mark.parametrize("screen", ["tablet"])
async def test_the_day_and_a_booking_in_large_print(
    live_server: str, page: Page, look: Look, db: Any, language: Lang
) -> None:
    desk = await open_desk(page, live_server, db)
    booking = await stay(db, desk, "3A", 0, 2, "王芳")
    await stay(db, desk, "3B", -1, 2, "李桂兰", status="checked_in")
    await page.context.add_cookies(
        [{"name": "respite_display", "value": "large", "url": live_server}]
    )
    await page.goto(f"{live_server}/desk")
    assert await page.get_attribute("html", "class") == "large"
    await look(page, "today-large-print")  # held to 60×60 tap targets and 22 px text
    await page.goto(f"{live_server}/desk/bookings/{booking}")
    await look(page, "booking-large-print")
    await page.goto(f"{live_server}/desk/bookings/{booking}/check-in")
    await look(page, "confirm-large-print")
