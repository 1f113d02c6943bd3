"""Holding, confirming and cancelling in Chromium at a phone's size, in both languages: the
hold's countdown ticks and a reload keeps the server's time, a double-click on Confirm and
back-then-forward book once (rows counted), a stay is cancelled with a reason; with
JavaScript and without. Every page visited is scanned (axe-core) and photographed."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page

from respite.clock import ManualClock
from respite.i18n import LANGUAGES, Lang
from tests import builders
from tests.browser.actions import say
from tests.browser.harness import Look, Watch

BOTH = pytest.mark.parametrize("language", LANGUAGES)


class Family:
    """A family signed up in the browser, its elder, and a free bed."""

    def __init__(self, family_id: int, elder: int, bed: int) -> None:
        self.family_id = family_id
        self.elder = elder
        self.bed = bed
        self.check_in = builders.today() + timedelta(days=7)
        self.check_out = self.check_in + timedelta(days=3)


async def sign_up(page: Page, live_server: str, db: Any) -> Family:
    login = f"{secrets.token_hex(5)}@example.test"
    await page.goto(f"{live_server}/register?next=/stays")
    await page.fill("#f-name", "Li Ming")
    await page.fill("#f-login", login)
    await page.fill("#f-password", "a long enough secret")
    await page.click('form[action="/register"] button[type="submit"]')
    await page.wait_for_url(f"{live_server}/stays")
    family_id = int(await db.fetchval("SELECT id FROM principals WHERE email = $1", login))
    elder = await builders.recipient(db, family_id=family_id)
    facility = await builders.facility(
        db, name="阳光长者照护中心", address="淮海中路 88 号", phone="021 6432 1000"
    )
    bed = await builders.bed(db, facility, price=32000, label="3F-12")
    return Family(family_id, elder, bed)


async def hold(page: Page, live_server: str, family: Family) -> str:
    """The bed held as the search page's form does (it posts these fields); the hold's page
    is then open."""
    token = await page.get_attribute('input[name="_csrf_token"]', "value")
    assert token
    answer = await page.request.post(
        f"{live_server}/holds",
        form={
            "_csrf_token": token,
            "care_recipient_id": str(family.elder),
            "bed_id": str(family.bed),
            "check_in": family.check_in.isoformat(),
            "check_out": family.check_out.isoformat(),
            "back": "/search",
        },
        max_redirects=0,
    )
    assert answer.status == 303, await answer.text()
    path = answer.headers["location"]
    await page.goto(f"{live_server}{path}")
    return path


async def bookings(db: Any, family: Family) -> int:
    return int(await db.fetchval("SELECT count(*) FROM bookings WHERE bed_id = $1", family.bed))


async def lands_on_stay(page: Page) -> None:
    """Wait for the stay's page after a double-click: the second submission aborts the first's
    navigation (without JavaScript nothing holds the second back), which ends a wait for the
    first; the second one's landing is the one to wait for."""
    stay = re.compile(r"/stays/\d+\?notice=booked$")
    for _ in range(3):
        try:
            await page.wait_for_url(stay)
            return
        except PlaywrightError as error:
            if "ERR_ABORTED" not in str(error):
                raise
    await page.wait_for_url(stay)


def seconds_shown(clock_text: str) -> int:
    found = re.fullmatch(r"(\d+):(\d\d)", clock_text.strip())
    assert found is not None, clock_text
    return int(found[1]) * 60 + int(found[2])


@BOTH
async def test_the_countdown_ticks_and_a_reload_keeps_the_servers_time(
    live_server: str, page: Page, look: Look, db: Any, clock: ManualClock, language: Lang
) -> None:
    family = await sign_up(page, live_server, db)
    await hold(page, live_server, family)
    clock_shown = page.locator("[data-countdown-clock]")
    first = seconds_shown(await clock_shown.inner_text())
    assert 590 <= first <= 600
    await page.wait_for_function(
        "first => { const c = document.querySelector('[data-countdown-clock]');"
        " const [m, s] = c.textContent.split(':'); return m * 60 + +s < first; }",
        arg=first,
    )
    spoken = page.locator("[data-countdown-say]")
    assert await spoken.get_attribute("aria-live") == "polite"
    assert await spoken.inner_text() == say(
        "page.hold.countdown.minutes_left", language, minutes=10
    )
    await look(page, "hold")
    clock.advance(timedelta(seconds=300))
    await page.reload()
    after = seconds_shown(await clock_shown.inner_text())
    assert 290 <= after <= 300  # the server's time left, not the page's own
    assert await spoken.inner_text() == say("page.hold.countdown.minutes_left", language, minutes=5)
    clock.advance(timedelta(seconds=250))
    await page.reload()
    assert await spoken.inner_text() == say("page.hold.countdown.last_minute", language)
    clock.advance(timedelta(seconds=60))
    await page.reload()
    assert await page.locator("h1").inner_text() == say("page.hold.ended.expired_title", language)
    await look(page, "hold-ended")


