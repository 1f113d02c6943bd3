"""Writing a referral's changes and their events, in the transaction of the change itself.

Each function here runs inside its caller's transaction: it locks the referral row, moves the
referral through its life cycle (``model.advance``; an illegal step is a 409 that rolls the
caller's change back), records the change in the audit log, and writes the event to the
outbox with one delivery per active callback endpoint of the hospital. Either the change and
its event are both committed or neither is, so a crash between the change and the delivery
loses nothing: the delivery worker finds the event in the table.

Bookings that belong to no referral write nothing, at the cost of no query at all. Every
event is dated by the ``now`` its caller passes (the app's one clock).
"""

from __future__ import annotations

import secrets
from datetime import date, datetime

import asyncpg
import msgspec

from respite import audit
from respite.auth.model import Principal
from respite.booking.events import BookingChange, HeldStay
from respite.clock import local_today
from respite.db import Conn
from respite.eligibility.model import DEFAULT_TIMEZONE
from respite.errors import InvalidInputError, NotFoundError
from respite.i18n import t
from respite.referral import queries as q
from respite.referral.errors import ReferralStepNotAllowedError
from respite.referral.model import (
    TRIGGER_OF_EVENT,
    EventType,
    IllegalReferralTransition,
    ReferralStatus,
    Trigger,
    WaitlistEventType,
    advance,
)
from respite.referral.webhook_model import (
    Actor,
    Event,
    EventBed,
    EventBooking,
    EventData,
    EventHold,
    EventOffer,
    actor_of,
)

__all__ = [
    "LockedReferral",
    "Step",
    "change_referral",
    "check_hold_request",
    "lock_referral",
    "locked",
    "record_booking_change",
    "record_hold",
    "record_offer",
    "referral_today",
    "write_event",
]


def referral_today(facility_timezone: str | None, now: datetime) -> date:
    """A referral's "today": the local date of the facility it is placed at (where a bed is
    held or booked for it), and of the deployment's default timezone while it is nowhere."""
    return local_today(facility_timezone or DEFAULT_TIMEZONE, now)


class LockedReferral(msgspec.Struct, frozen=True, kw_only=True):
    """A referral row this transaction holds the lock of."""

    id: int
    hospital_id: int
    care_recipient_id: int
    status: ReferralStatus
    booking_id: int | None
    facility_id: int | None = None


class Step(msgspec.Struct, frozen=True, kw_only=True):
    """One step of a referral's life cycle, with what its event tells."""

    trigger: Trigger
    event: EventType
    booking: EventBooking | None = None
    hold: EventHold | None = None
    reason: str | None = None


def locked(row: asyncpg.Record) -> LockedReferral:
    return LockedReferral(
        id=row["id"],
        hospital_id=row["hospital_id"],
        care_recipient_id=row["care_recipient_id"],
        status=row["status"],
        booking_id=row["booking_id"],
        facility_id=row["facility_id"],
    )


async def lock_referral(conn: Conn, principal: Principal, referral_id: int) -> LockedReferral:
    """The principal's hospital's referral, locked; 404 for anyone else's (or a non-hospital)."""
    row = None
    if principal.role == "hospital" and principal.hospital_id is not None:
        row = await conn.fetchrow(q.LOCK_REFERRAL, referral_id, principal.hospital_id)
    if row is None:
        raise NotFoundError("referral", referral_id)
    return locked(row)


def _next(referral: LockedReferral, trigger: Trigger) -> ReferralStatus:
    try:
        return advance(referral.status, trigger)
    except IllegalReferralTransition as exc:
        raise ReferralStepNotAllowedError(
            referral_id=referral.id,
            current_status=referral.status,
            step=trigger,
            allowed_steps=exc.allowed,
        ) from None


async def write_event(
    conn: Conn, referral: LockedReferral, event_type: EventType, data: EventData, now: datetime
) -> str:
    """Put one event in the outbox, with a delivery to each active endpoint; its id."""
    event = Event(id="evt_" + secrets.token_hex(12), type=event_type, created_at=now, data=data)
    body = msgspec.json.encode(event).decode()
    await conn.execute(
        q.INSERT_EVENT, event.id, referral.hospital_id, referral.id, event_type, body, now
    )
    return event.id


def _facility_after(referral: LockedReferral, step: Step, status: ReferralStatus) -> int | None:
    """Where the referral is placed after the step: reopened, nowhere; else its new hold's or
    booking's facility, or where it was."""
    if status == "open":
        return None
    if step.hold is not None:
        return step.hold.bed.facility_id
    if step.booking is not None:
        return step.booking.bed.facility_id
    return referral.facility_id


