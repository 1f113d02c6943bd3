"""The inbox in Chromium at a phone's size, in both languages: a family books a stay and finds
its confirmation in the inbox, marked new, and marks it read; with JavaScript and without.
Every page visited is scanned (axe-core) and photographed."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import Page

from respite.i18n import LANGUAGES, Lang
from tests.browser.actions import say
from tests.browser.harness import Look
from tests.browser.test_hold_pages import hold, lands_on_stay, sign_up


@pytest.mark.parametrize("javascript", [True, False])
@pytest.mark.parametrize("language", LANGUAGES)
async def test_a_booking_reaches_the_inbox_and_is_marked_read(
    live_server: str, page: Page, look: Look, db: Any, language: Lang, javascript: bool
) -> None:
    family = await sign_up(page, live_server, db)
    await page.goto(f"{live_server}/inbox")
    assert say("page.inbox.empty", language) in await page.inner_text("main")
    await look(page, "inbox-empty")
    await hold(page, live_server, family)
    await page.click("form[action$='/confirm'] button")
    await lands_on_stay(page)
    await page.click("nav a[href='/inbox']")
    await page.wait_for_url(f"{live_server}/inbox")
    title = say("notification.booking_confirmed.title", language, facility="阳光长者照护中心")
    card = page.locator("li.card", has_text=title)
    assert await card.count() == 1
    assert say("page.inbox.new", language) in await card.inner_text()
    assert "淮海中路 88 号" in await card.inner_text()
    await look(page, "inbox")
    await card.locator("button").click()
    await page.wait_for_url(f"{live_server}/inbox#n-*")
    assert say("page.inbox.new", language) not in await page.inner_text("main")
    assert await page.locator("li.card button").count() == 0
    read = await db.fetchval(
        "SELECT count(*) FROM notifications WHERE principal_id = $1 AND read_at IS NOT NULL",
        family.family_id,
    )
    assert read == 1
    await look(page, "inbox-read")


@pytest.mark.parametrize("language", LANGUAGES)
async def test_the_settings_page_saves_a_choice_and_names_a_wrong_field(
    live_server: str, page: Page, look: Look, db: Any, language: Lang
) -> None:
    family = await sign_up(page, live_server, db)
    await page.goto(f"{live_server}/inbox")
    await page.click("a[href='/inbox/settings']")
    await page.wait_for_url(f"{live_server}/inbox/settings")
    await look(page, "settings")
    await page.check("#f-sms_enabled")
    await page.fill("#f-phone", "021 6283 1234")  # a landline: refused
    await page.click("form[action='/inbox/settings'] button[type='submit']")
    summary = page.locator("[data-error-summary]")
    await summary.wait_for()
    assert say("notification.phone_not_mobile", language) in await summary.inner_text()
    await look(page, "settings-refused")
    await page.fill("#f-phone", "139 1234 5678")
    await page.fill("#f-quiet_hours\\.start", "22:00")
    await page.fill("#f-quiet_hours\\.end", "07:00")
    await page.click("form[action='/inbox/settings'] button[type='submit']")
    await page.wait_for_url(f"{live_server}/inbox/settings?notice=saved")
    assert say("page.inbox.settings.saved", language) in await page.inner_text("main")
    row = await db.fetchrow(
        "SELECT sms_enabled, sms_phone_last4 FROM notification_settings WHERE principal_id = $1",
        family.family_id,
    )
    assert (row["sms_enabled"], row["sms_phone_last4"]) == (True, "5678")
    await look(page, "settings-saved")
