"""A family changes its stay's dates in a real browser, in each language: new dates, the quote
with the price before and after, then the change; each page scanned (axe-core) and
photographed."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from playwright.async_api import Page

from respite.i18n import LANGUAGES, Lang
from tests import builders
from tests.browser.actions import say
from tests.browser.harness import Look
from tests.browser.test_hold_pages import hold, sign_up


@pytest.mark.parametrize("language", LANGUAGES)
async def test_a_family_moves_its_stay_two_days_later(
    live_server: str, page: Page, look: Look, db: Any, language: Lang
) -> None:
    family = await sign_up(page, live_server, db)
    await hold(page, live_server, family)
    await page.click(f'button:has-text("{say("page.hold.confirm", language)}")')
    await page.wait_for_url(re.compile(r"/stays/\d+\?notice=booked$"))
    stay_id = int(re.findall(r"/stays/(\d+)", page.url)[0])
    await look(page, "stay-with-change")
    check_in = family.check_in + timedelta(days=2)
    check_out = family.check_out + timedelta(days=3)
    await page.fill("#f-check_in", check_in.isoformat())
    await page.fill("#f-check_out", check_out.isoformat())
    await page.click(f'button:has-text("{say("page.stays.change.quote", language)}")')
    assert await page.text_content("h1") == say("page.stays.change.check_title", language)
    main = await page.inner_text("main")
    assert say("page.stays.change.nights", language, n=4) in main
    await look(page, "change-quote")
    await page.click(f'button:has-text("{say("page.stays.change.confirm", language)}")')
    await page.wait_for_url(re.compile(rf"/stays/{stay_id}\?notice=changed$"))
    changed = say("page.stays.change.changed", language, check_in=check_in, check_out=check_out)
    assert changed in await page.inner_text("[role=status]")
    await look(page, "stay-changed")
    row = await db.fetchrow("SELECT check_in, check_out FROM bookings WHERE id = $1", stay_id)
    assert (row["check_in"], row["check_out"]) == (check_in, check_out)
    assert builders.today() < check_in
