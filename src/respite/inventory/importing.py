"""Bulk import of beds from a file: every row is checked, and either all of them land or none.

The file is CSV (UTF-8, a byte-order mark tolerated, or GB18030/GBK as Excel saves CSV on
Chinese Windows; comma-separated) or an Excel workbook (.xlsx, its first sheet), read by
``bed_files``; its first line or row names the columns in any order::

    label,kind,sex_rule,nightly_price,capabilities,pressure_care_stage,active
    3F-01,respite,female,28000,oxygen;low_bed,2,true

``label``, ``kind``, ``sex_rule`` and ``nightly_price`` are required; ``capabilities`` (codes
separated by ``;``), ``pressure_care_stage`` (default 0) and ``active`` (default true) may be
left out or empty. Labels identify beds within the facility: a label that exists already
updates that bed, a new one creates a bed, so importing the same file twice changes nothing.
A file with any bad row imports nothing and the answer lists every bad row with its line (the
CSV line or the sheet's row; the header is line 1), column and reason.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, get_args

import asyncpg
import msgspec

from respite import audit
from respite.auth import staff_roles
from respite.auth.model import Principal
from respite.db import Conn
from respite.eligibility import CAPABILITIES, Programme, SexRule
from respite.field_errors import field_error
from respite.i18n import Text, render, t
from respite.inventory import queries as q
from respite.inventory.access import bed_from_row, check_facility_exists, own_facility
from respite.inventory.bed_files import BedFileFormat, csv_records, xlsx_records
from respite.inventory.commands import BedImport
from respite.inventory.errors import BedsChangedDuringImportError, ImportRejectedError, RowError
from respite.inventory.model import MAX_PRICE, Bed, Label, NewBed, ordered_capabilities
from respite.nights import record_beds_open

if TYPE_CHECKING:
    from respite.deps import Deps

__all__ = [
    "COLUMNS",
    "MAX_IMPORT_BYTES",
    "MAX_IMPORT_ROWS",
    "REQUIRED_COLUMNS",
    "ImportResult",
    "ImportRow",
    "import_beds",
    "parse_beds",
]

MAX_IMPORT_BYTES = 2 * 1024 * 1024
MAX_IMPORT_ROWS = 5000
REQUIRED_COLUMNS = ("label", "kind", "sex_rule", "nightly_price")
COLUMNS = (*REQUIRED_COLUMNS, "capabilities", "pressure_care_stage", "active")
_TRUE = frozenset({"true", "yes", "1"})
_FALSE = frozenset({"false", "no", "0"})
_KINDS: tuple[str, ...] = get_args(Programme)
_SEX_RULES: tuple[str, ...] = get_args(SexRule)
_SHOWN = 40  # a cell is quoted in an error up to this length: junk must not swell the answer


class ImportRow(msgspec.Struct, frozen=True, kw_only=True):
    line: int
    bed: NewBed


class ImportResult(msgspec.Struct, frozen=True, kw_only=True):
    """What an import did, all rows together."""

    rows: Annotated[int, msgspec.Meta(description="Rows read, the header aside.")]
    created: Annotated[int, msgspec.Meta(description="Beds created (a new label).")]
    updated: Annotated[int, msgspec.Meta(description="Beds changed (a label that existed).")]
    unchanged: Annotated[int, msgspec.Meta(description="Rows equal to the bed they name.")]


class _CellError(Exception):
    def __init__(self, text: Text) -> None:
        super().__init__(render(text, "en"))
        self.text = text


def _shown(cell: str) -> str:
    return repr(cell if len(cell) <= _SHOWN else cell[:_SHOWN] + "…")


def _label(cell: str) -> str:
    if not cell:
        raise _CellError(t("inventory.csv.empty"))
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in cell):
        raise _CellError(t("inventory.control_characters"))
    try:
        return msgspec.convert(cell, Label)
    except msgspec.ValidationError as exc:
        message = field_error("", str(exc), Label).message
        assert isinstance(message, Text)  # field_error says every sentence from the catalog
        raise _CellError(message) from None


def _choice(options: tuple[str, ...]) -> Callable[[str], str]:
    def parse(cell: str) -> str:
        if cell not in options:
            raise _CellError(t("inventory.csv.not_one_of", value=_shown(cell), options=options))
        return cell

    return parse


def _whole(low: int, high: int, what: Text) -> Callable[[str], int]:
    def parse(cell: str) -> int:
        digits = cell[1:] if cell.startswith("-") else cell
        if not digits.isascii() or not digits.isdigit():
            raise _CellError(t("inventory.csv.not_whole", value=_shown(cell), what=what))
        # Bounded before int(): a cell of a million digits must not cost a conversion.
        value = int(cell) if len(digits) <= 18 else high + 1
        if not low <= value <= high:
            raise _CellError(t("inventory.csv.out_of_range", value=_shown(cell), what=what))
        return value

    return parse


def _capabilities(cell: str) -> list[str]:
    codes = [c.strip() for c in cell.split(";") if c.strip()]
    unknown = [c for c in codes if c not in CAPABILITIES]
    if unknown:
        shown = [_shown(c) for c in unknown]
        raise _CellError(t("inventory.csv.unknown_capability", unknown=shown, known=CAPABILITIES))
    return ordered_capabilities(codes)


def _flag(cell: str) -> bool:
    if cell.lower() in _TRUE:
        return True
    if cell.lower() in _FALSE:
        return False
    raise _CellError(t("inventory.csv.not_flag", value=_shown(cell)))


_PRICE = _whole(0, MAX_PRICE, t("inventory.csv.price_hint", example=28000))
_PARSERS: dict[str, Callable[[str], Any]] = {
    "label": _label,
    "kind": _choice(_KINDS),
    "sex_rule": _choice(_SEX_RULES),
    "nightly_price": _PRICE,
    "capabilities": _capabilities,
    "pressure_care_stage": _whole(0, 4, t("inventory.csv.stage_hint")),
    "active": _flag,
}
_DEFAULTS: dict[str, Any] = {"capabilities": [], "pressure_care_stage": 0, "active": True}


def _header(cells: list[str]) -> tuple[list[str], list[RowError]]:
    names = [c.strip().lower() for c in cells]
    errors = [
        RowError(
            line=1,
            column=name[:_SHOWN] or None,
            message=t("inventory.csv.unknown_column", columns=COLUMNS),
        )
        for name in names
        if name not in COLUMNS
    ]
    errors += [
        RowError(line=1, column=name, message=t("inventory.csv.column_repeated"))
        for i, name in enumerate(names)
        if name in COLUMNS and name in names[:i]
    ]
    errors += [
        RowError(line=1, column=name, message=t("inventory.csv.column_missing"))
        for name in REQUIRED_COLUMNS
        if name not in names
    ]
    return names, errors


def _row(line: int, names: list[str], cells: list[str]) -> tuple[ImportRow | None, list[RowError]]:
    if len(cells) != len(names):
        message = t("inventory.csv.cell_count", expected=len(names), found=len(cells))
        return None, [RowError(line=line, column=None, message=message)]
    values: dict[str, Any] = dict(_DEFAULTS)
    errors = []
    for name, cell in zip(names, cells, strict=True):
        cell = cell.strip()
        if not cell and name in _DEFAULTS:
            continue
        try:
            values[name] = _PARSERS[name](cell)
        except _CellError as exc:
            errors.append(RowError(line=line, column=name, message=exc.text))
    if errors:
        return None, errors
    return ImportRow(line=line, bed=NewBed(**values)), []


def parse_beds(data: bytes, kind: BedFileFormat) -> tuple[list[ImportRow], list[RowError]]:
    """Every good row of a CSV file or a workbook, and every problem of the file; pure."""
    if len(data) > MAX_IMPORT_BYTES:
        message = t("inventory.csv.too_large", mib=MAX_IMPORT_BYTES // 1024 // 1024)
        return [], [RowError(line=1, column=None, message=message)]
    records = csv_records(data) if kind == "csv" else xlsx_records(data)
    rows: list[ImportRow] = []
    errors: list[RowError] = []
    names: list[str] | None = None
    first_line: dict[str, int] = {}
    for count, (line, cells) in enumerate(records):
        if isinstance(cells, Text):
            errors.append(RowError(line=line, column=None, message=cells))
        elif names is None:
            names, errors = _header(cells)
            if errors:
                return [], errors
        elif count > MAX_IMPORT_ROWS:
            message = t("inventory.csv.too_many_rows", rows=MAX_IMPORT_ROWS)
            return [], [RowError(line=line, column=None, message=message)]
        else:
            row, row_errors = _row(line, names, cells)
            errors += row_errors
            if row is not None:
                seen = first_line.setdefault(row.bed.label, line)
                if seen != line:
                    repeated = t(
                        "inventory.csv.label_repeated", label=_shown(row.bed.label), line=seen
                    )
                    errors.append(RowError(line=line, column="label", message=repeated))
                rows.append(row)
    if names is None and not errors:
        empty = t("inventory.csv.empty_file", header=",".join(COLUMNS))
        errors.append(RowError(line=1, column=None, message=empty))
    return rows, errors


def _plan(
    rows: list[ImportRow], existing: dict[str, Bed]
) -> tuple[list[NewBed], list[tuple[int, NewBed]], list[RowError]]:
    """Split good rows into beds to create and beds to update; refuse what a file may not do."""
    create: list[NewBed] = []
    update: list[tuple[int, NewBed]] = []
    errors: list[RowError] = []
    for row in rows:
        new, bed = row.bed, existing.get(row.bed.label)
        if bed is None:
            create.append(new)
        elif bed.retired_at is not None:
            retired = t("inventory.csv.bed_retired", label=repr(new.label))
            errors.append(RowError(line=row.line, column="label", message=retired))
        elif bed.kind != new.kind:
            kind = t(f"eligibility.programme.{bed.kind}")
            fixed = t("inventory.csv.kind_fixed", label=repr(new.label), kind=kind)
            errors.append(RowError(line=row.line, column="kind", message=fixed))
        elif _differs(bed, new):
            update.append((bed.id, new))
    return create, update, errors


def _differs(bed: Bed, new: NewBed) -> bool:
    return (
        bed.sex_rule,
        bed.capabilities,
        bed.pressure_care_stage,
        bed.nightly_price,
        bed.active,
    ) != (
        new.sex_rule,
        ordered_capabilities(new.capabilities),
        new.pressure_care_stage,
        new.nightly_price,
        new.active,
    )


def _caps(bed: NewBed) -> str:
    return ";".join(ordered_capabilities(bed.capabilities))


async def _write(
    conn: Conn, facility_id: int, create: list[NewBed], update: list[tuple[int, NewBed]]
) -> list[int]:
    created: list[int] = []
    if create:
        try:
            rows = await _insert(conn, facility_id, create)
        except asyncpg.UniqueViolationError:
            # A bed with one of the new labels was created since they were looked up.
            raise BedsChangedDuringImportError(facility_id=facility_id) from None
        created = sorted(r["id"] for r in rows)
    if update:
        await conn.execute(
            q.UPDATE_BEDS,
            facility_id,
            [i for i, _ in update],
            [b.sex_rule for _, b in update],
            [_caps(b) for _, b in update],
            [b.pressure_care_stage for _, b in update],
            [b.nightly_price for _, b in update],
            [b.active for _, b in update],
        )
    return created


async def _insert(conn: Conn, facility_id: int, create: list[NewBed]) -> list[asyncpg.Record]:
    return await conn.fetch(
        q.INSERT_BEDS,
        facility_id,
        [b.kind for b in create],
        [b.label for b in create],
        [b.sex_rule for b in create],
        [_caps(b) for b in create],
        [b.pressure_care_stage for b in create],
        [b.nightly_price for b in create],
        [b.active for b in create],
    )


async def import_beds(deps: Deps, principal: Principal | None, file: BedImport) -> ImportResult:
    """Create or update the file's beds in one transaction, or raise ImportRejectedError.

    ``principal`` None is the operator on the command line (``respite import-beds``).
    """
    facility_id = file.facility_id
    own_facility(principal, facility_id)
    staff_roles.require(principal, "import_beds")
    rows, errors = parse_beds(file.data, file.format)
    if errors:
        raise ImportRejectedError(errors)
    async with deps.pool.acquire() as conn, conn.transaction():
        await check_facility_exists(conn, facility_id)
        await conn.execute(q.LOCK_BEDS_IMPORT, str(facility_id))
        found = await conn.fetch(q.SELECT_BEDS_BY_LABEL, facility_id, [r.bed.label for r in rows])
        existing = {b.label: b for b in map(bed_from_row, found)}
        create, update, errors = _plan(rows, existing)
        if errors:
            raise ImportRejectedError(errors)
        created = await _write(conn, facility_id, create, update)
        now = deps.clock.now()
        opened = [i for i, b in update if b.active and not existing[b.label].active]
        await record_beds_open(conn, created, now, "bed_added")
        await record_beds_open(conn, opened, now, "bed_returned")
        result = ImportResult(
            rows=len(rows),
            created=len(created),
            updated=len(update),
            unchanged=len(rows) - len(created) - len(update),
        )
        if created or update:
            before = {str(i): existing[b.label] for i, b in update}
            after = {"result": result, "created": created, "updated": dict(update)}
            await audit.record(
                conn,
                principal,
                "import",
                "beds",
                facility_id,
                facility_id=facility_id,
                before=before,
                after=after,
            )
        return result
