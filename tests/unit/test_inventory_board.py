"""The pure assembly of the occupancy board: cells at the boundaries, holds, totals, initials."""

from datetime import UTC, date, datetime, timedelta
from typing import Any

import msgspec
import pytest

from respite.holds.store import LiveHold
from respite.inventory.board import (
    BOARD_MAX_NIGHTS,
    BlockedCell,
    BoardRow,
    BookedCell,
    FreeCell,
    HeldCell,
    build_board,
    initials,
    window_problem,
)

START = date(2030, 3, 1)
END = START + timedelta(5)
NOW = datetime(2030, 2, 28, 12, tzinfo=UTC).timestamp()


def d(offset: int) -> date:
    return START + timedelta(offset)


def bed(bed_id: int, label: str, **extra: Any) -> BoardRow:
    return BoardRow(bed_id=bed_id, label=label, kind="respite", **extra)


def booked(
    bed_id: int, label: str, night: int, booking: int, name: str = "王秀英", nights: int = 1
) -> BoardRow:
    return bed(
        bed_id,
        label,
        first_night=d(night),
        end_night=d(night + nights),
        booking_id=booking,
        status="confirmed",
        recipient_name=name,
    )


def blocked(bed_id: int, label: str, night: int, block: int, nights: int = 1) -> BoardRow:
    return bed(
        bed_id,
        label,
        first_night=d(night),
        end_night=d(night + nights),
        block_id=block,
        reason="cleaning",
    )


def hold(bed_id: int, first: int, last: int, hold_id: str = "h1", expires: float = 600) -> LiveHold:
    return LiveHold(
        hold_id=hold_id,
        bed_id=bed_id,
        check_in=d(first),
        check_out=d(last),
        expires_at=NOW + expires,
    )


def states(cells: list[Any]) -> str:
    marks: dict[type, str] = {FreeCell: ".", HeldCell: "h", BookedCell: "B", BlockedCell: "X"}
    return "".join(marks[type(c)] for c in cells)


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("王秀英", "王*"),
        ("欧阳娜娜", "欧*"),
        ("  李 华 ", "李*"),
        ("𠀋太郎", "𠀋*"),
        ("Li Hua", "L. H."),
        ("mary-jane o'brien", "M. J. O."),
        ("Anna Maria Luisa Rossi", "A. M. L."),
        ("Émile Zola", "É. Z."),
        ("", "?"),
        ("123 456", "?"),
    ],
)
def test_initials_never_show_more_than_one_letter_per_word(name: str, shown: str) -> None:
    assert initials(name) == shown


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        (START, START + timedelta(1), None),
        (START, START + timedelta(BOARD_MAX_NIGHTS), None),
        (START, START + timedelta(BOARD_MAX_NIGHTS + 1), "end"),
        (START, START, "end"),
        (START, START - timedelta(1), "end"),
    ],
)
def test_window(start: date, end: date, field: str | None) -> None:
    problem = window_problem(start, end)
    assert (problem.field if problem else None) == field


def test_a_booking_ending_the_night_another_starts_leaves_no_gap_and_no_overlap() -> None:
    rows = [
        booked(1, "A", 0, 10, "Li Hua", nights=2),
        booked(1, "A", 2, 11, "张伟"),
        blocked(1, "A", 4, 20),
    ]
    board = build_board(7, START, END, None, rows, [])
    (only,) = board.beds
    assert states(only.cells) == "BBB.X"
    assert [getattr(c, "booking_id", None) for c in only.cells] == [10, 10, 11, None, None]
    assert only.cells[0] == BookedCell(booking_id=10, status="confirmed", initials="L. H.")
    assert only.cells[2] == BookedCell(booking_id=11, status="confirmed", initials="张*")
    assert only.cells[4] == BlockedCell(block_id=20, reason="cleaning")
    assert "Li Hua" not in msgspec.json.encode(board).decode()


def test_a_claim_with_gaps_fills_only_its_nights() -> None:
    row = msgspec.structs.replace(booked(1, "A", 0, 10, nights=5), nights=[d(0), d(1), d(3)])
    board = build_board(7, START, END, None, [row], [])
    assert states(board.beds[0].cells) == "BB.B."
    assert [t.booked for t in board.totals] == [1, 1, 0, 1, 0]


