"""Tables written as CSV and workbooks: a byte-order mark, real dates and numbers, and text
that a spreadsheet would run as a formula kept as text."""

from __future__ import annotations

import io
from datetime import date, datetime

import openpyxl

from respite.pages.desk.sheets import Fen, Sheet, as_csv, as_xlsx

SHEET = Sheet(
    title="床位表 [3/1]",
    header=["床位号", date(2027, 3, 1)],
    rows=[['=HYPERLINK("http://x")', Fen(28050)], ["-1F", 3], ["A1", None]],
    frozen="B2",
)


def test_csv_has_a_bom_and_keeps_formulas_as_text() -> None:
    data = as_csv(SHEET)
    assert data.startswith(b"\xef\xbb\xbf")
    lines = data.decode("utf-8-sig").splitlines()
    assert lines == ["床位号,2027-03-01", '"\'=HYPERLINK(""http://x"")",280.50', "'-1F,3", "A1,"]


def test_a_workbook_has_real_dates_numbers_and_no_formula() -> None:
    book = openpyxl.load_workbook(io.BytesIO(as_xlsx(SHEET)))
    sheet = book.worksheets[0]
    assert sheet.title == "床位表 -3-1-"
    assert sheet["B1"].value == datetime(2027, 3, 1) and sheet["B1"].is_date
    assert sheet["A2"].data_type == "s" and sheet["A2"].value == '=HYPERLINK("http://x")'
    assert sheet["B2"].value == 280.5 and sheet["B2"].number_format == "#,##0.00"
    assert sheet.freeze_panes == "B2"
