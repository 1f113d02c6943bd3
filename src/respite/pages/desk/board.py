"""The board: ``GET /desk/board``, the facility's beds × nights, for its staff.

The page calls the JSON board's use case (``inventory.board.occupancy_board``, as ``GET
/v1/facilities/{id}/board``): one query and one Redis pipeline, the same cells and the same
totals. Its form is a GET form (a board is a link that can be shared and reloaded): ``start``
(the first night; today at the facility when blank), ``nights`` (31 unless given, at most
``BOARD_MAX_NIGHTS``), and filters of the beds shown: ``kind``, ``capability``, ``prefix`` (the
start of a label, as a floor "3F" starts every label on it). A wrong field shows the form again
with the error named (422) and no grid. Totals count the beds shown.

Each cell is a link to what claims the night: a booking (``/desk/bookings/{id}``), a hold
(``/desk/holds/{id}``, ``holds.py`` here), a block (``/desk/blocks/{id}``), or, for a free night
of a bed that takes bookings, the walk-in from that night (``/desk/walk-in?bed=..&from=..``).
The cells' markup is built in Python (``board_grid``); ``static/board.js`` makes the grid one
tab stop with arrow keys (without it, every link is reached by Tab).
"""

from __future__ import annotations

import asyncio
import functools
from datetime import date, timedelta
from typing import Annotated, Any, Final
from urllib.parse import urlencode

import msgspec
from babel.dates import format_date, format_skeleton
from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.response import Template
from markupsafe import Markup
from msgspec import Meta

from respite.clock import local_today
from respite.deps import Deps
from respite.eligibility import CAPABILITIES, Capability, Programme
from respite.eligibility.model import BedKind
from respite.errors import FieldError, InvalidInputError
from respite.i18n import Lang, formats, t
from respite.inventory.board import BOARD_MAX_NIGHTS, Board, BoardQuery, occupancy_board
from respite.inventory.model import Facility
from respite.inventory.service import get_facility
from respite.pages.desk.board_grid import STATES, CellWords, Nights, row_cells
from respite.pages.forms import read_form
from respite.pages.frame import language, page
from respite.pages.guards import staff
from respite.pages.templating import words_in
from respite.problems import problem_kind

__all__ = ["BOARD_FIELDS", "DEFAULT_NIGHTS", "BoardForm", "BoardPage"]

DEFAULT_NIGHTS: Final = 31
MAX_PREFIX: Final = 20
# A first night further than this from today is a typing slip (a year 2062 for 2026).
MAX_YEARS_AWAY: Final = 10
BOARD_FIELDS: Final = ("start", "nights", "kind", "capability", "prefix")
NOTICES: Final = frozenset({"released"})
TEMPLATE: Final = "desk/board/board.html"


class BoardForm(msgspec.Struct, frozen=True, kw_only=True):
    """The board's form as a browser sends it; blank fields are left out."""

    start: date | None = None
    nights: Annotated[int, Meta(ge=1, le=BOARD_MAX_NIGHTS)] = DEFAULT_NIGHTS
    kind: Programme | None = None
    capability: Capability | None = None
    prefix: Annotated[str, Meta(max_length=MAX_PREFIX)] | None = None


class Night(msgspec.Struct, frozen=True):
    """A column's header: the date as a column shows it, its weekday, and its flags."""

    iso: str
    short: str
    weekday: str
    weekend: bool
    today: bool


class Row(msgspec.Struct, frozen=True):
    """A bed's row: its header's words and its cells' markup."""

    label: str
    kind: BedKind
    active: bool
    retired: bool
    cells: Markup


class BoardPage(Controller):
    path = "/desk/board"
    include_in_schema = False

    @get("/")
    async def board(self, request: Request[Any, Any, Any], deps: NamedDependency[Deps]) -> Template:
        principal = staff(request)
        facility_id = principal.facility_id
        assert facility_id is not None  # staff(): staff always have their facility
        pairs = _pairs(request)
        now = deps.clock.now()
        try:
            form = _read(pairs, now.date())
        except InvalidInputError as exc:
            facility = await get_facility(deps, principal, facility_id)
            today = local_today(facility.timezone, now)
            status = problem_kind(exc).status
            return _page(request, facility, today, pairs, errors=exc.errors, status=status)
        if form.start is None:
            facility = await get_facility(deps, principal, facility_id)
            start = local_today(facility.timezone, now)
            board = await occupancy_board(deps, principal, _query(facility_id, start, form))
        else:  # both at once: the start does not wait for the facility's date
            facility, board = await asyncio.gather(
                get_facility(deps, principal, facility_id),
                occupancy_board(deps, principal, _query(facility_id, form.start, form)),
            )
        notice = request.query_params.get("notice")
        return _page(
            request,
            facility,
            local_today(facility.timezone, now),
            pairs,
            form=form,
            board=board,
            notice=notice if notice in NOTICES else None,
        )


