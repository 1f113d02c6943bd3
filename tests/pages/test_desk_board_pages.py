"""The desk's board and a hold's page, as staff without JavaScript use them: each state in
words, the elder's initials, dates and weekdays in both languages, the same totals as the JSON
board, filters, the window's limits named on the form, the periods before and after; a hold's
page and releasing it; another facility's hold not found; front desk and manager alike, a
family refused."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from typing import Any

import httpx
import msgspec
import pytest

from respite.auth.guards import SESSION_COOKIE
from respite.auth.model import Principal, StaffRole
from respite.auth.service import create_principal, issue_token
from respite.clock import ManualClock
from tests import builders
from tests.forms import csrf_token

MONDAY = date(2031, 3, 3)


class Cell(msgspec.Struct, frozen=True):
    tag: str
    role: str | None
    css: str | None
    text: str
    href: str | None


class Grid(HTMLParser):
    """The board's table as rows of cells: each cell's tag, role, class, text and link."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.inside = False
        self.rows: list[list[Cell]] = []
        self.cell: dict[str, Any] | None = None
        self.table_role: str | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "table" and "data-board" in found:
            self.inside, self.table_role = True, found.get("role")
        elif not self.inside:
            return
        elif tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self.cell = {"tag": tag, "role": found.get("role"), "css": found.get("class")}
            self.cell |= {"text": "", "href": None}
        elif tag == "a" and self.cell is not None:
            self.cell["href"] = found.get("href")

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self.inside = False
        elif self.inside and tag in ("td", "th") and self.cell is not None:
            self.cell["text"] = " ".join(self.cell["text"].split())
            self.rows[-1].append(Cell(**self.cell))
            self.cell = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell["text"] += data

    def row(self, label: str) -> list[Cell]:
        """The cells of the row whose header starts with ``label`` (without the header)."""
        return next(r[1:] for r in self.rows if r[0].text.startswith(label))

    def header(self) -> list[Cell]:
        return self.rows[0][1:]


class Ward(msgspec.Struct):
    facility: int
    beds: dict[str, int]
    staff: Principal
    headers: dict[str, str]


async def signed_in(
    client: httpx.AsyncClient, db: Any, facility: int, staff_role: StaffRole = "manager"
) -> tuple[Principal, dict[str, str]]:
    """Staff of ``facility`` signed in on the pages (the session cookie is a token); the
    same token's bearer headers, for the API."""
    principal = await create_principal(
        db, "staff", "Desk", facility_id=facility, staff_role=staff_role
    )
    token = (await issue_token(db, principal, None)).token
    client.cookies.set(SESSION_COOKIE, token)
    return principal, {"Authorization": f"Bearer {token}"}


async def ward(client: httpx.AsyncClient, db: Any, **facility: Any) -> Ward:
    f = await builders.facility(db, **facility)
    beds = {
        "1F-01": await builders.bed(db, f, label="1F-01", capabilities=("wheelchair",)),
        "1F-02": await builders.bed(db, f, label="1F-02"),
        "2F-01": await builders.bed(db, f, label="2F-01", kind="home", capabilities=("oxygen",)),
    }
    principal, headers = await signed_in(client, db, f)
    return Ward(f, beds, principal, headers)


async def grid(client: httpx.AsyncClient, query: str = "", **headers: str) -> Grid:
    answer = await client.get(f"/desk/board{query}", headers=headers)
    assert answer.status_code == 200, answer.text
    return Grid(answer.text)


def night(offset: int) -> str:
    return (builders.today() + timedelta(days=offset)).isoformat()


async def test_each_state_shows_in_words_with_the_elders_initials_and_its_link(
    client: httpx.AsyncClient, db: Any
) -> None:
    w = await ward(client, db)
    today = builders.today()
    booked = await builders.booking(db, w.beds["1F-01"], today + timedelta(1), today + timedelta(3))
    staying = await builders.booking(
        db, w.beds["1F-02"], today - timedelta(1), today + timedelta(2), status="checked_in"
    )
    block = await builders.block(
        db, w.beds["2F-01"], today + timedelta(5), today + timedelta(7), reason="cleaning"
    )
    elder = await builders.recipient(db, facility_id=w.facility)
    hold = await builders.placed_hold(
        client, w.headers, elder=elder, bed=w.beds["1F-02"], first=4, nights=2
    )

    board = await grid(client)
    assert board.table_role == "grid"
    first, second, home = board.row("1F-01"), board.row("1F-02"), board.row("2F-01")
    assert len(first) == 31
    assert first[1] == Cell("td", None, "k", "王* booked", f"/desk/bookings/{booked}")
    assert first[2] == first[1]
    assert second[0] == Cell("td", None, "i", "✓王* checked in", f"/desk/bookings/{staying}")
    assert second[4] == Cell("td", None, "h", "H held", f"/desk/holds/{hold['hold_id']}")
    assert second[5] == second[4]
    assert home[5] == Cell("td", None, "x", "X blocked: cleaning", f"/desk/blocks/{block}")
    walk_in = f"/desk/walk-in?bed={w.beds['1F-01']}&from={night(0)}"
    assert first[0] == Cell("td", None, None, "free", walk_in)
    assert first[3].href == f"/desk/walk-in?bed={w.beds['1F-01']}&from={night(3)}"

    zh = await grid(client, **{"Accept-Language": "zh-CN"})
    assert zh.row("1F-01")[1].text == "王* 已预订"
    assert zh.row("1F-02")[0].text == "✓王* 已入住"
    assert zh.row("1F-02")[4].text == "留 已预留"
    assert zh.row("2F-01")[5].text == "停 停用：清洁消毒"
    assert zh.row("1F-01")[0].text == "空闲"
    page = await client.get("/desk/board")
    assert 'href="/desk/exports"' in page.text  # the board's export is a link away


