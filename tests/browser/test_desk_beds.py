"""The desk's beds in a real browser, at a desk computer's and a tablet's size, in both
languages: a manager adds, changes and retires a bed; the front desk blocks a bed and lifts the
block (and sees no manager's buttons); an Excel workbook with a bad row is refused whole, then
a good one lands; the board downloaded as a workbook reads, opened with openpyxl, as the board
shows it (the board's own answer for the same nights). Every page is scanned and photographed.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta
from typing import Any

import httpx
import openpyxl
import pytest
from playwright.async_api import FilePayload, Page, expect

from respite.clock import ManualClock
from respite.i18n import LANGUAGES, Lang
from respite.inventory.bed_files import XLSX_MEDIA_TYPE
from tests import builders
from tests.bed_files import CHINESE_ROWS, workbook
from tests.browser.actions import say, sign_in_with
from tests.browser.conftest import DESK_SCREENS
from tests.browser.harness import Look
from tests.dates import when
from tests.pages.beds_desk import StaffRole, staff_token

BED_PAGE = re.compile(r"/desk/beds/\d+$")
BLOCK_PAGE = re.compile(r"/desk/blocks/\d+$")
SCREENS = pytest.mark.parametrize("screen", DESK_SCREENS)
LANGS = pytest.mark.parametrize("language", LANGUAGES)


async def _desk(page: Page, live_server: str, db: Any, role: StaffRole = "manager") -> int:
    facility = await builders.facility(db, name="阳光长者照护中心")
    token = await staff_token(db, facility, role)
    await sign_in_with(page, live_server, token)
    return facility


async def press(page: Page, selector: str) -> None:
    """Click what leads to another page (a link, a form's button) and wait until it is
    loaded: a page is looked at whole, never half-way."""
    await page.click(selector)
    await page.wait_for_load_state()


def _file(name: str, data: bytes) -> list[FilePayload]:
    return [{"name": name, "mimeType": XLSX_MEDIA_TYPE, "buffer": data}]


@SCREENS
@LANGS
async def test_a_manager_adds_changes_and_retires_a_bed(
    live_server: str, page: Page, look: Look, db: Any, language: Lang, screen: str
) -> None:
    facility = await _desk(page, live_server, db)
    await page.goto(f"{live_server}/desk/beds")
    assert await page.get_attribute("html", "lang") == language
    await look(page, "beds-empty")
    await press(page, "main a[href='/desk/beds/new']")
    await look(page, "bed-new")

    await page.fill("#f-nightly_price", "two hundred")
    await press(page, "form[action='/desk/beds/new'] button[type=submit]")
    summary = page.locator(".error-summary")
    await expect(summary).to_be_visible()
    said = await summary.inner_text()
    assert say("desk.beds.field.label", language) in said
    assert say("desk.beds.form.price_not_yuan", language, typed="two hundred") in said
    await look(page, "bed-new-refused")
    await summary.locator("a[href='#f-label']").click()
    assert await page.evaluate("document.activeElement.id") == "f-label"

    await page.fill("#f-label", "三楼-12")
    await page.fill("#f-nightly_price", "280.50")
    await page.click("label[for='f-sex_rule-female']")
    await page.check("#f-capabilities-oxygen")
    await press(page, "form[action='/desk/beds/new'] button[type=submit]")
    await page.wait_for_url(BED_PAGE)
    assert await page.text_content("h1") == say("desk.beds.bed.title", language, label="三楼-12")
    main = await page.inner_text("main")
    assert say("desk.beds.sex_rule.female", language) in main
    assert say("desk.beds.capability.oxygen", language) in main
    await look(page, "bed")

    await press(page, "main a[href$='/edit']")
    await look(page, "bed-edit")
    await page.fill("#f-nightly_price", "300")
    await page.uncheck("#f-active")
    await press(page, "form[action$='/edit'] button[type=submit]")
    await page.wait_for_url(BED_PAGE)
    assert say("desk.beds.state.inactive", language) in await page.inner_text("main")
    row = await db.fetchrow(
        "SELECT nightly_price, active FROM beds WHERE facility_id = $1", facility
    )
    assert (row["nightly_price"], row["active"]) == (30000, False)

    await press(page, "main a[href$='/retire']")
    await look(page, "bed-retire")
    await press(page, "form[action$='/retire'] button[type=submit]")
    await page.wait_for_url(BED_PAGE)
    assert say("desk.beds.state.retired", language) in await page.inner_text("main")
    assert await page.locator("main a[href$='/edit']").count() == 0
    await press(page, "main a[href='/desk/beds']")
    await look(page, "beds")
    assert "三楼-12" in await page.inner_text("table")


@SCREENS
@LANGS
async def test_the_front_desk_blocks_a_bed_and_lifts_the_block(
    live_server: str,
    page: Page,
    look: Look,
    db: Any,
    clock: ManualClock,
    language: Lang,
    screen: str,
) -> None:
    await _block_and_lift(live_server, page, look, db, clock, language)


@pytest.mark.parametrize("javascript", [False])
@pytest.mark.parametrize("screen", ["tablet"])
async def test_blocking_and_lifting_work_without_javascript(
    live_server: str, page: Page, look: Look, db: Any, clock: ManualClock, javascript: bool
) -> None:
    await _block_and_lift(live_server, page, look, db, clock, "zh-CN")


async def _block_and_lift(
    live_server: str, page: Page, look: Look, db: Any, clock: ManualClock, language: Lang
) -> None:
    facility = await _desk(page, live_server, db, "front_desk")
    bed = await builders.bed(db, facility, label="A1")
    d = when(clock)
    await builders.booking(db, bed, *d.days(2, 4))
    await page.goto(f"{live_server}/desk/beds")
    await look(page, "beds-front-desk")
    assert await page.locator("main a[href='/desk/beds/new']").count() == 0
    assert await page.locator("main a[href='/desk/beds/import']").count() == 0
    await press(page, f"main a[href='/desk/beds/{bed}']")
    assert await page.locator("main a[href$='/edit']").count() == 0

    first, end = d.days(0, 4)
    await page.fill("#f-check_in", first.isoformat())
    await page.fill("#f-check_out", end.isoformat())
    await page.click("label[for='f-reason-cleaning']")
    await press(page, f"form[action='/desk/beds/{bed}/blocks'] button[type=submit]")
    failure = page.locator(".error-summary")
    await expect(failure).to_be_visible()
    refusal = await failure.inner_text()
    assert ("is booked on the night of" if language == "en" else "当晚已有预订") in refusal
    await look(page, "block-refused")

    await page.fill("#f-check_out", d.days(0, 2)[1].isoformat())
    await page.fill("#f-note", "换床垫")
    await press(page, f"form[action='/desk/beds/{bed}/blocks'] button[type=submit]")
    await page.wait_for_url(BLOCK_PAGE)
    assert "换床垫" in await page.inner_text("main")
    await look(page, "block")
    nights = "SELECT count(*) FROM bed_nights WHERE bed_id = $1 AND block_id IS NOT NULL"
    assert await db.fetchval(nights, bed) == 2

    await press(page, "main a[href$='/lift']")
    assert say("desk.blocks.lift.title", language, label="A1") in await page.inner_text("h1")
    await look(page, "block-lift")
    await press(page, "form[action$='/lift'] button[type=submit]")
    await page.wait_for_url(BED_PAGE)
    assert await db.fetchval(nights, bed) == 0
    assert say("desk.blocks.list.none", language) in await page.inner_text("main")
    await look(page, "bed-unblocked")


@SCREENS
@LANGS
async def test_a_workbook_with_a_bad_row_is_refused_whole_then_a_good_one_lands(
    live_server: str, page: Page, look: Look, db: Any, language: Lang, screen: str
) -> None:
    facility = await _desk(page, live_server, db)
    await page.goto(f"{live_server}/desk/beds/import")
    await look(page, "import")
    bad = [*CHINESE_ROWS, ("三楼-04", "castle", "any", 100, "", "", "")]
    await page.set_input_files(
        "#f-file",
        files=_file("床位.xlsx", workbook(bad)),
    )
    await press(page, "form[action='/desk/beds/import'] button[type=submit]")
    summary = page.locator(".error-summary")
    await expect(summary).to_be_visible()
    assert say("desk.imports.refused", language, count=1) in await summary.inner_text()
    problems = page.locator("table.import-problems tbody tr")
    assert await problems.count() == 1
    cells = await problems.first.locator("td").all_inner_texts()
    assert cells[:2] == ["5", "kind"]
    await look(page, "import-refused")
    count = "SELECT count(*) FROM beds WHERE facility_id = $1"
    assert await db.fetchval(count, facility) == 0

    await page.set_input_files(
        "#f-file",
        files=_file("床位.xlsx", workbook(CHINESE_ROWS)),
    )
    await press(page, "form[action='/desk/beds/import'] button[type=submit]")
    await page.wait_for_url(re.compile(r"/desk/beds/import\?rows=3"))
    notice = await page.inner_text(".notice")
    assert say("desk.imports.done.title", language) in notice
    await look(page, "import-done")
    assert await db.fetchval(count, facility) == 3
    await page.goto(f"{live_server}/desk/beds")
    assert "家床-017" in await page.inner_text("table")


def _cell_words(cell: dict[str, Any], language: Lang) -> str:
    """A cell of the board's answer, in the words the export writes."""
    state = cell["state"]
    if state == "booked":
        status = say(f"staff.status.{cell['status']}", language)
        return say("desk.exports.cell.stay", language, status=status, initials=cell["initials"])
    if state == "blocked":
        reason = say(f"desk.blocks.reason.{cell['reason']}", language)
        return say("desk.exports.cell.blocked", language, reason=reason)
    return say(f"desk.exports.cell.{state}", language)


@SCREENS
@LANGS
async def test_the_board_downloaded_reads_as_the_board_shows_it(
    live_server: str,
    page: Page,
    look: Look,
    db: Any,
    clock: ManualClock,
    language: Lang,
    screen: str,
) -> None:
    facility = await _desk(page, live_server, db, "front_desk")
    d = when(clock)
    beds = [await builders.bed(db, facility, label=label) for label in ("A1", "A2", "B1")]
    await builders.booking(db, beds[0], *d.days(1, 4))
    await builders.booking(db, beds[1], *d.days(0, 2), status="checked_in")
    await builders.block(db, beds[2], *d.days(3, 6), reason="isolation")
    start, end = d.days(0, 7)

    await page.goto(f"{live_server}/desk/exports")
    await look(page, "exports")
    await page.fill("#f-board_start", start.isoformat())
    await page.fill("#f-board_end", end.isoformat())
    async with page.expect_download() as downloading:
        await page.click("form[action='/desk/exports/board'] button[type=submit]")
    download = await downloading.value
    assert download.suggested_filename == f"board-{start}-{end}.xlsx"
    saved = await download.path()
    # The saved file has no extension, which openpyxl reads as "not a workbook": give it bytes.
    sheet = openpyxl.load_workbook(io.BytesIO(saved.read_bytes())).worksheets[0]
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]

    manager = await staff_token(db, facility, "manager")
    async with httpx.AsyncClient(base_url=live_server) as api:
        answer = await api.get(
            f"/v1/facilities/{facility}/board",
            params={"start": str(start), "end": str(end)},
            headers={"Authorization": f"Bearer {manager}"},
        )
    board = answer.json()
    nights = [datetime.combine(start + timedelta(days=i), datetime.min.time()) for i in range(7)]
    assert rows[0] == [
        say("desk.exports.board.bed", language),
        say("desk.exports.board.kind", language),
        *nights,
    ]
    assert [row[0] for row in rows[1:4]] == [bed["label"] for bed in board["beds"]]
    for row, bed in zip(rows[1:4], board["beds"], strict=True):
        assert row[2:] == [_cell_words(cell, language) for cell in bed["cells"]]
    free_row = rows[4]
    assert free_row[0] == say("desk.exports.board.total_free", language)
    assert free_row[2:] == [night["free"] for night in board["totals"]]
    # The page the download left is the exports page, still usable.
    assert await page.locator("form[action='/desk/exports/bookings']").count() == 1

    await page.fill("#f-bookings_start", start.isoformat())
    await page.fill("#f-bookings_end", end.isoformat())
    await page.click("label[for='f-bookings-format-csv']")
    async with page.expect_download() as downloading:
        await page.click("form[action='/desk/exports/bookings'] button[type=submit]")
    data = (await (await downloading.value).path()).read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    booked = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert booked[0][:4] == [
        say(f"desk.exports.bookings.{name}", language)
        for name in ("number", "bed", "elder_name", "elder")
    ]
    async with httpx.AsyncClient(base_url=live_server) as api:
        listed = await api.get(
            "/v1/bookings",
            params={"facility_id": facility, "from": str(start), "to": str(end)},
            headers={"Authorization": f"Bearer {manager}"},
        )
    assert listed.status_code == 200, listed.text
    # The bookings the API lists, each with its elder's name (the builders' elders are the
    # facility's own, so its staff see them all).
    assert {row[0]: row[1:4] for row in booked[1:]} == {
        str(b["id"]): [b["bed_label"], "王秀英", str(b["care_recipient_id"])]
        for b in listed.json()["items"]
    }
    assert sorted(r[1] for r in booked[1:]) == ["A1", "A2"]
