"""Errors of inventory that the shared tree in ``respite.errors`` does not already name.

ConflictError
├── LabelTakenError              another bed of the facility has the label
├── BedRetiredError              a retired bed no longer changes nor takes blocks
├── BedStillBookedError          a booking still claims a night of the bed to retire
├── NightBookedError             a night the block would cover is booked
├── NightAlreadyBlockedError     a night the block would cover is blocked already
├── BlockLiftedError             a lifted block no longer changes
└── BedsChangedDuringImportError a bed with a label of the file appeared meanwhile
ImportRejectedError              a bed file with bad rows (422)
"""

from __future__ import annotations

from datetime import date
from typing import Literal

import msgspec

from respite.errors import ConflictError, RespiteError
from respite.i18n import Text, t

__all__ = [
    "MAX_REPORTED_ERRORS",
    "BedRetiredError",
    "BedStillBookedError",
    "BedsChangedDuringImportError",
    "BlockLiftedError",
    "ImportRejectedError",
    "LabelTakenError",
    "NightAlreadyBlockedError",
    "NightBookedError",
    "RowError",
]

# A file of junk can hold an error on every line: the answer lists this many and the count.
MAX_REPORTED_ERRORS = 1000


class LabelTakenError(ConflictError):
    def __init__(self, *, label: str, conflicting_bed: int | None) -> None:
        super().__init__(
            t("inventory.label_taken", label=repr(label)),
            label=label,
            conflicting_bed=conflicting_bed,
        )


class BedRetiredError(ConflictError):
    def __init__(self, *, bed: int, doing: Literal["block", "change"]) -> None:
        super().__init__(t(f"inventory.bed_retired_{doing}", bed=bed), bed=bed)


class BedStillBookedError(ConflictError):
    def __init__(self, *, bed: int, conflicting_booking: int, night: date) -> None:
        super().__init__(
            t("inventory.bed_still_booked", bed=bed, night=night, booking=conflicting_booking),
            conflicting_booking=conflicting_booking,
            night=night.isoformat(),
        )


class NightBookedError(ConflictError):
    def __init__(self, *, bed: int, night: date, conflicting_booking: int) -> None:
        super().__init__(
            t("inventory.night_booked", bed=bed, night=night, booking=conflicting_booking),
            conflicting_booking=conflicting_booking,
            night=night.isoformat(),
        )


class NightAlreadyBlockedError(ConflictError):
    def __init__(self, *, bed: int, night: date, conflicting_block: int) -> None:
        super().__init__(
            t("inventory.night_blocked", bed=bed, night=night, block=conflicting_block),
            conflicting_block=conflicting_block,
            night=night.isoformat(),
        )


class BlockLiftedError(ConflictError):
    def __init__(self, *, block: int) -> None:
        super().__init__(t("inventory.block_lifted", block=block), block=block)


class BedsChangedDuringImportError(ConflictError):
    def __init__(self, *, facility_id: int) -> None:
        super().__init__(
            t("inventory.beds_changed"),
            facility_id=facility_id,
        )


class RowError(msgspec.Struct, frozen=True, kw_only=True):
    """One thing wrong with an imported file: where (line 1 is the header) and why."""

    line: int
    column: str | None
    message: Text


class ImportRejectedError(RespiteError):
    """A bed file with any bad row imports nothing (422 ``invalid-file``).

    ``errors`` lists every bad row with its line, column and reason (up to
    ``MAX_REPORTED_ERRORS``; ``error_count`` says how many there were in all).
    """

    def __init__(self, errors: list[RowError]) -> None:
        first = errors[0]
        where = (
            t("inventory.csv.at_cell", line=first.line, column=first.column)
            if first.column
            else t("inventory.csv.at_line", line=first.line)
        )
        super().__init__(
            t("inventory.import_rejected", count=len(errors), where=where, message=first.message),
            error_count=len(errors),
            errors=[msgspec.structs.asdict(e) for e in errors[:MAX_REPORTED_ERRORS]],
        )
        self.errors = errors