async def change_referral(
    conn: Conn,
    principal: Principal | None,
    referral: LockedReferral,
    step: Step,
    now: datetime,
) -> ReferralStatus:
    """Advance a locked referral by ``step``, audit it, and write its event."""
    status = _next(referral, step.trigger)
    # Reopened after its booking was cancelled: free to link another booking.
    booking = step.booking
    booking_id = None if status == "open" else (booking.id if booking else referral.booking_id)
    kept_reason = step.reason if status in ("cancelled", "expired") else None
    hold_id = step.hold.hold_id if step.hold else None
    facility_id = _facility_after(referral, step, status)
    await conn.execute(
        q.UPDATE_REFERRAL_STATUS,
        referral.id,
        status,
        booking_id,
        hold_id,
        kept_reason,
        facility_id,
    )
    before = {"status": referral.status, "booking_id": referral.booking_id}
    after = {"status": status, "booking_id": booking_id, "reason": kept_reason}
    await audit.record(
        conn, principal, step.trigger, "referral", referral.id, before=before, after=after
    )
    data = EventData(
        referral_id=referral.id,
        referral_status=status,
        previous_status=referral.status,
        care_recipient_id=referral.care_recipient_id,
        booking=booking,
        hold=step.hold,
        actor=actor_of(principal.role if principal else None),
        reason=step.reason,
    )
    await write_event(conn, referral, step.event, data, now)
    return status


async def _bed(conn: Conn, bed_id: int, label: str, facility_id: int) -> EventBed:
    name = await conn.fetchval(q.SELECT_FACILITY_NAME, facility_id)
    return EventBed(id=bed_id, label=label, facility_id=facility_id, facility_name=name or "")


async def record_booking_change(conn: Conn, change: BookingChange, now: datetime) -> None:
    """A booking was made (``change.referral_id`` links it) or moved on: advance its referral.

    Raises ReferralStepNotAllowedError (409) when the referral may not take the change, e.g.
    a hold confirmed for a referral that was cancelled meanwhile; the caller then rolls back.
    """
    booking, event = change.booking, change.event
    if change.referral_id is not None:
        referral = await lock_referral(conn, change.principal, change.referral_id)
    elif booking.hospital_id is None or event == "booking.confirmed":
        return  # only a hospital's bookings belong to referrals, linked when confirmed
    else:
        row = await conn.fetchrow(q.LOCK_REFERRAL_OF_BOOKING, booking.id)
        if row is None:
            return
        referral = locked(row)
    bed = await _bed(conn, booking.bed_id, booking.bed_label, booking.facility_id)
    summary = EventBooking(
        id=booking.id,
        status=booking.status,
        bed=bed,
        check_in=booking.check_in,
        check_out=booking.check_out,
        nights=booking.nights,
    )
    reason = change.reason or ("no_show" if event == "booking.no_show" else None)
    step = Step(trigger=TRIGGER_OF_EVENT[event], event=event, booking=summary, reason=reason)
    await change_referral(conn, change.principal, referral, step, now)


async def check_hold_request(
    conn: Conn, principal: Principal, referral_id: int, care_recipient_id: int
) -> LockedReferral:
    """Before a hold is placed for a referral: it is the hospital's (404), still waiting for a
    bed (409), and for this care recipient (422). Locks it until the hold is placed."""
    referral = await lock_referral(conn, principal, referral_id)
    _next(referral, "hold")
    if referral.care_recipient_id != care_recipient_id:
        raise InvalidInputError.one(
            "care_recipient_id",
            t(
                "referral.other_recipient",
                referral_id=referral_id,
                care_recipient_id=referral.care_recipient_id,
            ),
        )
    return referral


async def record_offer(
    conn: Conn, referral_id: int, event_type: WaitlistEventType, offer: EventOffer, now: datetime
) -> None:
    """The waiting list offered the referral's patient a bed, or the offer lapsed: the
    hospital is told; the referral's status stays as it is."""
    row = await conn.fetchrow(q.LOCK_REFERRAL_BY_ID, referral_id)
    if row is None:
        return
    referral = locked(row)
    data = EventData(
        referral_id=referral.id,
        referral_status=referral.status,
        previous_status=referral.status,
        care_recipient_id=referral.care_recipient_id,
        offer=offer,
        actor=Actor(party="system", role=None),
    )
    await write_event(conn, referral, event_type, data, now)


async def record_hold(conn: Conn, principal: Principal, held: HeldStay, now: datetime) -> None:
    """After a hold is placed for a referral: the referral is held, and the hospital told."""
    if held.referral_id is None:
        return
    referral = await lock_referral(conn, principal, held.referral_id)
    bed = await _bed(conn, held.bed_id, held.bed_label, held.facility_id)
    summary = EventHold(
        hold_id=held.hold_id,
        expires_at=held.expires_at,
        bed=bed,
        check_in=held.check_in,
        check_out=held.check_out,
    )
    step = Step(trigger="hold", event="referral.held", hold=summary)
    await change_referral(conn, principal, referral, step, now)
