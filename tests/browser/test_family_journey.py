"""A family's whole way, by keyboard alone, in Chromium at a phone's size: sign up, search
near the elder's home, hold a bed, confirm it, and find the stay among My stays. No mouse, no
tap: Tab, Space and Enter (the dates are filled: Chromium orders a date field's parts by the
machine's locale, not the page's)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from playwright.async_api import Page

from respite.clock import ManualClock
from respite.i18n import LANGUAGES, Lang
from tests import builders, dates
from tests.browser.actions import tab_to
from tests.browser.harness import Look

HOME = (31.2055, 121.4400)
KM_LAT = 1 / 111.195


async def choose(page: Page, group: str, value: str) -> None:
    """Pick ``value`` in the radio group ``group`` as a keyboard does: Tab into the group,
    then the arrow keys."""
    await tab_to(page, f"input[name={group}]")
    for _ in range(10):
        if await page.evaluate("document.activeElement.value") == value:
            assert await page.is_checked(f"input[name={group}][value='{value}']")
            return
        await page.keyboard.press("ArrowDown")
    raise AssertionError(f"no choice {value} in {group}")


@pytest.mark.parametrize("language", LANGUAGES)
async def test_search_hold_and_confirm_by_keyboard_alone(
    live_server: str, page: Page, look: Look, db: Any, clock: ManualClock, language: Lang
) -> None:
    when = dates.when(clock, ahead=10)
    facility = await builders.facility(
        db, lat=HOME[0] + 0.5 * KM_LAT, lon=HOME[1], name="徐汇康乐之家", phone="021 6431 0000"
    )
    bed = await builders.bed(db, facility, price=18000)

    await page.goto(f"{live_server}/register?next=/search")
    await tab_to(page, "#f-name")
    await page.keyboard.type("李明")
    await page.keyboard.press("Tab")
    await page.keyboard.type("li@example.test")
    await page.keyboard.press("Tab")
    await page.keyboard.type("a long enough secret")
    await page.keyboard.press("Enter")
    await page.wait_for_url(f"{live_server}/search")
    family = await db.fetchval("SELECT id FROM principals WHERE email = 'li@example.test'")
    elder = await builders.recipient(db, family_id=family, home=HOME)
    await page.reload()

    await choose(page, "care_recipient_id", str(elder))
    await choose(page, "near_home", "true")
    for field, day in (("check_in", when.d), ("check_out", when.d + timedelta(days=3))):
        await tab_to(page, f"#f-{field}")
        await page.fill(f"#f-{field}", day.isoformat())
    await page.keyboard.press("Enter")
    await page.locator("section.results").wait_for()
    await look(page, "journey-results")

    await page.evaluate("document.activeElement.blur()")
    await tab_to(page, "section.results form[action='/holds'] button")
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/holds/*")
    await look(page, "journey-hold")

    await tab_to(page, "form[action$='/confirm'] button")
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/stays/*")
    assert "徐汇康乐之家" in await page.inner_text("main")
    await look(page, "journey-stay")
    assert await db.fetchval("SELECT count(*) FROM bookings WHERE bed_id = $1", bed) == 1

    await tab_to(page, "nav a[href='/stays']")
    await page.keyboard.press("Enter")
    await page.wait_for_url(f"{live_server}/stays")
    assert "021 6431 0000" in await page.inner_text("main")
