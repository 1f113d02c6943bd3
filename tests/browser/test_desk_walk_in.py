"""Walk-ins at the desk in Chromium, at the desk's two screens and in both languages: a new
elder registered with an assessment and booked (no override needed); an elder of the facility
found by name and booked by a manager overriding each rule that refused; a front desk
colleague told to ask a manager; a double-click on Book without JavaScript books once. Every
page visited is scanned (axe-core) and photographed."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page

from respite.auth.model import StaffRole
from respite.auth.service import create_principal, issue_token
from respite.i18n import LANGUAGES, Lang
from tests import builders
from tests.browser.actions import say, sign_in_with
from tests.browser.conftest import DESK_SCREENS
from tests.browser.harness import Look

BOTH = pytest.mark.parametrize("language", LANGUAGES)
SCREENS = pytest.mark.parametrize("screen", DESK_SCREENS)
BOOKED = re.compile(r"/desk/walk-in/booked/(\d+)$")


async def staff_member(db: Any, facility: int, role: StaffRole = "manager") -> str:
    principal = await create_principal(db, "staff", "周敏", facility_id=facility, staff_role=role)
    return (await issue_token(db, principal, None)).token


async def choose_stay(page: Page, bed_label: str, days: int, nights: int) -> None:
    """Fill the book page's dates and bed, and check them."""
    check_in = builders.today() + timedelta(days=days)
    await page.fill("#f-from", check_in.isoformat())
    await page.fill("#f-to", (check_in + timedelta(days=nights)).isoformat())
    option = page.locator("#f-bed option", has_text=bed_label)
    await page.select_option("#f-bed", value=await option.get_attribute("value"))
    await page.click("form.walk-in-dates button[type=submit]")
    await page.wait_for_url(re.compile(r"checked=1"))


async def booked_row(db: Any, page: Page) -> Any:
    found = BOOKED.search(page.url)
    assert found is not None, page.url
    return await db.fetchrow(
        "SELECT status, override_reason, overrides FROM bookings WHERE id = $1", int(found[1])
    )


@SCREENS
@BOTH
async def test_a_new_elder_is_registered_and_booked_without_an_override(
    live_server: str, page: Page, look: Look, db: Any, language: Lang
) -> None:
    facility = await builders.facility(db, name="阳光长者照护中心")
    await builders.bed(db, facility, price=32000, label="2F-08", capabilities=("low_bed",))
    await sign_in_with(page, live_server, await staff_member(db, facility))
    await page.goto(f"{live_server}/desk/walk-in")
    await look(page, "find")
    await page.click("a[href='/desk/walk-in/new']")
    await look(page, "new")
    await page.fill("#f-name", "王秀英")
    await page.click("label[for='f-sex']")
    await page.fill("#f-birth_date", "1941-04-03")
    await page.check("#f-needs-fall_risk")
    await page.fill("#f-emergency_contact_name", "李明")
    await page.fill("#f-emergency_contact_phone", "138 0013 8000")
    for name, score in (("self_care", 20), ("mobility", 10), ("mental", 12)):
        await page.fill(f"#f-{name}", str(score))
    await page.fill("#f-assessed_on", (builders.today() - timedelta(days=2)).isoformat())
    await page.click("form[action='/desk/walk-in/new'] button[type=submit]")
    summary = page.locator(".error-summary")
    for name in ("perception_social", "assessor", "organisation"):
        assert await summary.locator(f"a[href='#f-{name}']").count() == 1, name
    await look(page, "new-refused")
    await page.fill("#f-perception_social", "8")
    await page.fill("#f-assessor", "张医生")
    await page.fill("#f-organisation", "徐汇区老年人能力评估中心")
    await page.click("form[action='/desk/walk-in/new'] button[type=submit]")
    await page.wait_for_url(re.compile(r"/desk/walk-in/book\?elder=\d+$"))
    await choose_stay(page, "2F-08", days=0, nights=3)
    eligible = say("desk.walk_in.decision.eligible", language, name="王秀英")
    assert eligible in await page.locator("main").inner_text()
    assert await page.locator("input[name='override']").count() == 0
    await look(page, "book-eligible")
    await page.check("#f-check_in_now")
    await page.click("form.walk-in-book button[type=submit]")
    await page.wait_for_url(BOOKED)
    await look(page, "booked")
    row = await booked_row(db, page)
    assert row["status"] == "checked_in" and row["override_reason"] is None
    open_link = page.locator("a", has_text=say("desk.walk_in.booked.open", language))
    assert re.fullmatch(r"/desk/bookings/\d+", await open_link.get_attribute("href") or "")