async def test_a_past_night_and_a_bed_that_takes_no_bookings_offer_no_walk_in(
    client: httpx.AsyncClient, db: Any
) -> None:
    w = await ward(client, db)
    await db.execute("UPDATE beds SET active = false WHERE id = $1", w.beds["1F-02"])
    board = await grid(client, f"?start={night(-2)}&nights=4")
    first, resting = board.row("1F-01"), board.row("1F-02")
    assert [c.href is None for c in first] == [True, True, False, False]
    assert all(c.href is None and c.text == "free" for c in resting)
    assert "(not taking bookings)" in board.rows[2][0].text


async def test_dates_and_weekdays_head_the_columns_in_both_languages(
    client: httpx.AsyncClient, db: Any
) -> None:
    await ward(client, db)
    en = await grid(client, f"?start={MONDAY}&nights=7")
    assert [c.text for c in en.header()][:3] == ["3/3 Mon", "3/4 Tue", "3/5 Wed"]
    assert en.header()[6].text == "3/9 Sun"
    assert all(c.role == "columnheader" for c in en.rows[0])
    zh = await grid(client, f"?start={MONDAY}&nights=7", **{"Accept-Language": "zh-CN"})
    assert [c.text for c in zh.header()][:2] == ["3/3 周一", "3/4 周二"]
    assert zh.header()[6].text == "3/9 周日"
    assert zh.rows[1][0].role == "rowheader"


async def test_today_is_the_facilitys_date_and_31_nights_the_default(
    client: httpx.AsyncClient, db: Any, clock: ManualClock
) -> None:
    # 20:00 UTC on 1 March: still 1 March in Samoa's neighbour Pago Pago (UTC-11), already
    # 2 March in Shanghai.
    clock.set(datetime(2031, 3, 1, 20, tzinfo=UTC))
    await ward(client, db, timezone="Pacific/Pago_Pago")
    answer = await client.get("/desk/board")
    board = Grid(answer.text)
    assert len(board.header()) == 31
    assert board.header()[0].text == "3/1 Sat"
    assert 'aria-current="date"' in answer.text
    assert "March 1, 2031 to March 31, 2031 (31 nights)" in answer.text


async def test_the_totals_are_the_json_boards(client: httpx.AsyncClient, db: Any) -> None:
    w = await ward(client, db)
    today = builders.today()
    await builders.booking(db, w.beds["1F-01"], today, today + timedelta(2))
    await builders.block(db, w.beds["1F-02"], today + timedelta(1), today + timedelta(3))
    board = await grid(client, "?nights=5")
    free = board.row("Free")
    occupied = board.row("Occupied")
    assert [c.text for c in free] == ["2", "1", "2", "3", "3"]
    assert [c.text for c in occupied] == ["1", "1", "0", "0", "0"]
    assert board.table_role == "grid"  # its cells are grid cells (a browser test asks)
    answer = await client.get(
        f"/v1/facilities/{w.facility}/board",
        params={"start": night(0), "end": night(5)},
        headers=w.headers,
    )
    totals = answer.json()["totals"]
    assert [c.text for c in free] == [str(n["free"]) for n in totals]
    assert [c.text for c in occupied] == [str(n["booked"]) for n in totals]


@pytest.mark.parametrize(
    ("query", "labels", "free"),
    [
        ("?kind=home", ["2F-01"], "1"),
        ("?kind=respite", ["1F-01", "1F-02"], "2"),
        ("?capability=wheelchair", ["1F-01"], "1"),
        ("?prefix=1f", ["1F-01", "1F-02"], "2"),
        ("?prefix=2F&kind=home&capability=oxygen", ["2F-01"], "1"),
    ],
)
async def test_filters_keep_the_beds_that_match_and_their_totals(
    client: httpx.AsyncClient, db: Any, query: str, labels: list[str], free: str
) -> None:
    await ward(client, db)
    answer = await client.get(f"/desk/board{query}")
    board = Grid(answer.text)
    beds = [r[0].text.split()[0] for r in board.rows[1:] if r[0].text[:2] in ("1F", "2F")]
    assert beds == labels
    assert board.row("Free")[0].text == free
    assert "The totals count only the beds shown." in answer.text
    for name, value in re.findall(r"[?&](\w+)=(\w+)", query):
        assert re.search(
            rf'name="{name}"[^>]*value="{value}"|value="{value}" selected', answer.text
        )