@BOTH
async def test_a_double_click_on_confirm_books_once(
    live_server: str, page: Page, look: Look, db: Any, language: Lang
) -> None:
    family = await sign_up(page, live_server, db)
    await hold(page, live_server, family)
    await page.dblclick(f'button:has-text("{say("page.hold.confirm", language)}")')
    await lands_on_stay(page)
    assert await bookings(db, family) == 1
    notice = say("page.stays.stay.booked", language, check_in=family.check_in)
    assert notice in await page.locator("main").inner_text()
    await look(page, "stay-booked")


@BOTH
@pytest.mark.parametrize("javascript", [False])
async def test_confirm_without_javascript_books_once_however_often_clicked(
    live_server: str, page: Page, look: Look, db: Any, language: Lang
) -> None:
    family = await sign_up(page, live_server, db)
    await hold(page, live_server, family)
    assert await page.locator("[data-countdown-clock]").is_hidden()
    ends = say("page.hold.countdown.ends_at", language, time="")
    assert ends.strip(" .。") in await page.locator(".countdown-ends").inner_text()
    await look(page, "hold-no-js")
    await page.dblclick(f'button:has-text("{say("page.hold.confirm", language)}")')
    await lands_on_stay(page)
    assert await bookings(db, family) == 1
    await look(page, "stay-booked-no-js")


@BOTH
async def test_back_then_forward_after_confirming_books_nothing_more(
    live_server: str, page: Page, look: Look, db: Any, language: Lang
) -> None:
    family = await sign_up(page, live_server, db)
    await hold(page, live_server, family)
    await page.focus(f'button:has-text("{say("page.hold.confirm", language)}")')
    await page.keyboard.press("Enter")  # by keyboard
    await page.wait_for_url(re.compile(r"/stays/\d+\?notice=booked$"))
    stay_url = page.url
    await page.go_back()
    title = say("page.hold.ended.confirmed_title", language)
    assert await page.locator("h1").inner_text() == title
    await look(page, "hold-booked")
    await page.go_forward()
    assert page.url == stay_url
    await page.go_back()
    await page.click(f'a:has-text("{say("page.hold.ended.see_stay", language)}")')
    assert await bookings(db, family) == 1


@BOTH
async def test_letting_the_bed_go(
    live_server: str, page: Page, look: Look, db: Any, language: Lang
) -> None:
    family = await sign_up(page, live_server, db)
    await hold(page, live_server, family)
    await page.click(f'button:has-text("{say("page.hold.let_go", language)}")')
    title = say("page.hold.ended.released_title", language)
    assert await page.locator("h1").inner_text() == title
    await look(page, "hold-released")
    assert await bookings(db, family) == 0


@BOTH
async def test_a_stay_is_cancelled_with_a_reason(
    live_server: str,
    page: Page,
    look: Look,
    db: Any,
    language: Lang,
    watch_of: Callable[[Page], Watch],
) -> None:
    family = await sign_up(page, live_server, db)
    await hold(page, live_server, family)
    await page.click(f'button:has-text("{say("page.hold.confirm", language)}")')
    await page.wait_for_url(re.compile(r"/stays/\d+\?notice=booked$"))
    stay_id = int(re.findall(r"/stays/(\d+)", page.url)[0])
    await page.goto(f"{live_server}/stays")
    await look(page, "my-stays")
    await page.click(f'a[href="/stays/{stay_id}"]')
    await page.click(f'button:has-text("{say("page.stays.cancel.submit", language)}")')
    await page.wait_for_url(f"{live_server}/stays/{stay_id}/cancel")
    await page.wait_for_load_state()
    assert await page.locator("[data-error-summary]").is_visible()
    # The script moves the focus to the summary once the page has loaded.
    await page.wait_for_function(
        "document.activeElement && document.activeElement.hasAttribute('data-error-summary')"
    )
    watch_of(page).forgive()  # the form's answer is 422, which Chromium logs as a console error
    await look(page, "cancel-error")
    await page.check("#f-reason-unwell")
    await page.click(f'button:has-text("{say("page.stays.cancel.submit", language)}")')
    await page.wait_for_url(re.compile(rf"/stays/{stay_id}\?notice=cancelled$"))
    status = await db.fetchval("SELECT status FROM bookings WHERE id = $1", stay_id)
    assert status == "cancelled"
    assert say("page.stays.stay.cancelled_notice", language) in await page.inner_text("main")
    await look(page, "stay-cancelled")
    await page.goto(f"{live_server}/stays")
    await look(page, "my-stays-past")


