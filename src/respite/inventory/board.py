"""The occupancy board: one facility's beds × nights as free, held, booked or blocked.

One query to PostgreSQL (every bed of the facility and every claimed night of the window with
its booking or block) and one pipeline to Redis (the facility's live holds) run side by side;
the grid is then assembled by the pure ``build_board``.

- A night claimed in PostgreSQL shows its claim: ``booked`` (booking id, status, the elder's
  initials only) or ``blocked`` (block id, reason). The database is the truth: a hold on a
  claimed night does not show.
- A night without a claim but under a live hold shows ``held``; if two holds cover it, the one
  that expires first shows.
- When Redis cannot be read the board still answers, from PostgreSQL alone, with
  ``holds_unknown: true``: held nights then show as free.

Totals per night: ``free`` counts the empty nights of active beds only (an inactive or retired
bed cannot be booked, so its empty nights are no capacity); ``occupancy_rate`` is
``booked / (free + held + booked)``, i.e. booked nights over the nights in service, blocked
nights excluded, held nights not counted as occupied; 0 when nothing is in service.

Initials: for a name in Chinese characters, the surname's first character and "*" ("王秀英"
→ "王*"; compound surnames also show one character); otherwise the first letter of each of
the first three words, each followed by "." ("Li Hua" → "L. H."); "?" when nothing is left.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Annotated

from msgspec import Meta, Struct

from respite.auth.model import Principal
from respite.cache import RedisClient
from respite.eligibility import Capability, Programme
from respite.eligibility.model import BedKind
from respite.errors import InvalidInputError, NotFoundError
from respite.holds.store import HoldsUnavailable, LiveHold, read_live_holds
from respite.i18n import t
from respite.inventory import queries as q
from respite.inventory.access import own_facility
from respite.inventory.model import FieldProblem
from respite.vocabulary import BedId, BlockId, BookingId, FacilityId, HoldId

if TYPE_CHECKING:
    from respite.deps import Deps

__all__ = [
    "BOARD_MAX_NIGHTS",
    "BlockedCell",
    "Board",
    "BoardBed",
    "BoardQuery",
    "BoardRow",
    "BookedCell",
    "Cell",
    "FreeCell",
    "HeldCell",
    "NightTotals",
    "build_board",
    "initials",
    "occupancy_board",
    "window_problem",
]

BOARD_MAX_NIGHTS = 92
log = logging.getLogger("respite.inventory.board")


class FreeCell(Struct, frozen=True, tag_field="state", tag="free"):
    """A night nobody claims or holds."""


class HeldCell(Struct, frozen=True, kw_only=True, tag_field="state", tag="held"):
    """A night under a live hold."""

    hold_id: HoldId
    expires_at: Annotated[datetime, Meta(description="When the hold ends (ISO 8601).")]


class BookedCell(Struct, frozen=True, kw_only=True, tag_field="state", tag="booked"):
    """A night of a booking."""

    booking_id: BookingId
    status: Annotated[str, Meta(description="The booking's status.")]
    initials: Annotated[str, Meta(description="The elder's initials only, e.g. 王* or L. H.")]


class BlockedCell(Struct, frozen=True, kw_only=True, tag_field="state", tag="blocked"):
    """A night the bed is out of service."""

    block_id: BlockId
    reason: Annotated[str, Meta(description="Why the bed is blocked.")]


Cell = FreeCell | HeldCell | BookedCell | BlockedCell
FREE = FreeCell()


class BoardBed(Struct, frozen=True, kw_only=True):
    """One bed's row of the board."""

    bed_id: BedId
    label: Annotated[str, Meta(description="The bed's label in its facility.")]
    kind: BedKind
    active: Annotated[bool, Meta(description="False: the bed takes no new bookings.")]
    retired: Annotated[bool, Meta(description="True: the bed is out of use for good.")]
    cells: Annotated[
        list[Cell],
        Meta(description="One per night of the window, in order: cells[i] is night start + i."),
    ]