async def test_no_bed_matching_says_so(client: httpx.AsyncClient, db: Any) -> None:
    await ward(client, db)
    answer = await client.get("/desk/board?prefix=9F")
    assert answer.status_code == 200
    assert "No bed matches these filters." in answer.text
    assert "data-board" not in answer.text


async def test_92_nights_at_most(client: httpx.AsyncClient, db: Any) -> None:
    await ward(client, db)
    board = await grid(client, f"?start={MONDAY}&nights=92")
    assert len(board.header()) == 92
    assert len(board.row("1F-01")) == 92
    assert board.header()[-1].text == "6/2 Mon"


@pytest.mark.parametrize(
    ("query", "field", "en", "zh"),
    [
        ("?nights=93", "Number of nights", "must be at most 92", "92"),
        ("?nights=0", "Number of nights", "must be at least 1", "1"),
        ("?nights=many", "Number of nights", "a whole number", "整数"),
        ("?start=2031-02-30", "First night", "date", "日期"),
        ("?start=2062-01-01", "First night", "within 10 years of today", "10 年"),
        ("?kind=castle", "Kind of bed", "respite", "respite"),
        ("?capability=jacuzzi", "Equipped for", "oxygen", "oxygen"),
        ("?prefix=" + "x" * 21, "Floor or label starts with", "20", "20"),
    ],
)
async def test_a_wrong_field_shows_the_form_again_naming_it(
    client: httpx.AsyncClient, db: Any, query: str, field: str, en: str, zh: str
) -> None:
    await ward(client, db)
    answer = await client.get(f"/desk/board{query}")
    assert answer.status_code == 422, answer.text
    summary = answer.text.split('class="error-summary"', 1)[1].split("</div>", 1)[0]
    assert field in summary
    assert en in summary
    assert "data-board" not in answer.text
    chinese = await client.get(f"/desk/board{query}", headers={"Accept-Language": "zh-CN"})
    assert chinese.status_code == 422
    summary = chinese.text.split('class="error-summary"', 1)[1].split("</div>", 1)[0]
    assert zh in summary
    assert 'lang="zh-CN"' in chinese.text


async def test_the_periods_before_and_after_keep_the_filters(
    client: httpx.AsyncClient, db: Any
) -> None:
    await ward(client, db)
    answer = await client.get(f"/desk/board?start={MONDAY}&nights=7&kind=respite")
    links = re.findall(r'href="(/desk/board\?[^"]+)"', answer.text)
    assert "/desk/board?start=2031-02-24&amp;nights=7&amp;kind=respite" in links
    assert "/desk/board?start=2031-03-10&amp;nights=7&amp;kind=respite" in links
    assert "/desk/board?nights=7&amp;kind=respite" in links  # from today
    assert "Previous 7 nights" in answer.text and "Next 7 nights" in answer.text


@pytest.mark.parametrize("staff_role", ["manager", "front_desk"])
async def test_manager_and_front_desk_both_see_the_board(
    client: httpx.AsyncClient, db: Any, staff_role: StaffRole
) -> None:
    f = await builders.facility(db)
    await builders.bed(db, f, label="1F-01")
    await signed_in(client, db, f, staff_role)
    board = await grid(client)
    assert board.row("1F-01")


async def test_a_family_is_refused_and_a_stranger_sent_to_sign_in(
    client: httpx.AsyncClient, db: Any
) -> None:
    answer = await client.get("/desk/board?nights=5")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/signin?next=/desk/board%3Fnights%3D5"
    family = await builders.principal(db, "family")
    token = (await issue_token(db, Principal(id=family, role="family", name="Family"), None)).token
    client.cookies.set(SESSION_COOKIE, token)
    refused = await client.get("/desk/board")
    assert refused.status_code == 403
    assert "for the staff of a care home" in refused.text
    assert (await client.get("/desk/holds/1-00")).status_code == 403


# A hold's page ----------------------------------------------------------------------------


