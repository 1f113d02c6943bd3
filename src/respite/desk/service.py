"""Use cases of the desk: a day's arrivals and departures, bookings found by the elder, and
the names of the elders of a period's bookings (for the desk's export).

Staff ask only about their own facility (another facility's id is not found, 404), admins
about any. Rows are scoped by the one rule of who sees an elder (``eligibility.subject``):
a day long past lists only the stays of elders the staff still see, and a search never finds
an elder they may not see, by name or by number. "Today" is the facility's local date at the
clock's instant (``deps.clock``), computed with the rows in the same query.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import asyncpg
import msgspec

from respite import paging
from respite.auth.model import Principal
from respite.desk import queries as q
from respite.desk.model import (
    BookedBy,
    DayPage,
    DayQuery,
    FoundBookings,
    Search,
    StayRow,
    booked_by,
    needs_words,
    read_query,
    refuse_other_facility,
    status_words,
)
from respite.eligibility.subject import Viewer
from respite.errors import InvalidInputError, NotFoundError
from respite.i18n import Text
from respite.params import MAX_ID
from respite.recipients.phones import contact_phone_hash

if TYPE_CHECKING:
    from respite.deps import Deps

__all__ = ["booking_origin", "elder_names_in_period", "find_bookings", "stays_on_day"]

SEARCH_PAGES = "page:desk-search"
_MATCHES = {"name": q.SEARCH_BY_NAME, "last4": q.SEARCH_BY_LAST4, "phone": q.SEARCH_BY_PHONE}
_DAYS = {"arrivals": q.SELECT_ARRIVALS, "departures": q.SELECT_DEPARTURES}


class _DayPosition(msgspec.Struct, frozen=True, array_like=True):
    """Where a page of a day's list ended: the day it lists, the bed label, the booking id."""

    day: date
    label: str
    id: int


def _stay_row(row: asyncpg.Record) -> StayRow:
    needs = list(row["needs"])
    return StayRow(
        booking_id=row["booking_id"],
        care_recipient_id=row["care_recipient_id"],
        elder_name=row["elder_name"],
        bed_id=row["bed_id"],
        bed_label=row["bed_label"],
        check_in=row["check_in"],
        check_out=row["check_out"],
        status=row["status"],
        status_words=status_words(row["status"]),
        needs=needs,
        needs_words=needs_words(needs),
        emergency_contact_name=row["emergency_contact_name"],
        emergency_contact_phone_last4=row["emergency_contact_phone_last4"],
        referral_id=row["referral_id"],
    )


async def stays_on_day(deps: Deps, principal: Principal, query: DayQuery) -> DayPage:
    """The stays arriving (check-in) or departing (check-out) at the facility on a local date,
    by bed label: booked, checked in, or already checked out; never cancelled or missed."""
    refuse_other_facility(principal, query.facility_id)
    purpose = f"page:desk-{query.which}"
    after = paging.decode(deps.settings, purpose, query.cursor, _DayPosition)
    viewer = Viewer.of(principal, deps.clock.now(), deps.settings)
    rows = await deps.pool.fetch(
        _DAYS[query.which],
        query.facility_id,
        *viewer.params(),
        query.day,
        None if after is None else after.label,
        None if after is None else after.id,
        paging.fetch_size(query.limit),
    )
    if not rows:
        raise NotFoundError("facility", query.facility_id)
    on_date: date = rows[0]["on_date"]
    if after is not None and after.day != on_date:
        raise paging.refusal()
    found = [_stay_row(row) for row in rows if row["booking_id"] is not None]
    page = paging.page(
        deps.settings,
        purpose,
        found,
        query.limit,
        lambda s: _DayPosition(on_date, s.bed_label, s.booking_id),
    )
    return DayPage(date=on_date, items=page.items, next_cursor=page.next_cursor)


async def find_bookings(deps: Deps, principal: Principal, search: Search) -> FoundBookings:
    """Bookings at the facility whose elder matches ``q``: part of the name, the last four
    digits of the emergency contact's number, or the whole number however it is spelled."""
    refuse_other_facility(principal, search.facility_id)
    query = read_query(search.q)
    if isinstance(query, Text):
        raise InvalidInputError.one("q", query)
    value: str | bytes = query.value
    if query.by == "phone":
        value = contact_phone_hash(deps.settings, query.value)
    before = paging.decode(deps.settings, SEARCH_PAGES, search.cursor, int)
    viewer = Viewer.of(principal, deps.clock.now(), deps.settings)
    rows = await deps.pool.fetch(
        _MATCHES[query.by],
        search.facility_id,
        *viewer.params(),
        value,
        MAX_ID if before is None else before,
        paging.fetch_size(search.limit),
    )
    page = paging.page(
        deps.settings,
        SEARCH_PAGES,
        [_stay_row(row) for row in rows],
        search.limit,
        lambda s: s.booking_id,
    )
    return FoundBookings(matched_by=query.by, items=page.items, next_cursor=page.next_cursor)


async def elder_stays(
    deps: Deps, principal: Principal, facility_id: int, care_recipient_id: int, limit: int
) -> list[StayRow]:
    """The elder's bookings at the facility, newest first, at most ``limit``: the stays the
    staff may see of them, as the search finds them."""
    refuse_other_facility(principal, facility_id)
    viewer = Viewer.of(principal, deps.clock.now(), deps.settings)
    rows = await deps.pool.fetch(
        q.SEARCH_BY_ELDER, facility_id, *viewer.params(), care_recipient_id, MAX_ID, limit
    )
    return [_stay_row(row) for row in rows]


async def elder_names_in_period(
    deps: Deps, principal: Principal, facility_id: int, start: date, end: date, limit: int
) -> dict[int, str]:
    """The elder's name of each booking at the facility with a night in ``[start, end)``, by
    booking id, at most ``limit``: only the elders the staff see (``eligibility.subject``),
    so a cancelled, missed or long-past stay has no name here, as on the desk's pages."""
    refuse_other_facility(principal, facility_id)
    viewer = Viewer.of(principal, deps.clock.now(), deps.settings)
    rows = await deps.pool.fetch(
        q.NAMES_IN_PERIOD, facility_id, *viewer.params(), start, end, limit
    )
    return {row["booking_id"]: row["elder_name"] for row in rows}


async def booking_origin(deps: Deps, principal: Principal, booking_id: int) -> BookedBy:
    """Who made a booking of the staff's facility (an admin: of any): a family, a hospital's
    referral, a walk-in at the desk, staff through a hold, an admin. Another facility's
    booking is not found."""
    facility_id = principal.facility_id if principal.role == "staff" else None
    if principal.role not in ("staff", "admin"):
        raise NotFoundError("booking", booking_id)
    row = await deps.pool.fetchrow(q.SELECT_BOOKED_BY, booking_id, principal.role, facility_id)
    if row is None:
        raise NotFoundError("booking", booking_id)
    return booked_by(row["role"], held=row["held"], hospital=row["hospital_id"] is not None)
