"""Bed files as people make them, for the import tests: CSV in UTF-8 (with or without a
byte-order mark) or as Excel saves it on Chinese Windows (GBK), and Excel workbooks."""

from __future__ import annotations

import io
from collections.abc import Sequence

import openpyxl

HEADER = (
    "label",
    "kind",
    "sex_rule",
    "nightly_price",
    "capabilities",
    "pressure_care_stage",
    "active",
)
# Chinese bed numbers, as a care home writes them on its doors.
CHINESE_ROWS: list[tuple[object, ...]] = [
    ("三楼-01", "respite", "female", 28000, "oxygen;low_bed", 2, "true"),
    ("三楼-02", "respite", "any", 26000, "", 0, ""),
    ("家床-017", "home", "any", 12000, "wheelchair", "", "true"),
]


def csv_text(rows: Sequence[Sequence[object]], header: Sequence[str] = HEADER) -> str:
    lines = [",".join(header)] + [",".join("" if c is None else str(c) for c in r) for r in rows]
    return "\r\n".join(lines) + "\r\n"


def workbook(rows: Sequence[Sequence[object]], header: Sequence[str] = HEADER) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "床位"
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