@pytest.mark.parametrize("staff_role", ["manager", "front_desk"])
async def test_a_holds_page_shows_it_and_releasing_frees_the_bed(
    client: httpx.AsyncClient, db: Any, clock: ManualClock, staff_role: StaffRole
) -> None:
    w = await ward(client, db)
    if staff_role == "front_desk":  # the manager placed it; the front desk releases it
        await signed_in(client, db, w.facility, "front_desk")
    elder = await builders.recipient(db, facility_id=w.facility)
    hold = await builders.placed_hold(
        client, w.headers, elder=elder, bed=w.beds["1F-02"], first=4, nights=2
    )
    clock.advance(timedelta(minutes=3))
    path = f"/desk/holds/{hold['hold_id']}"
    answer = await client.get(path)
    assert answer.status_code == 200, answer.text
    for words in (
        "Bed 1F-02 is held",
        "1F-02 · Respite bed<",
        "王秀英",
        "<dd>2 nights</dd>",
        "About 7 min",
    ):
        assert words in answer.text
    assert (await client.get(path, headers={"Accept-Language": "zh-CN"})).text.count("约 7 分钟")

    released = await client.post(f"{path}/release", data={"_csrf_token": csrf_token(answer.text)})
    assert released.status_code == 303
    assert released.headers["location"] == f"/desk/board?start={night(4)}&notice=released"
    board = await client.get(released.headers["location"])
    assert "The hold was released" in board.text
    assert Grid(board.text).row("1F-02")[0].css is None  # free
    gone = await client.get(path)
    assert gone.status_code == 200
    assert "It was released" in gone.text
    again = await client.post(f"{path}/release", data={"_csrf_token": csrf_token(answer.text)})
    assert again.status_code == 410


async def test_a_hold_of_the_elder_staff_may_not_see_does_not_name_them(
    client: httpx.AsyncClient, db: Any, make_token: Any
) -> None:
    w = await ward(client, db)
    family, family_headers = await make_token("family")
    elder = await builders.recipient(db, family_id=family.id)
    hold = await builders.placed_hold(
        client, family_headers, elder=elder, bed=w.beds["1F-01"], first=3, nights=2
    )
    answer = await client.get(f"/desk/holds/{hold['hold_id']}")
    assert answer.status_code == 200
    assert "王秀英" not in answer.text
    assert "Not shown" in answer.text


async def test_another_facilitys_hold_is_not_found(client: httpx.AsyncClient, db: Any) -> None:
    other = await builders.facility(db)
    bed = await builders.bed(db, other, label="9F-09")
    _, other_headers = await signed_in(client, db, other)
    elder = await builders.recipient(db, facility_id=other)
    hold = await builders.placed_hold(
        client, other_headers, elder=elder, bed=bed, first=3, nights=2
    )
    await ward(client, db)  # now signed in as staff of another facility
    path = f"/desk/holds/{hold['hold_id']}"
    page = await client.get(path)
    assert page.status_code == 404
    assert "9F-09" not in page.text
    opened = await client.get("/desk/board")
    answer = await client.post(f"{path}/release", data={"_csrf_token": csrf_token(opened.text)})
    assert answer.status_code == 404
    assert (await client.get("/desk/holds/no-such-hold")).status_code == 404
    still = await client.get(f"/v1/holds/{hold['hold_id']}", headers=other_headers)
    assert still.status_code == 200


async def test_releasing_needs_the_forms_csrf_token(client: httpx.AsyncClient, db: Any) -> None:
    w = await ward(client, db)
    elder = await builders.recipient(db, facility_id=w.facility)
    hold = await builders.placed_hold(
        client, w.headers, elder=elder, bed=w.beds["1F-01"], first=2, nights=2
    )
    answer = await client.post(f"/desk/holds/{hold['hold_id']}/release", data={})
    assert answer.status_code == 403
    assert (await client.get(f"/desk/holds/{hold['hold_id']}")).status_code == 200  # still held


async def test_a_hold_that_was_booked_says_so(client: httpx.AsyncClient, db: Any) -> None:
    w = await ward(client, db)
    elder = await builders.recipient(db, facility_id=w.facility)
    hold = await builders.placed_hold(
        client, w.headers, elder=elder, bed=w.beds["1F-01"], first=2, nights=2
    )
    confirmed = await client.post(
        f"/v1/holds/{hold['hold_id']}/confirm",
        json={"token": hold["token"]},
        headers={**w.headers, "Idempotency-Key": "board-page-test"},
    )
    assert confirmed.status_code == 201, confirmed.text
    answer = await client.get(f"/desk/holds/{hold['hold_id']}")
    assert answer.status_code == 200
    assert "It was booked" in answer.text
    cell = (await grid(client)).row("1F-01")[2]
    assert cell.href == f"/desk/bookings/{confirmed.json()['id']}"


async def test_a_facility_without_beds_says_so(client: httpx.AsyncClient, db: Any) -> None:
    await signed_in(client, db, await builders.facility(db))
    answer = await client.get("/desk/board")
    assert answer.status_code == 200
    assert "This care home has no beds yet." in answer.text
    assert "data-board" not in answer.text
