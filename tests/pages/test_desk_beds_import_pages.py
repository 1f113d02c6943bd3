"""Importing beds on the desk's pages: a file posted from a form (multipart, with its CSRF
token) lands whole, in GBK, UTF-8 with a byte-order mark or as a workbook; a file with bad rows
imports nothing and lists every bad row; an old .xls, an empty form and a file over the bound
are refused with a named reason; the front desk may not import."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from respite.inventory.bed_files import XLSX_MEDIA_TYPE
from respite.inventory.importing import MAX_IMPORT_BYTES, MAX_IMPORT_ROWS
from tests import builders
from tests.bed_files import CHINESE_ROWS, csv_text, workbook
from tests.forms import csrf_token
from tests.pages.beds_desk import Desk, open_desk, sign_in

PAGE = "/desk/beds/import"


@pytest.fixture
async def desk(db: Any) -> Desk:
    return await open_desk(db)


async def upload(
    client: httpx.AsyncClient, name: str, data: bytes, media_type: str = "text/csv"
) -> httpx.Response:
    opened = await client.get(PAGE)
    assert opened.status_code == 200, opened.text
    return await client.post(
        PAGE,
        data={"_csrf_token": csrf_token(opened.text)},
        files={"file": (name, data, media_type)},
    )


async def _beds(db: Any, facility: int) -> list[Any]:
    rows = await db.fetch("SELECT * FROM beds WHERE facility_id = $1 ORDER BY label", facility)
    return [dict(r) for r in rows]


@pytest.mark.parametrize(
    ("name", "data", "media_type"),
    [
        pytest.param("床位.csv", csv_text(CHINESE_ROWS).encode("gbk"), "text/csv", id="gbk"),
        pytest.param(
            "beds.csv",
            b"\xef\xbb\xbf" + csv_text(CHINESE_ROWS).encode(),
            "application/vnd.ms-excel",
            id="utf-8 bom",
        ),
        pytest.param("beds.xlsx", workbook(CHINESE_ROWS), XLSX_MEDIA_TYPE, id="xlsx"),
        # A browser may send any type for a file: the bytes decide what it is.
        pytest.param("beds", workbook(CHINESE_ROWS), "application/octet-stream", id="unnamed"),
    ],
)
async def test_a_good_file_lands_whole_and_the_page_says_what_it_did(
    client: httpx.AsyncClient, db: Any, desk: Desk, name: str, data: bytes, media_type: str
) -> None:
    sign_in(client, desk.manager, "zh-CN")
    done = await upload(client, name, data, media_type)
    assert done.status_code == 303, done.text
    beds = await _beds(db, desk.facility)
    assert sorted(b["label"] for b in beds) == sorted(["三楼-01", "三楼-02", "家床-017"])
    result = await client.get(done.headers["location"])
    assert "床位已导入" in result.text
    assert "共读取 3 行：新增 3 张床位，更新 0 张，0 张与文件一致无需改动。" in result.text


@pytest.mark.parametrize(
    ("lang", "headline", "reason"),
    [
        ("en", "nothing was imported: the file has 3 problem(s)", "is not one of"),
        ("zh-CN", "未导入任何床位：文件中共有 3 处问题", "不是允许的值"),
    ],
)
async def test_a_file_with_bad_rows_imports_nothing_and_lists_every_one(
    client: httpx.AsyncClient, db: Any, desk: Desk, lang: str, headline: str, reason: str
) -> None:
    await builders.bed(db, desk.facility, label="A1", price=100)
    before = await _beds(db, desk.facility)
    rows = [
        ("A1", "respite", "any", 999, "", "", ""),
        ("新-01", "castle", "any", 100, "", "", ""),
        ("新-02", "respite", "any", 100, "", "", ""),
        ("新-03", "respite", "anyone", "abc", "", "", ""),
    ]
    sign_in(client, desk.manager, lang)
    refused = await upload(client, "beds.xlsx", workbook(rows), XLSX_MEDIA_TYPE)
    assert refused.status_code == 422
    assert headline in refused.text and reason in refused.text
    problems = refused.text[refused.text.index("import-problems") :]
    for row, column in [(3, "kind"), (5, "sex_rule"), (5, "nightly_price")]:
        assert f"<td>{row}</td>\n      <td><code>{column}</code></td>" in problems
    assert 'href="#f-file"' in refused.text
    assert await _beds(db, desk.facility) == before


async def test_files_that_cannot_be_read_are_refused_with_the_reason(
    client: httpx.AsyncClient, db: Any, desk: Desk
) -> None:
    sign_in(client, desk.manager)
    old = await upload(client, "beds.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512)
    assert old.status_code == 422 and "old Excel workbook (.xls)" in old.text
    opened = await client.get(PAGE)
    empty = await client.post(
        PAGE,
        data={"_csrf_token": csrf_token(opened.text)},
        files={"file": ("", b"", "application/octet-stream")},
    )
    assert empty.status_code == 422 and "choose a CSV file" in empty.text
    latin = await upload(
        client, "beds.csv", "label,kind,sex_rule,nightly_price\nA,é\n".encode("latin-1")
    )
    assert latin.status_code == 422 and "neither UTF-8 nor GBK/GB18030" in latin.text
    assert await _beds(db, desk.facility) == []


@pytest.mark.parametrize(
    ("size", "lang", "said"),
    [
        # Over the file's bound but inside the request's: read, then refused by its size.
        (MAX_IMPORT_BYTES + 1, "en", "the file is larger than 2 MiB"),
        # Over the request's bound: refused before it is read, with the same reason.
        (MAX_IMPORT_BYTES + 200_000, "zh-CN", "文件超过 2 MiB"),
    ],
)
async def test_a_file_over_the_bound_is_refused_by_its_size(
    client: httpx.AsyncClient, db: Any, desk: Desk, size: int, lang: str, said: str
) -> None:
    sign_in(client, desk.manager, lang)
    data = csv_text(CHINESE_ROWS).encode()
    refused = await upload(client, "beds.csv", data + b"#" * (size - len(data)))
    assert refused.status_code == 413 and said in refused.text
    assert await _beds(db, desk.facility) == []


async def test_the_front_desk_may_not_import(
    client: httpx.AsyncClient, db: Any, desk: Desk
) -> None:
    sign_in(client, desk.front_desk)
    assert (await client.get(PAGE)).status_code == 403
    listing = await client.get("/desk/beds")
    refused = await client.post(
        PAGE,
        data={"_csrf_token": csrf_token(listing.text)},
        files={"file": ("beds.xlsx", workbook(CHINESE_ROWS), XLSX_MEDIA_TYPE)},
    )
    assert refused.status_code == 403 and "managers" in refused.text
    assert await _beds(db, desk.facility) == []


async def test_an_upload_without_the_forms_token_is_refused(
    client: httpx.AsyncClient, db: Any, desk: Desk
) -> None:
    sign_in(client, desk.manager)
    await client.get(PAGE)
    refused = await client.post(
        PAGE, files={"file": ("beds.xlsx", workbook(CHINESE_ROWS), XLSX_MEDIA_TYPE)}
    )
    assert refused.status_code == 403
    assert await _beds(db, desk.facility) == []


async def test_a_workbook_over_the_row_bound_is_refused_by_its_length(
    client: httpx.AsyncClient, db: Any, desk: Desk
) -> None:
    rows = [(f"B-{i:05d}", "respite", "any", 100, "", "", "") for i in range(MAX_IMPORT_ROWS + 1)]
    sign_in(client, desk.manager, "zh-CN")
    refused = await upload(client, "beds.xlsx", workbook(rows), XLSX_MEDIA_TYPE)
    assert refused.status_code == 422
    assert f"文件超过 {MAX_IMPORT_ROWS} 行，请拆分后导入" in refused.text
    assert await _beds(db, desk.facility) == []
