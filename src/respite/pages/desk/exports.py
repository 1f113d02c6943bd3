"""Exports on the desk (both roles): the board of a period and the bookings of a period, each
as CSV or as an Excel workbook, with headers in the page's language.

The board comes from the same use case as the board's page and the API
(``inventory.occupancy_board``: at most ``BOARD_MAX_NIGHTS`` nights), one row per bed and one
column per night, each cell the night's state in words (free, held, booked with the elder's
initials and the booking's status, blocked with the reason), then the night's totals. The
bookings come from the bookings' list (``booking.list_bookings``, every page of it): the stays
of the facility that overlap the period, at most ``MAX_BOOKING_DAYS`` days, each with the
elder's name from one more query for the period (``desk.elder_names_in_period``): the name
only of an elder the staff still see, as on the desk's pages (a cancelled or missed stay, or
one long over, keeps its numbers and an empty name). Downloads are
reads, so their forms are GETs; a wrong period shows the exports page again with the field and
the reason.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any, Final, Literal, cast

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.params import QueryParameter
from litestar.response import Template

from respite.auth.model import Principal
from respite.booking import list_bookings
from respite.booking.model import MAX_PAGE, Booking, BookingFilter, Status
from respite.deps import Deps
from respite.desk import elder_names_in_period
from respite.desk.model import status_words
from respite.errors import FieldError
from respite.i18n import Lang, Text, render, t
from respite.inventory import occupancy_board
from respite.inventory.board import (
    BOARD_MAX_NIGHTS,
    BlockedCell,
    Board,
    BoardQuery,
    BookedCell,
    Cell,
    HeldCell,
    window_problem,
)
from respite.pages.desk.beds import facility_today
from respite.pages.desk.sheets import Fen, Sheet, SheetCell, SheetFormat, as_file
from respite.pages.frame import NO_STORE, language, page
from respite.pages.guards import staff

__all__ = ["MAX_BOOKING_DAYS", "MAX_BOOKING_ROWS", "ExportPages", "board_cell_words"]

MAX_BOOKING_DAYS: Final = 366
# Every page of the list is read: bound how many, so one download cannot run without end.
MAX_BOOKING_ROWS: Final = 20_000
Which = Literal["board", "bookings"]
Typed = Annotated[str | None, QueryParameter(max_length=40)]
Format = Annotated[SheetFormat, QueryParameter()]


class ExportPages(Controller):
    path = "/desk/exports"
    include_in_schema = False

    @get("/")
    async def exports(
        self, request: Request[Any, Any, Any], deps: NamedDependency[Deps]
    ) -> Template:
        principal = staff(request)
        return await _page(request, deps, principal)

    @get("/board")
    async def board(
        self,
        request: Request[Any, Any, Any],
        deps: NamedDependency[Deps],
        start: Typed = None,
        end: Typed = None,
        format: Format = "xlsx",
    ) -> Response[bytes] | Template:
        principal = staff(request)
        period = _period("board", start, end)
        if isinstance(period, list):
            return await _page(request, deps, principal, errors=period, typed=(start, end))
        first, last = period
        problem = window_problem(first, last)
        if problem is not None:
            errors = [FieldError("board_end", problem.message)]
            return await _page(request, deps, principal, errors=errors, typed=(start, end))
        assert principal.facility_id is not None
        query = BoardQuery(facility_id=principal.facility_id, start=first, end=last)
        board = await occupancy_board(deps, principal, query)
        sheet = board_sheet(board, language(request))
        return _download(sheet, format, f"board-{first}-{last}")

    @get("/bookings")
    async def bookings(
        self,
        request: Request[Any, Any, Any],
        deps: NamedDependency[Deps],
        start: Typed = None,
        end: Typed = None,
        format: Format = "xlsx",
    ) -> Response[bytes] | Template:
        principal = staff(request)
        period = _period("bookings", start, end)
        if isinstance(period, list):
            return await _page(
                request, deps, principal, errors=period, typed=(None, None, start, end)
            )
        first, last = period
        if (last - first).days > MAX_BOOKING_DAYS:
            errors = [FieldError("bookings_end", t("desk.exports.too_long", days=MAX_BOOKING_DAYS))]
            return await _page(
                request, deps, principal, errors=errors, typed=(None, None, start, end)
            )
        found = await _all_bookings(deps, principal, first, last)
        if found is None:
            words = t("desk.exports.too_many", rows=MAX_BOOKING_ROWS)
            errors = [FieldError("bookings_end", words)]
            return await _page(
                request, deps, principal, errors=errors, typed=(None, None, start, end)
            )
        assert principal.facility_id is not None
        names = await elder_names_in_period(
            deps, principal, principal.facility_id, first, last, MAX_BOOKING_ROWS + 1
        )
        sheet = bookings_sheet(found, names, first, last, language(request))
        return _download(sheet, format, f"bookings-{first}-{last}")


def _period(
    which: Which, start: str | None, end: str | None
) -> tuple[date, date] | list[FieldError]:
    """The period typed, or what is wrong with it (the fields of ``which``'s form)."""
    days: dict[str, date] = {}
    errors: list[FieldError] = []
    for name, typed in (("start", start), ("end", end)):
        field = f"{which}_{name}"
        if not typed or not typed.strip():
            errors.append(FieldError(field, t("desk.exports.date_missing")))
            continue
        try:
            days[name] = date.fromisoformat(typed.strip())
        except ValueError:
            errors.append(FieldError(field, t("desk.exports.not_a_date", typed=typed[:20])))
    if errors:
        return errors
    if days["end"] <= days["start"]:
        return [FieldError(f"{which}_end", t("desk.exports.end_before_start"))]
    return days["start"], days["end"]


async def _all_bookings(
    deps: Deps, principal: Principal, start: date, end: date
) -> list[Booking] | None:
    found: list[Booking] = []
    cursor: str | None = None
    while True:
        listing = BookingFilter(
            facility_id=principal.facility_id, start=start, end=end, cursor=cursor, limit=MAX_PAGE
        )
        page_of = await list_bookings(deps, principal, listing)
        found += page_of.items
        if len(found) > MAX_BOOKING_ROWS:
            return None
        cursor = page_of.next_cursor
        if cursor is None:
            return found


def board_cell_words(cell: Cell) -> Text:
    """A night of the board in words: what the export writes in its cell."""
    if isinstance(cell, BookedCell):
        status = status_words(cast(Status, cell.status))
        return t("desk.exports.cell.stay", status=status, initials=cell.initials)
    if isinstance(cell, BlockedCell):
        return t("desk.exports.cell.blocked", reason=t(f"desk.blocks.reason.{cell.reason}"))
    if isinstance(cell, HeldCell):
        return t("desk.exports.cell.held")
    return t("desk.exports.cell.free")


def board_sheet(board: Board, lang: Lang) -> Sheet:
    nights = [board.start + timedelta(days=i) for i in range((board.end - board.start).days)]

    def say(key: str) -> str:
        return render(t(key), lang)

    header: list[Any] = [say("desk.exports.board.bed"), say("desk.exports.board.kind"), *nights]
    rows: list[list[Any]] = [
        [
            bed.label,
            say(f"desk.beds.kind.{bed.kind}"),
            *[render(board_cell_words(cell), lang) for cell in bed.cells],
        ]
        for bed in board.beds
    ]
    for total in ("free", "held", "booked", "blocked"):
        counts = [getattr(night, total) for night in board.totals]
        rows.append([say(f"desk.exports.board.total_{total}"), "", *counts])
    title = render(t("desk.exports.board.sheet", start=board.start.isoformat()), lang)
    return Sheet(
        title=title, header=header, rows=rows, widths=[14, 16, *[12] * len(nights)], frozen="C2"
    )


_BOOKING_COLUMNS: Final = (
    "number",
    "bed",
    "elder_name",
    "elder",
    "check_in",
    "check_out",
    "nights",
    "status",
    "nightly_price",
    "total_price",
    "currency",
    "referred",
    "override_reason",
    "booked_on",
)


def bookings_sheet(
    bookings: list[Booking], names: dict[int, str], start: date, end: date, lang: Lang
) -> Sheet:
    """One row per booking; ``names``: the elder's name by booking id, where staff see it."""
    header = [render(t(f"desk.exports.bookings.{name}"), lang) for name in _BOOKING_COLUMNS]
    rows: list[list[SheetCell]] = [
        [
            b.id,
            b.bed_label,
            names.get(b.id, ""),
            b.care_recipient_id,
            b.check_in,
            b.check_out,
            b.nights,
            render(status_words(b.status), lang),
            Fen(b.nightly_price),
            Fen(b.total_price),
            b.currency,
            render(
                t("desk.exports.bookings.yes" if b.hospital_id else "desk.exports.bookings.no"),
                lang,
            ),
            b.override_reason or "",
            b.created_at.date(),
        ]
        for b in sorted(bookings, key=lambda b: (b.check_in, b.bed_label, b.id))
    ]
    title = render(t("desk.exports.bookings.sheet", start=start.isoformat()), lang)
    widths = [10, 12, 16, 10, 12, 12, 8, 12, 12, 12, 8, 10, 24, 12]
    return Sheet(title=title, header=header, rows=rows, widths=widths, frozen="A2")


def _download(sheet: Sheet, kind: SheetFormat, name: str) -> Response[bytes]:
    data, media_type = as_file(sheet, kind)
    return Response(
        content=data,
        media_type=media_type,
        headers={**NO_STORE, "Content-Disposition": f'attachment; filename="{name}.{kind}"'},
    )


async def _page(
    request: Request[Any, Any, Any],
    deps: Deps,
    principal: Principal,
    *,
    errors: list[FieldError] | None = None,
    typed: tuple[str | None, ...] = (),
) -> Template:
    today = await facility_today(deps, principal)
    month = today.replace(day=1)
    next_month = (month + timedelta(days=32)).replace(day=1)
    defaults = [today, today + timedelta(days=31), month, next_month]
    shown = [
        (typed[i] if i < len(typed) and typed[i] is not None else defaults[i].isoformat())
        for i in range(4)
    ]
    return page(
        request,
        "desk/exports/exports.html",
        status=422 if errors else 200,
        errors=errors,
        form={
            "board_start": shown[0],
            "board_end": shown[1],
            "bookings_start": shown[2],
            "bookings_end": shown[3],
        },
        board_nights=BOARD_MAX_NIGHTS,
        booking_days=MAX_BOOKING_DAYS,
    )
