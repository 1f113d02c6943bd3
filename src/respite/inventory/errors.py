"""Errors of inventory that the shared tree in ``respite.errors`` does not already name."""

from __future__ import annotations

import msgspec

from respite.errors import RespiteError

__all__ = ["MAX_REPORTED_ERRORS", "ImportRejectedError", "RowError"]

# A file of junk can hold an error on every line: the answer lists this many and the count.
MAX_REPORTED_ERRORS = 1000


class RowError(msgspec.Struct, frozen=True, kw_only=True):
    """One thing wrong with an imported file: where (line 1 is the header) and why."""

    line: int
    column: str | None
    message: str


class ImportRejectedError(RespiteError):
    """A bed file with any bad row imports nothing (422 ``invalid-file``).

    ``errors`` lists every bad row with its line, column and reason (up to
    ``MAX_REPORTED_ERRORS``; ``error_count`` says how many there were in all).
    """

    def __init__(self, errors: list[RowError]) -> None:
        first = errors[0]
        where = f"line {first.line}" + (f", column {first.column}" if first.column else "")
        super().__init__(
            f"nothing was imported: {len(errors)} problem(s), the first at {where}: "
            f"{first.message}",
            error_count=len(errors),
            errors=[msgspec.structs.asdict(e) for e in errors[:MAX_REPORTED_ERRORS]],
        )
        self.errors = errors