class NightTotals(Struct, frozen=True, kw_only=True):
    """The facility's figures for one night."""

    night: Annotated[date, Meta(description="The night (YYYY-MM-DD).")]
    free: Annotated[int, Meta(description="Empty nights of active beds.")]
    held: Annotated[int, Meta(description="Nights under a live hold.")]
    booked: Annotated[int, Meta(description="Nights of bookings.")]
    blocked: Annotated[int, Meta(description="Nights of beds out of service.")]
    occupancy_rate: Annotated[
        float, Meta(description="booked / (free + held + booked); 0 when nothing is in service.")
    ]


class Board(Struct, frozen=True, kw_only=True):
    """A facility's beds by nights of the window ``[start, end)``, with totals per night."""

    facility_id: FacilityId
    start: Annotated[date, Meta(description="The first night of the window (YYYY-MM-DD).")]
    end: Annotated[date, Meta(description="The day after the window's last night.")]
    kind: Annotated[BedKind, Meta(description="Only beds of this kind (null: every kind).")] | None
    holds_unknown: Annotated[
        bool, Meta(description="True when holds could not be read: held nights show as free.")
    ]
    beds: Annotated[list[BoardBed], Meta(description="Every bed of the facility, by label.")]
    totals: Annotated[list[NightTotals], Meta(description="One per night, in order.")]


class BoardRow(Struct, frozen=True):
    """One row of the board query, positional in its column order: a bed, and one booking or
    block claiming nights of it in the window (or none): from ``first_night`` to the night
    before ``end_night``, or only ``nights`` if those are given (claims with gaps)."""

    bed_id: int | None
    label: str | None = None
    kind: Programme | None = None
    active: bool = True
    retired: bool = False
    first_night: date | None = None
    end_night: date | None = None
    booking_id: int | None = None
    block_id: int | None = None
    status: str | None = None
    recipient_name: str | None = None
    reason: str | None = None
    nights: list[date] | None = None

    def spans(self, start: date) -> list[tuple[int, int]]:
        """The claimed cells as ``[first, end)`` index ranges of a window from ``start``."""
        if self.nights is not None:
            return [((n - start).days, (n - start).days + 1) for n in self.nights]
        if self.first_night is None or self.end_night is None:
            return []
        return [((self.first_night - start).days, (self.end_night - start).days)]


def window_problem(start: date, end: date) -> FieldProblem | None:
    if end <= start:
        return FieldProblem("end", t("inventory.window_after_start"))
    if (end - start).days > BOARD_MAX_NIGHTS:
        return FieldProblem("end", t("inventory.window_too_long", nights=BOARD_MAX_NIGHTS))
    return None


_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
_WORD = re.compile(r"[^\W\d_]", re.UNICODE)


def initials(name: str) -> str:
    name = name.strip()
    if name and _HAN.match(name):
        return name[0] + "*"
    letters = []
    for word in re.split(r"[\s\-]+", name):
        letter = _WORD.search(word)
        if letter is not None:
            letters.append(letter.group().upper() + ".")
        if len(letters) == 3:
            break
    return " ".join(letters) or "?"


class _Tally:
    """Per-night counts, kept while cells are filled: no second pass over the grid."""

    def __init__(self, nights: int) -> None:
        self.held, self.booked, self.blocked = [0] * nights, [0] * nights, [0] * nights
        self.taken_active = [0] * nights  # nights of active beds that are not free
        self.active_beds = 0

    def add(self, counts: list[int], first: int, end: int, active: bool) -> None:
        for i in range(first, end):
            counts[i] += 1
            if active:
                self.taken_active[i] += 1

    def totals(self, start: date) -> list[NightTotals]:
        totals = []
        for i, (held, booked) in enumerate(zip(self.held, self.booked, strict=True)):
            free = self.active_beds - self.taken_active[i]
            in_service = free + held + booked
            totals.append(
                NightTotals(
                    night=start + timedelta(days=i),
                    free=free,
                    held=held,
                    booked=booked,
                    blocked=self.blocked[i],
                    occupancy_rate=round(booked / in_service, 4) if in_service else 0.0,
                )
            )
        return totals


def _claim(row: BoardRow, names: dict[int, str]) -> BookedCell | BlockedCell:
    if row.booking_id is not None:
        if row.booking_id not in names:
            names[row.booking_id] = initials(row.recipient_name or "")
        return BookedCell(
            booking_id=row.booking_id, status=row.status or "", initials=names[row.booking_id]
        )
    return BlockedCell(block_id=row.block_id or 0, reason=row.reason or "")