@SCREENS
@BOTH
async def test_a_manager_books_a_refused_elder_overriding_each_rule(
    live_server: str, page: Page, look: Look, db: Any, language: Lang
) -> None:
    facility = await builders.facility(db, name="阳光长者照护中心")
    await builders.bed(db, facility, price=32000, label="3F-12")
    await builders.recipient(db, facility_id=facility, level=None, needs=("oxygen",))
    await sign_in_with(page, live_server, await staff_member(db, facility))
    await page.goto(f"{live_server}/desk/walk-in")
    await page.fill("#f-q", "秀英")
    await page.click("form.walk-in-find button[type=submit]")
    await look(page, "found")
    await page.click("a:has-text('{}')".format(say("desk.walk_in.find.choose", language)))
    await choose_stay(page, "3F-12", days=2, nights=5)
    rules = page.locator(".override-rule fieldset")
    assert await rules.count() == 2
    await look(page, "book-refused")
    # Ticked without a reason: the reason is named, nothing is booked.
    await page.check("#f-override-0")
    await page.check("#f-override-1")
    await page.check("#f-acknowledge-1")
    await page.click("form.walk-in-book button[type=submit]")
    summary = page.locator(".error-summary")
    await summary.locator("a[href='#f-override_reason']").click()
    assert await page.evaluate("document.activeElement.id") == "f-override_reason"
    await look(page, "override-refused")
    assert await page.is_checked("#f-override-0") and await page.is_checked("#f-acknowledge-1")
    await page.fill("#f-override_reason", "女儿今晚住院，周一补做能力评估")
    await page.click("form.walk-in-book button[type=submit]")
    await page.wait_for_url(BOOKED)
    await look(page, "booked-override")
    row = await booked_row(db, page)
    assert row["status"] == "confirmed" and row["override_reason"].startswith("女儿")
    assert "needs_capability_missing:oxygen" in str(row["overrides"])
    overridden = say("desk.walk_in.booked.overridden", language)
    assert overridden in await page.locator("main").inner_text()


@SCREENS
@BOTH
async def test_front_desk_sees_the_refusal_and_is_told_to_ask_a_manager(
    live_server: str, page: Page, look: Look, db: Any, language: Lang
) -> None:
    facility = await builders.facility(db, name="阳光长者照护中心")
    bed = await builders.bed(db, facility, label="1F-03")
    elder = await builders.recipient(db, facility_id=facility, level=None)
    await sign_in_with(page, live_server, await staff_member(db, facility, "front_desk"))
    start = (builders.today() + timedelta(days=1)).isoformat()
    await page.goto(f"{live_server}/desk/walk-in?bed={bed}&from={start}")
    await page.goto(f"{live_server}/desk/walk-in/book?elder={elder}&bed={bed}&from={start}")
    assert await page.input_value("#f-from") == start
    await page.fill("#f-to", (builders.today() + timedelta(days=3)).isoformat())
    await page.click("form.walk-in-dates button[type=submit]")
    await page.wait_for_url(re.compile(r"checked=1"))
    main = await page.locator("main").inner_text()
    assert say("desk.walk_in.override.ask_manager", language) in main
    assert await page.locator("form.walk-in-book").count() == 0
    await look(page, "front-desk-refused")


async def lands_on_booked(page: Page) -> None:
    """Wait for the booked page after a double-click without JavaScript: the second
    submission aborts the first's navigation, so its landing is the one to wait for."""
    for _ in range(3):
        try:
            await page.wait_for_url(BOOKED)
            return
        except PlaywrightError as error:
            if "ERR_ABORTED" not in str(error):
                raise
    await page.wait_for_url(BOOKED)


@pytest.mark.parametrize("javascript", [False])
@pytest.mark.parametrize("screen", ["desktop"])
@BOTH
async def test_a_double_click_on_book_without_javascript_books_once(
    live_server: str, page: Page, look: Look, db: Any, language: Lang
) -> None:
    facility = await builders.facility(db, name="阳光长者照护中心")
    bed = await builders.bed(db, facility, label="1F-01")
    elder = await builders.recipient(db, facility_id=facility)
    await sign_in_with(page, live_server, await staff_member(db, facility, "front_desk"))
    await page.goto(f"{live_server}/desk/walk-in/book?elder={elder}")
    await choose_stay(page, "1F-01", days=4, nights=2)
    await look(page, "book-no-script")
    await page.dblclick("form.walk-in-book button[type=submit]")
    await lands_on_booked(page)
    count = await db.fetchval("SELECT count(*) FROM bookings WHERE bed_id = $1", bed)
    assert count == 1
    await look(page, "booked-no-script")
