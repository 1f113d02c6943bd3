"""Bookings in PostgreSQL: the one module that reads and writes their rows.

Every function runs on the caller's connection (and, for writes, inside its transaction) and
answers Structs: no ``asyncpg.Record`` leaves this module.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg
import msgspec

from respite import paging
from respite.auth.model import Principal
from respite.booking import queries as q
from respite.booking.model import Booking, BookingFilter, Outcome, stay_price
from respite.db import Conn
from respite.eligibility.model import Stay
from respite.eligibility.overrides import Override
from respite.eligibility.service import Checked
from respite.eligibility.subject import principal_params
from respite.inventory.profile import FacilityContact

__all__ = [
    "LockedBooking",
    "apply_outcome",
    "audit_state",
    "insert_booking",
    "list_visible",
    "load_booking",
    "lock_recipient",
    "lock_visible",
    "visible_booking",
]

_VIEW_FIELDS = tuple(
    f for f in Booking.__struct_fields__ if f not in ("nights", "overrides", "facility")
)


class LockedBooking(msgspec.Struct, frozen=True, kw_only=True):
    """A booking this transaction holds the row lock of, and its facility's timezone."""

    booking: Booking
    timezone: str


def _booking(row: asyncpg.Record) -> Booking:
    return Booking(
        nights=(row["check_out"] - row["check_in"]).days,
        overrides=msgspec.convert(row["overrides"], tuple[Override, ...]),
        facility=FacilityContact(
            id=row["facility_id"],
            name=row["facility_name"],
            address=row["facility_address"],
            phone=row["facility_phone"],
        ),
        **{f: row[f] for f in _VIEW_FIELDS},
    )


async def load_booking(conn: Conn, booking_id: int) -> Booking:
    """Unscoped: only for a booking the caller has just written or already locked."""
    row = await conn.fetchrow(q.SELECT_BOOKING, booking_id)
    assert row is not None, "a booking written in this transaction is missing"
    return _booking(row)


async def visible_booking(conn: Conn, principal: Principal, booking_id: int) -> Booking | None:
    row = await conn.fetchrow(q.SELECT_VISIBLE_BOOKING, *principal_params(principal), booking_id)
    return None if row is None else _booking(row)


async def list_visible(
    conn: Conn, principal: Principal, filters: BookingFilter, after: int
) -> list[Booking]:
    """The bookings the principal may see by ascending id after ``after``, one page's worth
    (``paging.fetch_size``)."""
    rows = await conn.fetch(
        q.LIST_VISIBLE_BOOKINGS,
        *principal_params(principal),
        filters.status,
        filters.facility_id,
        filters.start,
        filters.end,
        after,
        paging.fetch_size(filters.limit),
    )
    return [_booking(row) for row in rows]


async def lock_visible(conn: Conn, principal: Principal, booking_id: int) -> LockedBooking | None:
    """Lock the booking's row if the principal may see it: two steps of one booking take
    turns, and the second is judged against what the first left."""
    row = await conn.fetchrow(q.LOCK_VISIBLE_BOOKING, *principal_params(principal), booking_id)
    return None if row is None else LockedBooking(booking=_booking(row), timezone=row["timezone"])


async def lock_recipient(conn: Conn, care_recipient_id: int) -> None:
    """Serialise new bookings of one elder, so two at once cannot both use the last nights
    of a quota (their nights the elder's ledger keeps apart whatever the order)."""
    await conn.execute(q.LOCK_RECIPIENT, care_recipient_id)


async def insert_booking(
    conn: Conn,
    principal: Principal,
    checked: Checked,
    stay: Stay,
    *,
    hold_id: str | None,
    override_reason: str | None,
    overrides: Sequence[Override],
) -> int:
    bed = checked.bed
    booking_id: int = await conn.fetchval(
        q.INSERT_BOOKING,
        bed.bed_id,
        bed.facility_id,
        checked.subject.care_recipient_id,
        stay.check_in,
        stay.check_out,
        bed.nightly_price,
        stay_price(bed.nightly_price, stay.check_in, stay.check_out),
        checked.policy.id,
        checked.decision,
        override_reason,
        principal.id,
        principal.hospital_id,
        hold_id,
        list(overrides),
    )
    return booking_id


async def apply_outcome(
    conn: Conn, principal: Principal, booking: Booking, outcome: Outcome, reason: str | None
) -> Booking:
    """Write a legal transition's outcome (its nights are the caller's to free)."""
    total = booking.total_price
    if outcome.check_out != booking.check_out:
        # An early check-out is charged for the nights actually stayed.
        total = stay_price(booking.nightly_price, booking.check_in, outcome.check_out)
    await conn.execute(
        q.APPLY_TRANSITION,
        booking.id,
        outcome.status,
        outcome.check_out,
        total,
        principal.id,
        reason,
    )
    return await load_booking(conn, booking.id)


def audit_state(booking: Booking) -> dict[str, Any]:
    """What the audit log keeps of a booking before and after a change."""
    return {
        "status": booking.status,
        "check_in": booking.check_in,
        "check_out": booking.check_out,
        "nights": booking.nights,
        "total_price": booking.total_price,
        "cancel_reason": booking.cancel_reason,
    }