def _pairs(request: Request[Any, Any, Any]) -> dict[str, str]:
    """The query's fields the form has, stripped, blank ones left out (the last of each)."""
    return {
        name: value.strip()
        for name, value in request.query_params.multi_items()
        if name in BOARD_FIELDS and isinstance(value, str) and value.strip()
    }


def _read(pairs: dict[str, str], utc_today: date) -> BoardForm:
    form = read_form(dict(pairs), BoardForm)
    if form.start is not None and abs((form.start - utc_today).days) > MAX_YEARS_AWAY * 366:
        raise InvalidInputError(
            [FieldError("start", t("desk.board.start_too_far", years=MAX_YEARS_AWAY))]
        )
    return form


def _query(facility_id: int, start: date, form: BoardForm) -> BoardQuery:
    return BoardQuery(
        facility_id=facility_id,
        start=start,
        end=start + timedelta(days=form.nights),
        kind=form.kind,
        capability=form.capability,
        label_prefix=form.prefix,
    )


@functools.lru_cache(maxsize=4096)
def _night(day: date, lang: Lang, today: date) -> Night:
    where = formats.locale(lang)
    return Night(
        iso=day.isoformat(),
        short=format_skeleton("Md", day, locale=where),
        weekday=format_date(day, "EEE", locale=where),
        weekend=day.weekday() >= 5,
        today=day == today,
    )


def _link(pairs: dict[str, str], **changes: str | None) -> str:
    kept = {**pairs, **changes}
    query = urlencode([(name, kept[name]) for name in BOARD_FIELDS if kept.get(name)])
    return f"/desk/board?{query}" if query else "/desk/board"


def _grid(board: Board, lang: Lang, today: date) -> tuple[list[Night], list[Row]]:
    nights = (board.end - board.start).days
    columns = [_night(board.start + timedelta(days=i), lang, today) for i in range(nights)]
    words = CellWords.said(words_in(lang))
    ends = Nights.of(board.start, nights, today, words)
    made: dict[int, str] = {}
    rows = [
        Row(bed.label, bed.kind, bed.active, bed.retired, row_cells(bed, ends, words, made))
        for bed in board.beds
    ]
    return columns, rows


def _page(
    request: Request[Any, Any, Any],
    facility: Facility,
    today: date,
    pairs: dict[str, str],
    *,
    form: BoardForm | None = None,
    board: Board | None = None,
    errors: list[FieldError] | None = None,
    status: int = 422,
    notice: str | None = None,
) -> Template:
    """The form, and under it the grid (or, when the form was refused, its errors)."""
    context: dict[str, Any] = {
        "facility": facility,
        "typed": {name: pairs.get(name, "") for name in BOARD_FIELDS},
        "capabilities": CAPABILITIES,
        "states": STATES,
        "max_nights": BOARD_MAX_NIGHTS,
        "max_prefix": MAX_PREFIX,
        "board": board,
        "notice": notice,
        "today_link": _link(pairs, start=None),
    }
    if board is None or form is None:
        return page(request, TEMPLATE, status=status, errors=errors, **context)
    columns, rows = _grid(board, language(request), today)
    step = timedelta(days=form.nights)
    context |= {
        "columns": columns,
        "rows": rows,
        "nights": form.nights,
        "first": board.start,
        "last": board.end - timedelta(days=1),
        "occupied": [n.booked for n in board.totals],
        "earlier": _link(pairs, start=(board.start - step).isoformat()),
        "later": _link(pairs, start=(board.start + step).isoformat()),
        "is_today": board.start == today,
        "filtered": any(pairs.get(name) for name in ("kind", "capability", "prefix")),
    }
    return page(request, TEMPLATE, **context)
