"""Exports on the desk's pages: the board and the bookings of a period, as an Excel workbook
(real dates, numbers) and as CSV (UTF-8 with a byte-order mark), headers in the page's
language; a wrong or too long period is named on the page; both roles export, and only their
own facility's."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from typing import Any

import httpx
import openpyxl
import pytest

from respite.clock import ManualClock
from respite.settings import Settings
from tests import builders
from tests.dates import When, when
from tests.pages.beds_desk import Desk, open_desk, sign_in


class Arranged:
    def __init__(self, d: When, beds: dict[str, int], booking: int) -> None:
        self.d, self.beds, self.booking = d, beds, booking


@pytest.fixture
async def desk(db: Any) -> Desk:
    return await open_desk(db)


@pytest.fixture
async def arranged(db: Any, desk: Desk, clock: ManualClock) -> Arranged:
    """Two beds: A1 booked for nights 1-2 of the period, B2 blocked (cleaning) on night 3."""
    d = when(clock)
    a1 = await builders.bed(db, desk.facility, label="A1")
    b2 = await builders.bed(db, desk.facility, label="B2", kind="home")
    booking = await builders.booking(db, a1, *d.days(1, 3))
    await builders.block(db, b2, *d.days(3, 4), reason="cleaning")
    elsewhere = await builders.bed(db, await builders.facility(db), label="X9")
    await builders.booking(db, elsewhere, *d.days(0, 5))
    return Arranged(d, {"A1": a1, "B2": b2}, booking)


def _sheet(answer: httpx.Response) -> list[list[Any]]:
    assert answer.status_code == 200, answer.text
    book = openpyxl.load_workbook(io.BytesIO(answer.content))
    sheet = book.worksheets[0]
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def _csv(answer: httpx.Response) -> list[list[str]]:
    assert answer.status_code == 200, answer.text
    assert answer.content.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"), newline="")))


async def test_the_board_as_a_workbook_has_real_dates_and_each_nights_state(
    client: httpx.AsyncClient, desk: Desk, arranged: Arranged
) -> None:
    sign_in(client, desk.front_desk)
    start, end = arranged.d.days(0, 5)
    answer = await client.get(
        "/desk/exports/board", params={"start": str(start), "end": str(end), "format": "xlsx"}
    )
    assert answer.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert 'filename="board-' in answer.headers["content-disposition"]
    rows = _sheet(answer)
    nights = [datetime.combine(start + timedelta(days=i), datetime.min.time()) for i in range(5)]
    assert rows[0] == ["Bed", "Kind", *nights]
    assert rows[1] == ["A1", "Respite bed", "Free", "Booked 王*", "Booked 王*", "Free", "Free"]
    assert rows[2] == [
        "B2",
        "Home-care bed",
        "Free",
        "Free",
        "Free",
        "Out of service: Deep cleaning",
        "Free",
    ]
    assert rows[3] == ["Free beds", None, 2, 1, 1, 1, 2]
    assert rows[5] == ["Booked", None, 0, 1, 1, 0, 0]
    assert all("X9" not in str(row[0]) for row in rows)


async def test_the_board_as_csv_in_chinese_opens_in_excel(
    client: httpx.AsyncClient, desk: Desk, arranged: Arranged
) -> None:
    sign_in(client, desk.manager, "zh-CN")
    start, end = arranged.d.days(0, 5)
    answer = await client.get(
        "/desk/exports/board", params={"start": str(start), "end": str(end), "format": "csv"}
    )
    assert answer.headers["content-type"].startswith("text/csv")
    rows = _csv(answer)
    assert rows[0] == ["床位号", "床位类型", *[str(start + timedelta(days=i)) for i in range(5)]]
    assert rows[1] == [
        "A1",
        "短期托养床位",
        "空闲",
        "已预订（王*）",
        "已预订（王*）",
        "空闲",
        "空闲",
    ]
    assert rows[2][5] == "停用：深度清洁"


async def _family_elder(db: Any, name: str) -> int:
    """An elder a family registered: the facility's staff see them only through a stay."""
    elder = await builders.recipient(db)
    await db.execute("UPDATE care_recipients SET name = $2 WHERE id = $1", elder, name)
    return elder


