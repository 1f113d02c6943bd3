"""The waiting list in Chromium at a phone's size: a family finds no bed, follows "Wait for a
bed" from the search to the form filled in, joins; the test frees the bed through the API
and runs the offer worker; the family opens the offer from its list and books it (one
booking), or says no thanks and keeps waiting; the form's errors in the summary. Both
languages; the desk's queue at a desk's and a tablet's size. Every page visited is scanned (axe-core) and photographed."""

from __future__ import annotations

import re
import secrets
from typing import Any

import httpx
import pytest
from playwright.async_api import Page

from respite.auth.service import create_principal, issue_token
from respite.i18n import LANGUAGES, Lang
from respite.waitlist.worker import OfferWorker
from tests import builders
from tests.browser.actions import say, sign_in_with
from tests.browser.conftest import DESK_SCREENS
from tests.browser.harness import Look
from tests.conftest import MakeToken
from tests.waitlist import (  # the fixtures: the app's offer worker off
    Scene,
    family,
    join_body,
    scene,
    settings,
    worker,
)

BOTH = pytest.mark.parametrize("language", LANGUAGES)

__all__ = ["settings", "worker"]  # fixtures shared with tests/waitlist.py


async def sign_up(page: Page, live_server: str, db: Any) -> int:
    """A family signs up in the browser and its elder is registered: the elder's id."""
    login = f"{secrets.token_hex(5)}@example.test"
    await page.goto(f"{live_server}/register?next=/waitlist")
    await page.fill("#f-name", "Li Ming")
    await page.fill("#f-login", login)
    await page.fill("#f-password", "a long enough secret")
    await page.click('form[action="/register"] button[type="submit"]')
    await page.wait_for_url(f"{live_server}/waitlist")
    family_id = int(await db.fetchval("SELECT id FROM principals WHERE email = $1", login))
    return await builders.recipient(db, family_id=family_id)


async def join_from_search(page: Page, live_server: str, look: Look, at: Scene, elder: int) -> None:
    """Search near the elder's home for the booked nights, find nothing, wait for a bed."""
    await page.goto(
        f"{live_server}/search?care_recipient_id={elder}&near_home=true"
        f"&check_in={at.first.isoformat()}&check_out={at.last.isoformat()}"
    )
    await look(page, "search-no-bed")
    await page.click("#wait-for-bed")
    await page.wait_for_url(re.compile(r"/waitlist/join\?"))
    assert await page.is_checked("#f-where-home")
    assert await page.input_value("#f-nights") == "7"
    await look(page, "join")
    await page.click("#f-submit")
    await page.wait_for_url(f"{live_server}/waitlist?notice=joined")


async def free_the_bed(live_server: str, at: Scene, worker: OfferWorker) -> None:
    """The care home cancels the booking through the API; the worker offers the nights."""
    async with httpx.AsyncClient(base_url=live_server) as api:
        done = await api.post(
            f"/v1/bookings/{at.booking}/cancel", json={"reason": "plans changed"}, headers=at.staff
        )
    assert done.status_code == 200, done.text
    await worker.drain()


@BOTH
async def test_a_family_waits_is_offered_the_freed_bed_and_books_it(
    live_server: str,
    page: Page,
    look: Look,
    db: Any,
    make_token: MakeToken,
    worker: OfferWorker,
    language: Lang,
) -> None:
    at = await scene(db, make_token)
    elder = await sign_up(page, live_server, db)
    await look(page, "list-empty")
    await join_from_search(page, live_server, look, at, elder)
    notice = page.locator("[role=status]")
    assert await notice.inner_text() == say("page.waitlist.notice.joined", language)
    assert say("page.waitlist.line.one", language, n=1) in await page.inner_text("main")
    await look(page, "list-waiting")

    await free_the_bed(live_server, at, worker)
    await page.reload()
    await page.click('a[href^="/waitlist/offers/"]')
    await page.wait_for_url(re.compile(r"/waitlist/offers/\d+$"))
    assert await page.locator("h1").inner_text() == say("page.waitlist.offer.title", language)
    assert "3F-12" in await page.inner_text("main")
    await look(page, "offer")
    await page.click('form[action$="/accept"] button')
    await page.wait_for_url(re.compile(r"/stays/\d+\?notice=booked$"))
    await look(page, "booked")
    booked = await db.fetchval(
        "SELECT count(*) FROM bookings WHERE bed_id = $1 AND status = 'confirmed'", at.bed
    )
    assert booked == 1
    await page.goto(f"{live_server}/waitlist")
    assert say("waitlist.entry_status.booked", language) in await page.inner_text("main")
    await look(page, "list-booked")


