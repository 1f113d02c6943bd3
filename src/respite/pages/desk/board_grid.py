"""The board's cells as HTML, built in Python: 300 beds × 31 nights is 9,300 cells, and a
template printing each cell's class, link and words would spend more time than the board's
query and assembly together (``ops/bench/board_pages.py`` measures the page against the JSON
board).

A cell's markup depends only on its claim, not on its night: the nights of one booking, block
or hold are one ``Cell`` object (``inventory.board``), so its markup is made once and reused.
A free night's link names its bed and night (the walk-in starts there): the only markup made
per cell, from a prefix per bed and a suffix per night. Every word comes from the catalog
(``CellWords``, said once per page); names and reasons typed by people are escaped here.

Each state shows a pattern and words as well as its colour (WCAG 1.4.1): a held night is
striped and marked, a blocked one cross-hatched and marked, a booked one shows the elder's
initials, a checked-in one a tick before them; every cell's link also says its state in words
for a screen reader (``v``: visually hidden).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Final, get_args
from urllib.parse import quote

from markupsafe import Markup, escape
from msgspec import Struct

from respite.inventory.board import (
    FREE,
    BlockedCell,
    BoardBed,
    BookedCell,
    Cell,
    HeldCell,
)
from respite.inventory.model import BlockReason

__all__ = ["STATES", "CellWords", "Nights", "row_cells", "state_of"]

BLOCK_REASONS: Final = get_args(BlockReason)

STATES: Final = ("free", "held", "booked", "checked_in", "checked_out", "blocked")
"""What a cell can show, as the legend lists them; a claimed one's CSS class is in ``CLASSES``
(a free cell has none: most are free, and each byte counts 9,300 times)."""
CLASSES: Final = {
    "held": "h",
    "booked": "k",
    "checked_in": "i",
    "checked_out": "o",
    "blocked": "x",
}


class CellWords(Struct, frozen=True, kw_only=True):
    """The words of the cells in the page's language, escaped: what a screen reader hears
    (``state``: each state's name) and the marks a held or blocked night shows."""

    state: dict[str, str]
    blocked_for: dict[str, str]
    held_mark: str
    blocked_mark: str
    checked_in_mark: str

    @classmethod
    def said(cls, say: Callable[[str], str]) -> CellWords:
        return cls(
            state={s: str(escape(say(f"desk.board.state.{s}"))) for s in STATES},
            blocked_for={r: str(escape(say(f"desk.board.blocked_for.{r}"))) for r in BLOCK_REASONS},
            held_mark=str(escape(say("desk.board.mark.held"))),
            blocked_mark=str(escape(say("desk.board.mark.blocked"))),
            checked_in_mark=str(escape(say("desk.board.mark.checked_in"))),
        )


def state_of(cell: Cell) -> str:
    if isinstance(cell, BookedCell):
        if cell.status == "checked_in":
            return "checked_in"
        if cell.status == "checked_out":
            return "checked_out"
        return "booked"
    if isinstance(cell, HeldCell):
        return "held"
    if isinstance(cell, BlockedCell):
        return "blocked"
    return "free"


def _td(state: str, inner: str) -> str:
    # No role: a cell of a table that is a grid is a grid cell (HTML-ARIA); 9,300 of them
    # would carry 150 KB of it before compression.
    return f'<td class="{CLASSES[state]}">{inner}</td>'


def _claimed(cell: Cell, words: CellWords) -> str:
    state = state_of(cell)
    said = words.state[state]
    if isinstance(cell, BookedCell):
        shown = str(escape(cell.initials))
        if state == "checked_in":
            shown = words.checked_in_mark + shown
        href = f"/desk/bookings/{cell.booking_id}"
    elif isinstance(cell, HeldCell):
        shown, href = words.held_mark, f"/desk/holds/{quote(cell.hold_id, safe='')}"
    elif isinstance(cell, BlockedCell):
        shown, href = words.blocked_mark, f"/desk/blocks/{cell.block_id}"
        said = words.blocked_for.get(cell.reason, said)
    else:
        raise TypeError(f"not a claim: {cell!r}")
    return _td(state, f'<a href="{escape(href)}">{shown}<span class="v"> {said}</span></a>')


class Nights(Struct, frozen=True):
    """The window's nights as a free cell's markup ends, after its link's ``bed=``: from
    ``&amp;from=`` to ``</td>``; and from which index on a free night may still be booked
    (nights before today may not)."""

    free_ends: list[str]
    first_bookable: int

    @classmethod
    def of(cls, start: date, count: int, today: date, words: CellWords) -> Nights:
        end = f'"><span class="v">{words.state["free"]}</span></a></td>'
        ends = [f"&amp;from={start + timedelta(days=i)}{end}" for i in range(count)]
        return cls(ends, max(0, min(count, (today - start).days)))


def row_cells(bed: BoardBed, nights: Nights, words: CellWords, made: dict[int, str]) -> Markup:
    """One bed's cells as one piece of markup. ``made`` keeps each claim's markup by the
    claim's identity (a booking's nights are one object) for the whole page."""
    unlinked = f'<td><span class="v">{words.state["free"]}</span></td>'
    linked = f'<td><a href="/desk/walk-in?bed={bed.bed_id}'
    bookable = nights.first_bookable if bed.active else len(bed.cells)
    ends = nights.free_ends
    parts: list[str] = []
    add = parts.append
    for i, cell in enumerate(bed.cells):
        if cell is FREE:  # the board's one free cell (``build_board`` fills rows with it)
            add(linked + ends[i] if i >= bookable else unlinked)
            continue
        html = made.get(id(cell))
        if html is None:
            html = made[id(cell)] = _claimed(cell, words)
        add(html)
    # Every piece is escaped where it was made: words here, names and ids in _claimed.
    return Markup("".join(parts))  # noqa: S704
