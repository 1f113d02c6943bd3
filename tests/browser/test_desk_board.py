"""The desk's board in Chromium at a desk computer's and a tablet's size, in both languages:
a booking made through the API a moment before shows in its cell with the elder's initials;
the grid by keyboard (one Tab stop, arrow keys, Home and End, Enter opens the booking); its
header row and bed column stay put while it scrolls inside its own box, and the page itself
never scrolls sideways; without JavaScript, Tab reaches every cell's link. Every page visited
is scanned (axe-core) and photographed."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import httpx
import pytest
from playwright.async_api import Page

from respite.auth.service import create_principal, issue_token
from respite.i18n import LANGUAGES, Lang
from tests import builders
from tests.browser.actions import say, sign_in_with, tab_to
from tests.browser.conftest import DESK_SCREENS
from tests.browser.harness import Look

BOTH = pytest.mark.parametrize("language", LANGUAGES)
SCREENS = pytest.mark.parametrize("screen", DESK_SCREENS)
NAMES: dict[str, tuple[str, str]] = {"zh-CN": ("王秀英", "王*"), "en": ("Li Hua", "L. H.")}
BEDS = 24
FOCUSED = "(() => { const e = document.activeElement; return [e.tagName, e.getAttribute('href'), e.textContent.trim()]; })()"


class Desk:
    """A facility of ``BEDS`` beds, its manager signed in, and an elder the desk registered."""

    def __init__(self, facility: int, beds: list[int], token: str, elder: int) -> None:
        self.facility = facility
        self.beds = beds
        self.token = token
        self.elder = elder


async def open_desk(page: Page, live_server: str, db: Any, language: Lang) -> Desk:
    facility = await builders.facility(db, name="阳光长者照护中心")
    labels = [f"{floor}F-{n:02d}" for floor in (1, 2) for n in range(1, BEDS // 2 + 1)]
    beds = [await builders.bed(db, facility, label=label) for label in labels]
    staff = await create_principal(db, "staff", "Desk", facility_id=facility)
    token = (await issue_token(db, staff, None)).token
    elder = await builders.recipient(db, facility_id=facility)
    await db.execute(
        "UPDATE care_recipients SET name = $1 WHERE id = $2", NAMES[language][0], elder
    )
    await sign_in_with(page, live_server, token)
    return Desk(facility, beds, token, elder)


async def walk_in(live_server: str, desk: Desk, bed: int, first: int, nights: int) -> int:
    """A booking at the desk through the API (as another desk's program would make it)."""
    check_in = builders.today() + timedelta(days=first)
    async with httpx.AsyncClient(base_url=live_server) as api:
        answer = await api.post(
            f"/v1/facilities/{desk.facility}/walk-ins",
            json={
                "care_recipient_id": desk.elder,
                "bed_id": bed,
                "check_in": check_in.isoformat(),
                "check_out": (check_in + timedelta(days=nights)).isoformat(),
            },
            headers={"Authorization": f"Bearer {desk.token}"},
        )
    assert answer.status_code == 201, answer.text
    return int(answer.json()["id"])


async def every_other_state(live_server: str, db: Any, desk: Desk) -> None:
    """On the first floor's third to fifth beds: an elder checked in, a bed blocked, a bed held (each state's
    colours then meet axe's contrast check)."""
    today = builders.today()
    await builders.booking(
        db, desk.beds[2], today - timedelta(1), today + timedelta(3), status="checked_in"
    )
    await builders.block(db, desk.beds[3], today + timedelta(1), today + timedelta(4))
    elder = await builders.recipient(db, facility_id=desk.facility)
    async with httpx.AsyncClient(base_url=live_server) as api:
        headers = {"Authorization": f"Bearer {desk.token}"}
        await builders.placed_hold(api, headers, elder=elder, bed=desk.beds[4], first=3, nights=2)


def cell(row_label: str, night: int) -> str:
    """The selector of a bed's cell of the ``night``-th night of the window (0: the first)."""
    return (
        f"table[data-board] tbody tr:has(th:text-is('{row_label}')) > td:nth-of-type({night + 1})"
    )


async def focused(page: Page) -> list[str | None]:
    found: list[str | None] = await page.evaluate(FOCUSED)
    return found


@BOTH
@SCREENS
async def test_a_booking_made_through_the_api_shows_and_opens_by_keyboard(
    live_server: str, page: Page, look: Look, db: Any, language: Lang, screen: str
) -> None:
    desk = await open_desk(page, live_server, db, language)
    booking = await walk_in(live_server, desk, desk.beds[0], first=2, nights=3)
    await every_other_state(live_server, db, desk)
    await page.goto(f"{live_server}/desk/board")
    await look(page, "board")

    initials = NAMES[language][1]
    booked = page.locator(cell("1F-01", 2))
    shown = await booked.evaluate("td => td.querySelector('a').firstChild.textContent")
    assert shown == initials  # what the eye sees; the state's word is for screen readers
    assert await booked.locator("a").get_attribute("href") == f"/desk/bookings/{booking}"
    words = f"{initials} {say('desk.board.state.booked', language)}"
    assert await page.get_by_role("gridcell", name=words).count() == 3
    grid = page.get_by_role("grid")
    assert await grid.count() == 1
    assert await grid.get_by_role("columnheader").count() == 32
    assert await grid.get_by_role("rowheader", name="2F-12").count() == 1
    today = page.locator("thead th[aria-current='date']")
    assert await today.count() == 1
    for label, night, state in (("1F-03", 0, "checked_in"), ("1F-04", 1, "blocked")):
        spoken = await page.locator(cell(label, night)).inner_text()
        assert say(f"desk.board.state.{state}", language) in spoken
    held = await page.locator(cell("1F-05", 3)).inner_text()
    mark, word = say("desk.board.mark.held", language), say("desk.board.state.held", language)
    assert held.split() == [mark, *word.split()]

    assert await page.locator("[data-board-keys]").is_visible()  # the keys are said to work
    # One Tab stop for the whole grid: the first bed's cell of today.
    await tab_to(page, "table[data-board] a")
    assert await page.locator("table[data-board] [tabindex='0']").count() == 1
    free = f"/desk/walk-in?bed={desk.beds[0]}&from={builders.today().isoformat()}"
    assert (await focused(page))[1] == free
    await page.keyboard.press("ArrowRight")
    await page.keyboard.press("ArrowRight")
    assert (await focused(page))[1] == f"/desk/bookings/{booking}"
    await page.keyboard.press("ArrowDown")
    second = f"/desk/walk-in?bed={desk.beds[1]}&from={(builders.today() + timedelta(2))}"
    assert (await focused(page))[1] == second
    await page.keyboard.press("ArrowUp")
    await page.keyboard.press("ArrowUp")
    assert (await focused(page))[0] == "TH"  # the night's column header
    await page.keyboard.press("ArrowDown")
    await page.keyboard.press("Home")
    assert await focused(page) == ["TH", None, "1F-01"]
    await page.keyboard.press("End")
    last = builders.today() + timedelta(30)
    assert (await focused(page))[1] == f"/desk/walk-in?bed={desk.beds[0]}&from={last}"
    await page.keyboard.press("Control+End")
    assert (await focused(page))[0] == "TD"  # the last night's total
    await page.keyboard.press("Control+Home")
    await page.keyboard.press("ArrowDown")
    for _ in range(3):
        await page.keyboard.press("ArrowRight")
    assert (await focused(page))[1] == f"/desk/bookings/{booking}"
    await look(page, "board-focused")
    await page.keyboard.press("Enter")
    await page.wait_for_url(re.compile(rf"/desk/bookings/{booking}$"))


@BOTH
@SCREENS
async def test_the_grid_scrolls_in_its_box_with_its_headers_kept(
    live_server: str, page: Page, look: Look, db: Any, language: Lang, screen: str
) -> None:
    await open_desk(page, live_server, db, language)
    await page.goto(f"{live_server}/desk/board?nights=92")
    await look(page, "board-92")
    box = page.locator(".board-box")
    sizes = await box.evaluate(
        "b => [b.scrollWidth, b.clientWidth, b.scrollHeight, b.clientHeight]"
    )
    assert sizes[0] > sizes[1] and sizes[2] > sizes[3], sizes  # it scrolls both ways
    await box.evaluate("b => { b.scrollLeft = 600; b.scrollTop = 400; }")
    kept = await box.evaluate(
        """b => {
          const box = b.getBoundingClientRect();
          const head = b.querySelector('thead th:nth-child(5)').getBoundingClientRect();
          const bed = b.querySelector('tbody tr:nth-child(12) th').getBoundingClientRect();
          return [head.top - box.top, bed.left - box.left];
        }"""
    )
    assert all(0 <= x <= 2 for x in kept), kept  # at the box's edge (inside its border)
    wide = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert wide <= 0  # the page itself never scrolls sideways


@pytest.mark.parametrize("language", ["en"])
@pytest.mark.parametrize("javascript", [False])
@SCREENS
async def test_without_javascript_tab_reaches_every_cells_link(
    live_server: str, page: Page, look: Look, db: Any, screen: str
) -> None:
    desk = await open_desk(page, live_server, db, "en")
    booking = await walk_in(live_server, desk, desk.beds[0], first=2, nights=3)
    await page.goto(f"{live_server}/desk/board?nights=7")
    await look(page, "board-no-script")
    assert await page.locator("table[data-board] a[tabindex]").count() == 0
    assert await page.locator("[data-board-keys]").is_hidden()  # no script: no arrow keys
    await tab_to(page, "table[data-board] a")
    free = f"/desk/walk-in?bed={desk.beds[0]}&from={builders.today().isoformat()}"
    assert (await focused(page))[1] == free
    await page.keyboard.press("Tab")
    await page.keyboard.press("Tab")
    assert (await focused(page))[1] == f"/desk/bookings/{booking}"
    await page.keyboard.press("Enter")
    await page.wait_for_url(re.compile(rf"/desk/bookings/{booking}$"))


@BOTH
@SCREENS
async def test_a_held_cell_opens_the_hold_which_the_desk_releases(
    live_server: str, page: Page, look: Look, db: Any, language: Lang, screen: str
) -> None:
    desk = await open_desk(page, live_server, db, language)
    async with httpx.AsyncClient(base_url=live_server) as api:
        headers = {"Authorization": f"Bearer {desk.token}"}
        hold = await builders.placed_hold(
            api, headers, elder=desk.elder, bed=desk.beds[1], first=1, nights=2
        )
    await page.goto(f"{live_server}/desk/board")
    await page.click(f"{cell('1F-02', 1)} a")
    await page.wait_for_url(re.compile(rf"/desk/holds/{hold['hold_id']}$"))
    main = await page.inner_text("main")
    assert say("desk.board.hold.title", language, label="1F-02") in main
    assert NAMES[language][0] in main  # the desk registered the elder: staff see the name
    await look(page, "hold")
    await page.click(f"form[action='/desk/holds/{hold['hold_id']}/release'] button")
    await page.wait_for_url(re.compile(r"/desk/board\?start=.*&notice=released$"))
    assert say("desk.board.notice.released", language) in await page.inner_text("main")
    assert await page.locator(f"{cell('1F-02', 0)} a").get_attribute("href") == (
        f"/desk/walk-in?bed={desk.beds[1]}&from={(builders.today() + timedelta(1))}"
    )
    await look(page, "board-released")


@BOTH
@pytest.mark.parametrize("screen", ["tablet"])
async def test_large_print(
    live_server: str, page: Page, look: Look, db: Any, language: Lang, screen: str
) -> None:
    desk = await open_desk(page, live_server, db, language)
    await walk_in(live_server, desk, desk.beds[0], first=0, nights=2)
    await page.goto(f"{live_server}/desk/board")
    await page.click("button[name=display][value=large]")
    await page.wait_for_url(re.compile(r"/desk/board$"))
    assert await page.get_attribute("html", "class") == "large"
    await look(page, "board-large")
    booked = await page.locator(f"{cell('1F-01', 0)} a").bounding_box()
    assert booked is not None and booked["width"] >= 60 and booked["height"] >= 60
