"""The bed import API takes an Excel workbook (by its media type) and GBK CSV as Excel saves it
on Chinese Windows, with the same checks and the same all-or-nothing as UTF-8 CSV."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from respite.inventory.bed_files import XLSX_MEDIA_TYPE
from tests import builders
from tests.bed_files import CHINESE_ROWS, csv_text, workbook
from tests.conftest import MakeToken
from tests.e2e.test_problems import assert_problem

Client = AsyncTestClient[Litestar]


@pytest.mark.parametrize(
    ("content_type", "data"),
    [
        pytest.param(XLSX_MEDIA_TYPE, workbook(CHINESE_ROWS), id="xlsx"),
        pytest.param("text/csv", csv_text(CHINESE_ROWS).encode("gbk"), id="gbk undeclared"),
        pytest.param(
            "text/csv; charset=GBK", csv_text(CHINESE_ROWS).encode("gbk"), id="gbk declared"
        ),
    ],
)
async def test_a_workbook_or_gbk_csv_imports_whole(
    client: Client, db: Any, make_token: MakeToken, content_type: str, data: bytes
) -> None:
    facility = await builders.facility(db)
    _, staff = await make_token("staff", facility_id=facility)
    url = f"/v1/facilities/{facility}/beds/import"
    answer = await client.post(url, content=data, headers={**staff, "content-type": content_type})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"rows": 3, "created": 3, "updated": 0, "unchanged": 0}
    labels = await db.fetch("SELECT label FROM beds WHERE facility_id = $1 ORDER BY id", facility)
    assert [r["label"] for r in labels] == ["三楼-01", "三楼-02", "家床-017"]


async def test_a_workbook_with_bad_rows_imports_nothing_and_lists_them(
    client: Client, db: Any, make_token: MakeToken
) -> None:
    facility = await builders.facility(db)
    _, staff = await make_token("staff", facility_id=facility)
    rows = [
        *CHINESE_ROWS,
        ("X1", "castle", "any", 1, "", "", ""),
        ("X2", "home", "any", -1, "", 9, ""),
    ]
    answer = await client.post(
        f"/v1/facilities/{facility}/beds/import",
        content=workbook(rows),
        headers={**staff, "content-type": XLSX_MEDIA_TYPE, "accept-language": "zh-CN"},
    )
    problem = assert_problem(answer, 422, "invalid-file")
    assert [(e["line"], e["column"]) for e in problem["errors"]] == [
        (5, "kind"),
        (6, "nightly_price"),
        (6, "pressure_care_stage"),
    ]
    assert "未导入任何内容" in problem["detail"]
    assert await db.fetchval("SELECT count(*) FROM beds WHERE facility_id = $1", facility) == 0