async def test_the_bookings_of_a_period_as_a_workbook_and_as_csv(
    client: httpx.AsyncClient, db: Any, desk: Desk, arranged: Arranged
) -> None:
    c3 = await builders.bed(db, desk.facility, label="C3")
    staying = await _family_elder(db, "李桂芳")
    await builders.booking(db, c3, *arranged.d.days(5, 7), recipient_id=staying)
    # A cancelled booking shows no one: its elder is not the facility's to name.
    gone = await _family_elder(db, "赵文华")
    cancelled = await builders.booking(
        db, c3, *arranged.d.days(8, 9), recipient_id=gone, status="cancelled"
    )
    sign_in(client, desk.front_desk, "zh-CN")
    start, end = arranged.d.days(0, 30)
    params = {"start": str(start), "end": str(end)}
    answer = await client.get("/desk/exports/bookings", params={**params, "format": "xlsx"})
    rows = _sheet(answer)
    assert rows[0][:8] == [
        "预订编号",
        "床位号",
        "长者姓名",
        "长者编号",
        "入住日期",
        "离开日期",
        "晚数",
        "状态",
    ]
    assert len(rows) == 4
    first, last = arranged.d.days(1, 3)
    booked = rows[1]
    elder = await db.fetchval(
        "SELECT care_recipient_id FROM bookings WHERE id = $1", arranged.booking
    )
    assert booked[:3] == [arranged.booking, "A1", "王秀英"] and booked[3] == elder
    assert booked[4:8] == [
        datetime.combine(first, datetime.min.time()),
        datetime.combine(last, datetime.min.time()),
        2,
        "已预订",
    ]
    assert booked[8] == 1.0 and booked[10] == "CNY"
    assert rows[2][1:4] == ["C3", "李桂芳", staying]
    assert rows[3][0] == cancelled and rows[3][1:4] == ["C3", None, gone]
    assert rows[3][7] == "已取消"
    listed = _csv(await client.get("/desk/exports/bookings", params={**params, "format": "csv"}))
    assert listed[0][2] == "长者姓名"
    assert listed[1][:10] == [
        str(arranged.booking),
        "A1",
        "王秀英",
        str(elder),
        str(first),
        str(last),
        "2",
        "已预订",
        "1.00",
        "1.00",
    ]
    assert listed[2][1:4] == ["C3", "李桂芳", str(staying)]
    assert listed[3][1:4] == ["C3", "", str(gone)]
    assert all("赵文华" not in cell for row in listed for cell in row)

    later = arranged.d.days(10, 20)
    none = _sheet(
        await client.get(
            "/desk/exports/bookings", params={"start": str(later[0]), "end": str(later[1])}
        )
    )
    assert len(none) == 1


async def test_an_elder_whose_stay_is_long_over_is_exported_without_the_name(
    client: httpx.AsyncClient, db: Any, desk: Desk, clock: ManualClock, settings: Settings
) -> None:
    """Staff see an elder until ``staff_recent_stay_days`` after the stay; the export then
    keeps the booking and its numbers, not the name (as the desk's booking page)."""
    today = when(clock).today
    bound = settings.staff_recent_stay_days
    bed = await builders.bed(db, desk.facility, label="D4")
    long_ago = await _family_elder(db, "孙淑珍")
    ended = today - timedelta(days=bound + 1)
    old = await builders.booking(
        db, bed, ended - timedelta(days=3), ended, recipient_id=long_ago, status="checked_out"
    )
    lately = await _family_elder(db, "钱玉兰")
    left = today - timedelta(days=bound)
    recent = await builders.booking(
        db, bed, left - timedelta(days=2), left, recipient_id=lately, status="checked_out"
    )
    sign_in(client, desk.manager)
    params = {"start": str(today - timedelta(days=bound + 10)), "end": str(today)}
    rows = _sheet(await client.get("/desk/exports/bookings", params=params))
    by_id = {row[0]: row for row in rows[1:]}
    assert sorted(by_id) == sorted([old, recent])
    assert by_id[old][1:4] == ["D4", None, long_ago] and by_id[old][7] == "Checked out"
    assert by_id[recent][1:4] == ["D4", "钱玉兰", lately]


async def test_the_bookings_in_english_name_the_elder_column(
    client: httpx.AsyncClient, desk: Desk, arranged: Arranged
) -> None:
    sign_in(client, desk.manager)
    start, end = arranged.d.days(0, 5)
    rows = _sheet(
        await client.get("/desk/exports/bookings", params={"start": str(start), "end": str(end)})
    )
    assert rows[0][:4] == ["Booking no.", "Bed", "Elder", "Elder no."]
    assert rows[1][2] == "王秀英"


@pytest.mark.parametrize(
    ("path", "start", "end", "field", "said"),
    [
        ("board", 0, -1, "board_end", "must be after the first day"),
        ("board", 0, 93, "board_end", "at most 92 nights"),
        ("bookings", 0, 367, "bookings_end", "at most 366 days"),
        ("bookings", None, 3, "bookings_start", "enter a date"),
        ("board", "soon", 3, "board_start", "is not a date"),
    ],
)
async def test_a_wrong_period_is_named_on_the_page(
    client: httpx.AsyncClient,
    desk: Desk,
    clock: ManualClock,
    path: str,
    start: int | str | None,
    end: int,
    field: str,
    said: str,
) -> None:
    sign_in(client, desk.manager)
    today = when(clock).today
    params = {"end": str(today + timedelta(days=end))}
    if isinstance(start, int):
        params["start"] = str(today + timedelta(days=start))
    elif start is not None:
        params["start"] = start
    answer = await client.get(f"/desk/exports/{path}", params=params)
    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith("text/html")
    assert f'href="#f-{field}"' in answer.text and said in answer.text


async def test_the_exports_page_in_both_languages(
    client: httpx.AsyncClient, desk: Desk, clock: ManualClock
) -> None:
    today = when(clock).today
    for lang, said in (("en", "Download the board"), ("zh-CN", "下载床位占用表")):
        sign_in(client, desk.front_desk, lang)
        answer = await client.get("/desk/exports")
        assert answer.status_code == 200 and said in answer.text
        assert f'value="{today.isoformat()}"' in answer.text
        assert f'value="{date(today.year, today.month, 1).isoformat()}"' in answer.text


async def test_a_stranger_is_sent_to_sign_in(client: httpx.AsyncClient, db: Any) -> None:
    answer = await client.get("/desk/exports/board")
    assert answer.status_code == 303 and answer.headers["location"].startswith("/signin")
