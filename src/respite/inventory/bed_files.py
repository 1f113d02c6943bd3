"""Reading a bed file into records: a CSV file in UTF-8 or GB18030, or an Excel workbook.

A record is the line (CSV) or row (XLSX) it starts on and its cells as text, or the reason the
file cannot be read there; ``importing`` checks the cells. Pure, no I/O.

- **CSV**: UTF-8 (a byte-order mark is tolerated) is tried strictly first; a file that is not
  UTF-8 is read as GB18030, the superset of GBK that Excel writes as "CSV" on Chinese
  Windows. A file that is neither is refused at the line where the reading that got further
  stopped.
- **XLSX**: the first worksheet, read by openpyxl (``read_only``: rows are streamed;
  ``data_only``: a formula's cached value, never the formula). A number is written as its
  digits (28000, not 28000.0), a true/false cell as ``true``/``false``. Trailing empty cells
  are dropped and a row shorter than the header is padded, as Excel leaves them out. Before
  openpyxl sees the file its unpacked size is bounded, so a small zip of zeroes cannot fill
  the memory.
"""

from __future__ import annotations

import csv
import io
import logging
import zipfile
from collections.abc import Iterator
from datetime import date, datetime, time
from typing import Final, Literal

import openpyxl

from respite.i18n import Text, t

__all__ = [
    "MAX_COLUMNS",
    "MAX_XLSX_UNPACKED",
    "XLSX_MEDIA_TYPE",
    "BedFileFormat",
    "Record",
    "csv_records",
    "file_format",
    "xlsx_records",
]

BedFileFormat = Literal["csv", "xlsx"]
Record = tuple[int, list[str] | Text]
XLSX_MEDIA_TYPE: Final = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# A bed file names at most its seven columns; a sheet is read this wide, so a row that runs on
# to column XFD costs nothing (a header wider than this still has its unknown columns named).
MAX_COLUMNS: Final = 64
MAX_XLSX_UNPACKED: Final = 32 * 1024 * 1024
_ZIP: Final = b"PK\x03\x04"
_OLE: Final = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the old binary .xls (and .doc)
log = logging.getLogger("respite.inventory.bed_files")


def file_format(data: bytes) -> BedFileFormat | Text:
    """What an uploaded file is by its first bytes (a name can lie): a workbook (a zip), a
    CSV file (anything else), or the reason it is neither (an old .xls)."""
    if data.startswith(_ZIP):
        return "xlsx"
    if data.startswith(_OLE):
        return t("inventory.xlsx.old_xls")
    return "csv"


def _decoded(data: bytes) -> str | tuple[int, Text]:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        utf8 = exc
    if data.startswith(b"\xef\xbb\xbf"):
        further = utf8  # marked as UTF-8: not a GB18030 file
    else:
        try:
            return data.decode("gb18030")
        except UnicodeDecodeError as exc:
            further = utf8 if utf8.start >= exc.start else exc
    line = data.count(b"\n", 0, further.start) + 1
    return line, t("inventory.csv.not_utf8", byte=f"{data[further.start]:02x}")


def csv_records(data: bytes) -> Iterator[Record]:
    """Each record with the line it starts on (blank lines skipped), or the reason the file
    cannot be read from there on (then nothing more)."""
    text = _decoded(data)
    if isinstance(text, tuple):
        yield text
        return
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    line = 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield reader.line_num, t("inventory.csv.not_csv", problem=str(exc))
            return
        if any(c.strip() for c in cells):
            yield line, cells
        line = reader.line_num + 1


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value)


def _unpacked_size(data: bytes) -> int | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as packed:
            return sum(member.file_size for member in packed.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return None


def xlsx_records(data: bytes) -> Iterator[Record]:
    """Each non-empty row of the first worksheet with its row number, or the reason the
    workbook cannot be read (then nothing more)."""
    unpacked = _unpacked_size(data)
    if unpacked is None:
        yield 1, t("inventory.xlsx.not_xlsx")
        return
    if unpacked > MAX_XLSX_UNPACKED:
        yield 1, t("inventory.xlsx.too_large_unpacked", mib=MAX_XLSX_UNPACKED // 1024 // 1024)
        return
    width: int | None = None
    number = 0
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            sheet = book.worksheets[0]
            for number, values in enumerate(
                sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True), start=1
            ):
                cells = [_text(v).strip() for v in values]
                while cells and not cells[-1]:
                    cells.pop()
                if not cells:
                    continue
                if width is None:
                    width = len(cells)
                yield number, cells + [""] * (width - len(cells))
        finally:
            book.close()
    except Exception as exc:
        log.info("unreadable workbook at row %s: %s", number, type(exc).__name__)
        yield max(number, 1), t("inventory.xlsx.not_xlsx")
