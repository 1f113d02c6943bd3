"""Reading bed files: UTF-8 with or without a byte-order mark, GBK as Excel saves CSV on Chinese
Windows, Excel workbooks (numbers and flags as people type them), and what cannot be read."""

from __future__ import annotations

import io
import zipfile

import pytest

from respite.i18n import render
from respite.inventory.bed_files import MAX_XLSX_UNPACKED, file_format
from respite.inventory.importing import parse_beds
from tests.bed_files import CHINESE_ROWS, HEADER, csv_text, workbook

LABELS = ["三楼-01", "三楼-02", "家床-017"]


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(csv_text(CHINESE_ROWS).encode("utf-8"), id="utf-8"),
        pytest.param(b"\xef\xbb\xbf" + csv_text(CHINESE_ROWS).encode("utf-8"), id="utf-8 bom"),
        pytest.param(csv_text(CHINESE_ROWS).encode("gbk"), id="gbk"),
        pytest.param(csv_text(CHINESE_ROWS).encode("gb18030"), id="gb18030"),
    ],
)
def test_chinese_labels_read_the_same_in_every_encoding(data: bytes) -> None:
    rows, errors = parse_beds(data, "csv")
    assert errors == []
    assert [r.bed.label for r in rows] == LABELS
    assert [r.line for r in rows] == [2, 3, 4]
    assert rows[0].bed.capabilities == ["oxygen", "low_bed"] and rows[0].bed.nightly_price == 28000


def test_a_workbook_reads_as_its_csv_does() -> None:
    from_sheet, errors = parse_beds(workbook(CHINESE_ROWS), "xlsx")
    assert errors == []
    from_csv, _ = parse_beds(csv_text(CHINESE_ROWS).encode(), "csv")
    assert from_sheet == from_csv


def test_a_workbooks_numbers_flags_and_gaps_read_as_people_typed_them() -> None:
    rows = [
        ("A1", "respite", "any", 28000.0, None, 2.0, True),
        (None, None, None, None, None, None, None),
        ("A2", "home", "male", 100, "wheelchair", None, False),
    ]
    found, errors = parse_beds(workbook(rows), "xlsx")
    assert errors == []
    assert [(r.line, r.bed.label, r.bed.nightly_price, r.bed.active) for r in found] == [
        (2, "A1", 28000, True),
        (4, "A2", 100, False),
    ]
    assert found[0].bed.pressure_care_stage == 2


def test_a_workbooks_bad_rows_are_named_by_row_and_column() -> None:
    rows = [
        ("A1", "respite", "any", 280.5, None, None, None),
        ("A2", "castle", "any", 100, None, None, None),
        ("A3", "respite", "any", 100, None, 9, None),
    ]
    _found, errors = parse_beds(workbook(rows), "xlsx")
    assert [(e.line, e.column) for e in errors] == [
        (2, "nightly_price"),
        (3, "kind"),
        (4, "pressure_care_stage"),
    ]
    assert "280.5" in render(errors[0].message, "en")


def test_a_row_longer_than_the_header_is_refused() -> None:
    _found, errors = parse_beds(
        workbook([("A1", "respite", "any", 1, "", 0, "true", "extra")]), "xlsx"
    )
    assert [(e.line, e.column) for e in errors] == [(2, None)]


@pytest.mark.parametrize(
    ("data", "words"),
    [
        pytest.param(b"PK\x03\x04 not really a zip", "Excel workbook", id="broken zip"),
        pytest.param(b"plain text, not a workbook", "Excel workbook", id="text"),
    ],
)
def test_what_is_not_a_workbook_is_refused(data: bytes, words: str) -> None:
    found, errors = parse_beds(data, "xlsx")
    assert found == [] and len(errors) == 1 and words in render(errors[0].message, "en")


def test_a_zip_that_unpacks_huge_is_refused_before_it_is_opened() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as packed:
        packed.writestr("xl/worksheets/sheet1.xml", b"0" * (MAX_XLSX_UNPACKED + 1))
    found, errors = parse_beds(out.getvalue(), "xlsx")
    assert found == [] and "unpacks to more than" in render(errors[0].message, "en")


def test_neither_utf8_nor_gbk_is_refused_where_the_reading_stopped() -> None:
    data = (",".join(HEADER) + "\nA1,respite,any,1,,,\nA2,respite,\xe9,1,,,\n").encode("latin-1")
    _found, errors = parse_beds(data, "csv")
    assert [(e.line, e.column) for e in errors] == [(3, None)]
    said = render(errors[0].message, "zh-CN")
    assert "UTF-8" in said and "GBK" in said


def test_the_first_bytes_tell_a_workbook_from_a_csv_file() -> None:
    assert file_format(workbook([])) == "xlsx"
    assert file_format(b"label,kind\n") == "csv"
    old = file_format(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)
    assert not isinstance(old, str) and ".xls" in render(old, "en")