def _place_claims(
    start: date, nights: int, rows: Sequence[BoardRow], tally: _Tally
) -> dict[int, BoardBed]:
    beds: dict[int, BoardBed] = {}
    names: dict[int, str] = {}
    for row in rows:
        if row.bed_id is None or row.label is None or row.kind is None:
            continue  # the facility has no beds (of this kind)
        bed = beds.get(row.bed_id)
        if bed is None:
            active = row.active and not row.retired
            bed = beds[row.bed_id] = BoardBed(
                bed_id=row.bed_id,
                label=row.label,
                kind=row.kind,
                active=active,
                retired=row.retired,
                cells=[FREE] * nights,
            )
            tally.active_beds += active
        for first, end in row.spans(start):
            cell = _claim(row, names)
            bed.cells[first:end] = [cell] * (end - first)
            counts = tally.booked if isinstance(cell, BookedCell) else tally.blocked
            tally.add(counts, first, end, bed.active)
    return beds


def _place_holds(
    start: date, beds: dict[int, BoardBed], holds: Sequence[LiveHold], tally: _Tally
) -> None:
    for hold in sorted(holds, key=lambda h: (h.expires_at, h.hold_id)):
        bed = beds.get(hold.bed_id)
        if bed is None:
            continue
        cell = HeldCell(
            hold_id=hold.hold_id, expires_at=datetime.fromtimestamp(hold.expires_at, UTC)
        )
        first = max((hold.check_in - start).days, 0)
        for i in range(first, min((hold.check_out - start).days, len(bed.cells))):
            if bed.cells[i] is FREE:
                bed.cells[i] = cell
                tally.add(tally.held, i, i + 1, bed.active)


def build_board(
    facility_id: int,
    start: date,
    end: date,
    kind: Programme | None,
    rows: Sequence[BoardRow],
    holds: Sequence[LiveHold] | None,
) -> Board:
    """Assemble the grid; ``holds`` None means Redis could not be read. Pure: no I/O."""
    nights = (end - start).days
    tally = _Tally(nights)
    beds = _place_claims(start, nights, rows, tally)
    _place_holds(start, beds, holds or (), tally)
    return Board(
        facility_id=facility_id,
        start=start,
        end=end,
        kind=kind,
        holds_unknown=holds is None,
        beds=list(beds.values()),
        totals=tally.totals(start),
    )


async def _live_holds(client: RedisClient, facility_id: int, now: float) -> list[LiveHold] | None:
    try:
        live = await read_live_holds(client, [facility_id], now)
    except HoldsUnavailable:
        log.warning("occupancy board of facility %s without holds: redis unavailable", facility_id)
        return None
    return live.get(facility_id, [])


class BoardQuery(Struct, frozen=True, kw_only=True):
    """The window and the beds to show: of one kind, or (the desk's board page only: the API
    has no such parameters) with a capability, or whose label starts with ``label_prefix``
    in any case ("3F" for a floor). Totals count the beds shown."""

    facility_id: int
    start: date
    end: date
    kind: Programme | None = None
    capability: Capability | None = None
    label_prefix: str | None = None


async def occupancy_board(deps: Deps, principal: Principal, query: BoardQuery) -> Board:
    """The board of the nights ``[start, end)``: one PostgreSQL query, one Redis pipeline.
    Holds are live or not by the clock's now; the window is the caller's, not "today"."""
    own_facility(principal, query.facility_id)
    problem = window_problem(query.start, query.end)
    if problem is not None:
        raise InvalidInputError.one(problem.field, problem.message)
    records, holds = await asyncio.gather(
        deps.pool.fetch(
            q.SELECT_BOARD,
            query.facility_id,
            query.start,
            query.end,
            query.kind,
            query.capability,
            query.label_prefix,
        ),
        _live_holds(deps.redis, query.facility_id, deps.clock.now().timestamp()),
    )
    if not records:
        raise NotFoundError("facility", query.facility_id)
    rows = [BoardRow(*r) for r in records]
    return build_board(query.facility_id, query.start, query.end, query.kind, rows, holds)
