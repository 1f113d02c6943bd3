"""Writing a referral's changes and their events, in the transaction of the change itself.

Each function here runs inside its caller's transaction: it locks the referral row, moves the
referral through its life cycle (``model.advance``; an illegal step is a 409 that rolls the
caller's change back), records the change in the audit log, and writes the event to the
outbox with one delivery per active callback endpoint of the hospital. Either the change and
its event are both committed or neither is, so a crash between the change and the delivery
loses nothing: the delivery worker finds the event in the table.

Bookings that belong to no referral write nothing, at the cost of no query at all.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

import asyncpg
import msgspec

from respite import audit
from respite.auth.model import Principal
from respite.booking.hold_model import Hold
from respite.booking.model import Booking
from respite.db import Conn
from respite.errors import ConflictError, InvalidInputError, NotFoundError
from respite.referral import queries as q
from respite.referral.event_model import (
    Event,
    EventBed,
    EventBooking,
    EventData,
    EventHold,
    actor_of,
)
from respite.referral.model import (
    TRIGGER_OF_EVENT,
    BookingEventType,
    EventType,
    IllegalReferralTransition,
    ReferralStatus,
    Trigger,
    advance,
)

__all__ = [
    "LockedReferral",
    "booking_changed",
    "change_referral",
    "lock_referral",
    "referral_for_hold",
    "referral_held",
    "write_event",
]


class LockedReferral(msgspec.Struct, frozen=True, kw_only=True):
    """A referral row this transaction holds the lock of."""

    id: int
    hospital_id: int
    care_recipient_id: int
    status: ReferralStatus
    booking_id: int | None


def _locked(row: asyncpg.Record) -> LockedReferral:
    return LockedReferral(
        id=row["id"],
        hospital_id=row["hospital_id"],
        care_recipient_id=row["care_recipient_id"],
        status=row["status"],
        booking_id=row["booking_id"],
    )


async def lock_referral(conn: Conn, principal: Principal, referral_id: int) -> LockedReferral:
    """The principal's hospital's referral, locked; 404 for anyone else's (or a non-hospital)."""
    row = None
    if principal.role == "hospital" and principal.hospital_id is not None:
        row = await conn.fetchrow(q.LOCK_REFERRAL, referral_id, principal.hospital_id)
    if row is None:
        raise NotFoundError("referral", referral_id)
    return _locked(row)


def _next(referral: LockedReferral, trigger: Trigger) -> ReferralStatus:
    try:
        return advance(referral.status, trigger)
    except IllegalReferralTransition as exc:
        raise ConflictError(
            str(exc), referral_id=referral.id, current_status=referral.status
        ) from None


async def write_event(
    conn: Conn, referral: LockedReferral, event_type: EventType, data: EventData
) -> str:
    """Put one event in the outbox, with a delivery to each active endpoint; its id."""
    event = Event(
        id="evt_" + secrets.token_hex(12),
        type=event_type,
        created_at=datetime.now(UTC),
        data=data,
    )
    body = msgspec.json.encode(event).decode()
    await conn.execute(
        q.INSERT_EVENT,
        event.id,
        referral.hospital_id,
        referral.id,
        event_type,
        body,
        event.created_at,
    )
    return event.id


async def change_referral(
    conn: Conn,
    principal: Principal | None,
    referral: LockedReferral,
    change: tuple[Trigger, EventType],
    *,
    booking: EventBooking | None = None,
    hold: EventHold | None = None,
    reason: str | None = None,
) -> ReferralStatus:
    """Advance a locked referral by ``trigger``, audit it, and write its event."""
    trigger, event_type = change
    status = _next(referral, trigger)
    # Reopened after its booking was cancelled: free to link another booking.
    booking_id = None if status == "open" else (booking.id if booking else referral.booking_id)
    kept_reason = reason if status in ("cancelled", "expired") else None
    hold_id = hold.hold_id if hold else None
    await conn.execute(
        q.UPDATE_REFERRAL_STATUS, referral.id, status, booking_id, hold_id, kept_reason
    )
    before = {"status": referral.status, "booking_id": referral.booking_id}
    after = {"status": status, "booking_id": booking_id, "reason": kept_reason}
    await audit.record(
        conn, principal, trigger, "referral", referral.id, before=before, after=after
    )
    data = EventData(
        referral_id=referral.id,
        referral_status=status,
        previous_status=referral.status,
        care_recipient_id=referral.care_recipient_id,
        booking=booking,
        hold=hold,
        actor=actor_of(principal.role if principal else None),
        reason=reason,
    )
    await write_event(conn, referral, event_type, data)
    return status


async def _bed(conn: Conn, bed_id: int, label: str, facility_id: int) -> EventBed:
    name = await conn.fetchval(q.SELECT_FACILITY_NAME, facility_id)
    return EventBed(id=bed_id, label=label, facility_id=facility_id, facility_name=name or "")


async def booking_changed(
    conn: Conn,
    booking: Booking,
    event_type: BookingEventType,
    principal: Principal,
    *,
    reason: str | None = None,
    referral_id: int | None = None,
) -> None:
    """A booking was made (``referral_id`` links it) or moved on: advance its referral.

    Raises ConflictError (409) when the referral may not take the change, e.g. a hold
    confirmed for a referral that was cancelled meanwhile; the caller then rolls back.
    """
    if referral_id is not None:
        referral = await lock_referral(conn, principal, referral_id)
    elif booking.hospital_id is None or event_type == "booking.confirmed":
        return  # only a hospital's bookings belong to referrals, linked when confirmed
    else:
        row = await conn.fetchrow(q.LOCK_REFERRAL_OF_BOOKING, booking.id)
        if row is None:
            return
        referral = _locked(row)
    bed = await _bed(conn, booking.bed_id, booking.bed_label, booking.facility_id)
    summary = EventBooking(
        id=booking.id,
        status=booking.status,
        bed=bed,
        check_in=booking.check_in,
        check_out=booking.check_out,
        nights=booking.nights,
    )
    change = (TRIGGER_OF_EVENT[event_type], event_type)
    if event_type == "booking.no_show":
        reason = reason or "no_show"
    await change_referral(conn, principal, referral, change, booking=summary, reason=reason)


async def referral_for_hold(
    conn: Conn, principal: Principal, referral_id: int, care_recipient_id: int
) -> LockedReferral:
    """Before a hold is placed for a referral: it is the hospital's (404), still waiting for a
    bed (409), and for this care recipient (422). Locks it until the hold is placed."""
    referral = await lock_referral(conn, principal, referral_id)
    _next(referral, "hold")
    if referral.care_recipient_id != care_recipient_id:
        raise InvalidInputError.one(
            "care_recipient_id",
            f"referral {referral_id} is for care recipient {referral.care_recipient_id}",
        )
    return referral


async def referral_held(
    conn: Conn, principal: Principal, referral: LockedReferral, hold: Hold
) -> None:
    """After the hold is placed: the referral is held, and the hospital is told."""
    bed = await _bed(conn, hold.bed.id, hold.bed.label, hold.bed.facility_id)
    summary = EventHold(
        hold_id=hold.hold_id,
        expires_at=datetime.fromtimestamp(hold.expires_at, UTC),
        bed=bed,
        check_in=hold.check_in,
        check_out=hold.check_out,
    )
    await change_referral(conn, principal, referral, ("hold", "referral.held"), hold=summary)