async def test_a_family_says_no_thanks_and_keeps_waiting(
    live_server: str, page: Page, look: Look, db: Any, make_token: MakeToken, worker: OfferWorker
) -> None:
    language: Lang = "zh-CN"
    at = await scene(db, make_token)
    elder = await sign_up(page, live_server, db)
    await page.goto(f"{live_server}/waitlist/join?care_recipient_id={elder}")
    await page.fill("#f-nights", "")
    await page.click("#f-submit")  # nothing filled in but the elder: each field is named
    summary = page.locator(".error-summary")
    await summary.wait_for()
    assert await summary.locator('a[href="#f-nights"]').count() == 1
    assert await summary.locator('a[href="#f-earliest_check_in"]').count() == 1
    await look(page, "join-errors")
    await page.check("#f-where-home")
    await page.fill("#f-earliest_check_in", at.first.isoformat())
    await page.fill("#f-latest_check_out", at.last.isoformat())
    await page.fill("#f-nights", "7")
    await page.click("#f-submit")
    await page.wait_for_url(f"{live_server}/waitlist?notice=joined")

    await free_the_bed(live_server, at, worker)
    await page.reload()
    await page.click('a[href^="/waitlist/offers/"]')
    await page.wait_for_url(re.compile(r"/waitlist/offers/\d+$"))
    offer_url = page.url
    await page.click('form[action$="/decline"] button')
    await page.wait_for_url(f"{live_server}/waitlist?notice=declined")
    assert await page.locator("[role=status]").inner_text() == say(
        "page.waitlist.notice.declined", language
    )
    assert await page.locator('a[href^="/waitlist/offers/"]').count() == 0
    await look(page, "list-declined")
    await page.goto(offer_url)
    ended = say("page.waitlist.offer.ended.declined", language)
    assert await page.locator("[data-ended]").inner_text() == ended
    await look(page, "offer-declined")
    assert await db.fetchval("SELECT status FROM waitlist_entries") == "waiting"
    await page.goto(f"{live_server}/waitlist")
    await page.click('a[href$="/leave"]')
    await look(page, "leave")
    await page.click('form[action$="/leave"] button')
    await page.wait_for_url(f"{live_server}/waitlist?notice=left")
    assert await db.fetchval("SELECT status FROM waitlist_entries") == "left"


@pytest.mark.parametrize("screen", DESK_SCREENS)
@BOTH
async def test_the_desk_reads_its_queue_in_order_without_names(
    live_server: str, page: Page, look: Look, db: Any, make_token: MakeToken, language: Lang
) -> None:
    at = await scene(db, make_token)
    async with httpx.AsyncClient(base_url=live_server) as api:
        for needs in ((), ("oxygen", "fall_risk")):
            who = await family(db, make_token, needs=needs)
            joined = await api.post("/v1/waitlist", json=join_body(at, who), headers=who.headers)
            assert joined.status_code == 201, joined.text
    staff = await create_principal(db, "staff", "Zhou Min", facility_id=at.facility)
    await sign_in_with(page, live_server, (await issue_token(db, staff, None)).token)
    await page.goto(f"{live_server}/desk")
    await page.click('nav a[href="/desk/waitlist"]')
    await page.wait_for_url(f"{live_server}/desk/waitlist")
    assert await page.locator("table.waitlist-queue tbody tr").count() == 2
    second = await page.locator("table.waitlist-queue tbody tr").nth(1).inner_text()
    assert say("page.elders.need.oxygen", language) in second
    assert "王秀英" not in await page.inner_text("main")
    await look(page, "desk-queue")