@BOTH
async def test_the_countdown_says_when_the_time_is_up(
    live_server: str, page: Page, look: Look, db: Any, clock: ManualClock, language: Lang
) -> None:
    family = await sign_up(page, live_server, db)
    await hold(page, live_server, family)
    clock.advance(timedelta(seconds=598))
    await page.reload()
    over = say("page.hold.countdown.over", language)
    spoken = page.locator("[data-countdown-say]")
    await page.wait_for_function(
        "over => document.querySelector('[data-countdown-say]').textContent === over", arg=over
    )
    assert await spoken.is_visible()
    assert await page.locator("[data-countdown-clock]").inner_text() == "0:00"
    confirm = page.locator(f'button:has-text("{say("page.hold.confirm", language)}")')
    assert await confirm.is_hidden()
    assert await page.locator(
        f'a:has-text("{say("page.hold.search_again", language)}")'
    ).is_visible()
    await look(page, "hold-time-up")


@BOTH
async def test_the_hold_page_in_large_print(
    live_server: str, page: Page, look: Look, db: Any, language: Lang
) -> None:
    family = await sign_up(page, live_server, db)
    path = await hold(page, live_server, family)
    await page.click('button[name="display"][value="large"]')
    await page.wait_for_url(f"{live_server}{path}")
    confirm = page.locator(f'button:has-text("{say("page.hold.confirm", language)}")')
    box = await confirm.bounding_box()
    assert box is not None and box["height"] >= 60 and box["width"] >= 60
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390  # nothing scrolls sideways
    await look(page, "hold-large-print")


@BOTH
async def test_a_bed_taken_meanwhile_and_a_stay_begun_say_so(
    live_server: str,
    page: Page,
    look: Look,
    db: Any,
    language: Lang,
    watch_of: Callable[[Page], Watch],
) -> None:
    family = await sign_up(page, live_server, db)
    await builders.booking(db, family.bed, family.check_in, family.check_out)
    token = await page.get_attribute('input[name="_csrf_token"]', "value")
    assert token
    # As the search page's form posts it: a real form, submitted by the browser.
    await page.evaluate(
        """fields => {
            const form = document.createElement("form");
            form.method = "post";
            form.action = "/holds";
            for (const [name, value] of Object.entries(fields)) {
                const input = document.createElement("input");
                input.type = "hidden";
                input.name = name;
                input.value = value;
                form.append(input);
            }
            document.body.append(form);
            form.submit();
        }""",
        {
            "_csrf_token": token,
            "care_recipient_id": str(family.elder),
            "bed_id": str(family.bed),
            "check_in": family.check_in.isoformat(),
            "check_out": family.check_out.isoformat(),
            "back": "/stays",
        },
    )
    await page.wait_for_url(f"{live_server}/holds")
    await page.wait_for_load_state()
    title = say("page.hold.refused.title", language)
    assert await page.locator("h1").inner_text() == title
    watch_of(page).forgive()  # 409, which Chromium logs as a console error
    await look(page, "hold-refused")
    await page.click(f'a:has-text("{say("page.hold.refused.back", language)}")')
    await page.wait_for_url(f"{live_server}/stays")
    today = builders.today()
    begun = await builders.booking(
        db,
        family.bed,
        today,
        today + timedelta(days=2),
        recipient_id=family.elder,
        status="checked_in",
    )
    await page.goto(f"{live_server}/stays/{begun}")
    assert "021 6432 1000" in await page.inner_text(".notice")
    assert await page.locator('input[name="reason"]').count() == 0
    await look(page, "stay-begun")
