"""A table written as a file people open in Excel: CSV (UTF-8 with a byte-order mark, so Excel
on Chinese Windows reads Chinese right) or an Excel workbook (openpyxl, written streamed).

A table is a title, a header and rows of cells: text, a whole number, a date (in a workbook a
real date, shown as ``yyyy-mm-dd``; in CSV its ISO form) or an amount of money in fen (in a
workbook a number shown with two decimals; in CSV ``280.00``). Pure: no I/O but the bytes.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date, datetime, time
from typing import Final, Literal

import msgspec
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

__all__ = [
    "CSV_TYPE",
    "XLSX_TYPE",
    "Fen",
    "Sheet",
    "SheetCell",
    "SheetFormat",
    "as_csv",
    "as_file",
    "as_xlsx",
]

SheetFormat = Literal["csv", "xlsx"]
CSV_TYPE: Final = "text/csv; charset=utf-8"
XLSX_TYPE: Final = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_DATE_FORMAT: Final = "yyyy-mm-dd"
_MONEY_FORMAT: Final = "#,##0.00"
# A sheet's name: at most 31 characters, none of these.
_FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")
_NOT_IN_TITLE: Final = str.maketrans(dict.fromkeys("[]:*?/\\", "-"))


class Fen(msgspec.Struct, frozen=True):
    """An amount of money in minor units (fen)."""

    amount: int

    def yuan(self) -> str:
        sign = "-" if self.amount < 0 else ""
        whole, cents = divmod(abs(self.amount), 100)
        return f"{sign}{whole}.{cents:02d}"


SheetCell = str | int | date | Fen | None
Cell = SheetCell


class Sheet(msgspec.Struct, frozen=True, kw_only=True):
    title: str
    header: Sequence[Cell]
    rows: Sequence[Sequence[Cell]]
    widths: Sequence[int] = ()
    """Column widths in characters, from the first column on."""
    frozen: str | None = None
    """The top-left cell that stays in view while scrolling (a workbook's freeze panes)."""


def _csv_cell(cell: Cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, Fen):
        return cell.yuan()
    if isinstance(cell, date):
        return cell.isoformat()
    if isinstance(cell, str) and cell.startswith(_FORMULA_START):
        # Text that a spreadsheet would run as a formula (a bed labelled "=HYPERLINK(...)",
        # a note): written so that it stays text.
        return "'" + cell
    return str(cell)


def as_csv(sheet: Sheet) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow([_csv_cell(c) for c in sheet.header])
    writer.writerows([_csv_cell(c) for c in row] for row in sheet.rows)
    return out.getvalue().encode("utf-8-sig")


def _xlsx_cell(sheet: WriteOnlyWorksheet, cell: Cell) -> object:
    if isinstance(cell, str) and cell.startswith("="):
        written = WriteOnlyCell(sheet, value=cell)
        written.data_type = "s"  # openpyxl writes text starting with "=" as a formula
        return written
    if isinstance(cell, Fen):
        written = WriteOnlyCell(sheet, value=cell.amount / 100)
        written.number_format = _MONEY_FORMAT
        return written
    if isinstance(cell, date):
        # A spreadsheet's date is a day number; openpyxl writes it from a datetime.
        written = WriteOnlyCell(sheet, value=datetime.combine(cell, time()))
        written.number_format = _DATE_FORMAT
        return written
    return cell


def as_xlsx(sheet: Sheet) -> bytes:
    book = Workbook(write_only=True)
    written = book.create_sheet(sheet.title.translate(_NOT_IN_TITLE)[:31])
    for column, width in enumerate(sheet.widths, start=1):
        written.column_dimensions[get_column_letter(column)].width = width
    if sheet.frozen:
        written.freeze_panes = sheet.frozen
    written.append([_xlsx_cell(written, c) for c in sheet.header])
    for row in sheet.rows:
        written.append([_xlsx_cell(written, c) for c in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def as_file(sheet: Sheet, kind: SheetFormat) -> tuple[bytes, str]:
    """The sheet's bytes and media type."""
    return (as_csv(sheet), CSV_TYPE) if kind == "csv" else (as_xlsx(sheet), XLSX_TYPE)