def test_first_and_last_night_of_the_window_are_cells_zero_and_last() -> None:
    rows = [booked(1, "A", 0, 1), booked(1, "A", 4, 2)]
    board = build_board(7, START, END, None, rows, [])
    assert states(board.beds[0].cells) == "B...B"


def test_beds_without_claims_are_all_free_and_keep_query_order() -> None:
    rows = [bed(2, "A"), booked(1, "B", 3, 5), bed(3, "C")]
    board = build_board(7, START, END, None, rows, [])
    assert [b.label for b in board.beds] == ["A", "B", "C"]
    assert [states(b.cells) for b in board.beds] == [".....", "...B.", "....."]


def test_a_facility_without_beds_has_an_empty_board_with_zero_totals() -> None:
    board = build_board(7, START, END, "home", [BoardRow(bed_id=None)], [])
    assert board.beds == []
    assert [t.free for t in board.totals] == [0] * 5
    assert [t.occupancy_rate for t in board.totals] == [0.0] * 5


def test_holds_fill_only_free_nights_inside_the_window() -> None:
    rows = [booked(1, "A", 2, 10), bed(2, "B")]
    holds = [hold(1, -3, 4), hold(2, 3, 9, "h2"), hold(99, 0, 5, "h3")]
    board = build_board(7, START, END, None, rows, holds)
    assert [states(b.cells) for b in board.beds] == ["hhBh.", "...hh"]
    cell = board.beds[0].cells[0]
    assert isinstance(cell, HeldCell) and cell.hold_id == "h1"
    assert cell.expires_at == datetime.fromtimestamp(NOW + 600, UTC)
    assert board.holds_unknown is False


def test_of_two_overlapping_holds_the_one_expiring_first_shows() -> None:
    holds = [hold(1, 0, 3, "late", 900), hold(1, 2, 5, "early", 60)]
    cells = build_board(7, START, END, None, [bed(1, "A")], holds).beds[0].cells
    assert [getattr(c, "hold_id", None) for c in cells] == [
        "late",
        "late",
        "early",
        "early",
        "early",
    ]


def test_without_redis_the_board_says_holds_are_unknown() -> None:
    board = build_board(7, START, END, None, [bed(1, "A")], None)
    assert board.holds_unknown is True
    assert states(board.beds[0].cells) == "....."


def test_totals_and_occupancy_rate_per_night() -> None:
    rows = [
        booked(1, "A", 0, 10, nights=2),
        blocked(2, "B", 0, 20),
        bed(3, "C"),
        bed(4, "D", active=False),
        msgspec.structs.replace(booked(5, "E", 1, 11), active=False),
    ]
    board = build_board(7, START, END, None, rows, [hold(3, 1, 2)])
    night0, night1, night2 = board.totals[:3]
    # night 0: A booked, B blocked, C free; D and E inactive: their empty nights are no capacity
    assert (night0.free, night0.held, night0.booked, night0.blocked) == (1, 0, 1, 1)
    assert night0.occupancy_rate == 0.5
    # night 1: A booked, B free, C held, E booked (inactive beds' bookings count all the same)
    assert (night1.free, night1.held, night1.booked, night1.blocked) == (1, 1, 2, 0)
    assert night1.occupancy_rate == 0.5
    # night 2: A, B and C free
    assert (night2.free, night2.booked, night2.occupancy_rate) == (3, 0, 0.0)
    assert (
        round(1 / 3, 4) == build_board(7, START, END, None, rows[:3], []).totals[1].occupancy_rate
    )
    assert [t.night for t in board.totals] == [d(i) for i in range(5)]


def test_a_retired_bed_is_shown_inactive() -> None:
    retired_row = msgspec.structs.replace(booked(1, "A", 0, 10), retired=True)
    board = build_board(7, START, END, None, [retired_row], [])
    (retired,) = board.beds
    assert retired.retired is True and retired.active is False
    assert board.totals[1].free == 0 and board.totals[0].booked == 1
