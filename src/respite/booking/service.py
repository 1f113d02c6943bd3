"""Use cases of bookings: book (inside a caller's transaction), take a walk-in, read, and move
a booking through its life cycle.

Every write locks what it changes (the booking row, or the elder's row for a new booking), runs
the pure rules of ``model.py``, writes, and records the change in the audit log in the same
transaction. Reads and writes are scoped by the principal: another tenant's booking is
reported exactly like one that does not exist.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from typing import Any

import asyncpg
import msgspec

from respite import audit, idempotency
from respite.auth.model import Principal
from respite.booking import queries as q
from respite.booking.errors import IneligibleError
from respite.booking.model import (
    MAX_DAYS_AHEAD,
    MIN_OVERRIDE_REASON,
    Action,
    Booking,
    BookingFilter,
    BookingPage,
    IllegalTransition,
    NewBooking,
    WalkIn,
    transition,
)
from respite.db import Conn, Pool
from respite.eligibility.model import Decision, Stay
from respite.eligibility.service import BedFacts, Checked, check_bed, local_today
from respite.eligibility.subject import principal_params
from respite.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from respite.nights import Claim, NightTaken, claim_nights, free_nights
from respite.referral import outbox
from respite.referral.model import BookingEventType

__all__ = [
    "cancel",
    "change_status",
    "check_in",
    "check_out",
    "create_booking",
    "get_booking",
    "list_bookings",
    "lock_recipient",
    "mark_no_show",
    "today_at",
    "walk_in",
]

_VIEW_FIELDS = tuple(f for f in Booking.__struct_fields__ if f != "nights")
# The callback a referral's hospital receives for each action on its booking.
_EVENTS: dict[Action, BookingEventType] = {
    "check_in": "booking.checked_in",
    "check_out": "booking.checked_out",
    "no_show": "booking.no_show",
    "cancel": "booking.cancelled",
}


def today_at(timezone: str) -> date:
    """Today's date in a facility's timezone; the one clock of this module (tests replace it)."""
    return local_today(timezone, datetime.now(UTC))


async def create_booking(
    conn: Conn,
    principal: Principal,
    request: NewBooking,
    checked: Checked,
    *,
    referral_id: int | None = None,
) -> Booking:
    """Book ``checked.bed`` for the stay, inside the CALLER's transaction.

    Refuses (IneligibleError, 422) when the decision refuses and nobody overrides it; only an
    admin or staff of the bed's facility may override (else PermissionDeniedError). Claims the
    nights (ConflictError 409 naming the conflicting booking or block if one is taken) and
    records the audit entry. Refuses (409) a stay overlapping another live stay of the same
    elder. On any error the caller must roll its transaction back. The caller should hold
    ``lock_recipient`` since before it checked eligibility (it also serialises that check).
    ``referral_id`` links the booking to a hospital's referral (409 if it cannot take one).
    """
    if not conn.is_in_transaction():
        raise RuntimeError("create_booking must run inside the caller's transaction")
    bed = checked.bed
    if (bed.bed_id, checked.subject.care_recipient_id) != (
        request.bed_id,
        request.care_recipient_id,
    ):
        raise ValueError("the eligibility check was made for another bed or care recipient")
    override = _override_reason(principal, request, checked.decision, bed.facility_id)
    other = await conn.fetchrow(
        q.SELECT_OVERLAPPING_STAY, request.care_recipient_id, request.check_in, request.check_out
    )
    if other is not None:
        raise ConflictError(
            f"this elder already has a stay booked from {other['check_in']} to "
            f"{other['check_out']}: an elder takes one bed a night",
            conflicting_stay={
                "check_in": other["check_in"].isoformat(),
                "check_out": other["check_out"].isoformat(),
            },
        )
    booking_id = await _insert(conn, principal, request, checked, override)
    try:
        await claim_nights(
            conn, bed.bed_id, request.check_in, request.check_out, booking_id=booking_id
        )
    except NightTaken as exc:
        raise _taken(bed, exc.claim) from None
    booking = await _load(conn, booking_id)
    after = {
        **_state(booking),
        "bed_id": bed.bed_id,
        "care_recipient_id": request.care_recipient_id,
        "hold_id": request.hold_id,
        "policy_id": checked.policy.id,
        "eligible": checked.decision.eligible,
        "refused": _refused(checked.decision),
        "override_reason": override,
    }
    await audit.record(
        conn, principal, "create", "booking", booking_id, facility_id=bed.facility_id, after=after
    )
    await outbox.booking_changed(
        conn, booking, "booking.confirmed", principal, referral_id=referral_id
    )
    return booking


async def _insert(
    conn: Conn,
    principal: Principal,
    request: NewBooking,
    checked: Checked,
    override_reason: str | None,
) -> int:
    bed = checked.bed
    nights = (request.check_out - request.check_in).days
    booking_id: int = await conn.fetchval(
        q.INSERT_BOOKING,
        bed.bed_id,
        bed.facility_id,
        request.care_recipient_id,
        request.check_in,
        request.check_out,
        bed.nightly_price,
        bed.nightly_price * nights,
        checked.policy.id,
        checked.decision,
        override_reason,
        principal.id,
        principal.hospital_id,
        request.hold_id,
    )
    return booking_id


async def lock_recipient(conn: Conn, care_recipient_id: int) -> None:
    """Serialise new bookings of one elder, so two at once cannot both use the last nights
    of a quota. Take it before checking eligibility, in the booking's transaction."""
    await conn.execute(q.LOCK_RECIPIENT, care_recipient_id)


async def walk_in(
    pool: Pool,
    principal: Principal,
    facility_id: int,
    form: WalkIn,
    *,
    idempotency_key: str | None = None,
) -> Booking:
    """Staff book (and, if asked, check in) an elder who is at the facility's desk."""
    if principal.role == "staff" and principal.facility_id != facility_id:
        raise NotFoundError("facility", facility_id)
    async with _busy(), pool.acquire() as conn, conn.transaction():
        if idempotency_key is not None:
            earlier = await _replayed(
                conn, principal, idempotency_key, "booking.walk_in", facility_id, form
            )
            if earlier is not None:
                return earlier
        place = await conn.fetchrow(q.SELECT_WALK_IN_PLACE, facility_id, form.bed_id)
        if place is None:
            raise NotFoundError("facility", facility_id)
        if place["bed_id"] is None:
            raise NotFoundError("bed", form.bed_id)
        today = today_at(place["timezone"])
        _check_dates(form, today)
        await lock_recipient(conn, form.care_recipient_id)
        stay = Stay(check_in=form.check_in, check_out=form.check_out)
        checked = await check_bed(conn, principal, form.care_recipient_id, form.bed_id, stay, today)
        request = NewBooking(
            care_recipient_id=form.care_recipient_id,
            bed_id=form.bed_id,
            check_in=form.check_in,
            check_out=form.check_out,
            override_reason=form.override_reason,
        )
        booking = await create_booking(conn, principal, request, checked)
        if form.check_in_now:
            booking = await _apply(conn, principal, booking, "check_in", today, None)
        if idempotency_key is not None:
            await idempotency.remember(conn, principal, idempotency_key, 201, booking)
        return booking


def _check_dates(form: WalkIn, today: date) -> None:
    if (form.check_in - today).days > MAX_DAYS_AHEAD:
        raise InvalidInputError.one(
            "check_in", f"must be at most {MAX_DAYS_AHEAD} days after today ({today})"
        )
    if form.check_in_now and not form.check_in <= today < form.check_out:
        raise InvalidInputError.one(
            "check_in_now", f"checking in now needs a stay that includes today ({today})"
        )


async def get_booking(pool: Pool, principal: Principal, booking_id: int) -> Booking:
    row = await pool.fetchrow(q.SELECT_VISIBLE_BOOKING, *principal_params(principal), booking_id)
    if row is None:
        raise NotFoundError("booking", booking_id)
    return _booking(row)


async def list_bookings(pool: Pool, principal: Principal, filters: BookingFilter) -> BookingPage:
    """One page of the bookings the principal may see, by ascending id after ``filters.after``."""
    rows = await pool.fetch(
        q.LIST_VISIBLE_BOOKINGS,
        *principal_params(principal),
        filters.status,
        filters.facility_id,
        filters.start,
        filters.end,
        filters.after,
        filters.limit + 1,  # one more than asked says whether another page follows
    )
    items = [_booking(row) for row in rows[: filters.limit]]
    more = len(rows) > filters.limit
    return BookingPage(items=items, next_after=items[-1].id if more else None)


async def change_status(
    pool: Pool,
    principal: Principal,
    booking_id: int,
    action: Action,
    *,
    reason: str | None = None,
    idempotency_key: str | None = None,
) -> Booking:
    """Apply one life-cycle action; 409 with ``current_status`` when the action is illegal.

    The booking row is locked first, so two actions on one booking take turns and the second
    is judged against the state the first left. With an idempotency key, a retry of an action
    that succeeded answers the booking as that action left it.
    """
    async with _busy(), pool.acquire() as conn, conn.transaction():
        if idempotency_key is not None:
            earlier = await _replayed(
                conn, principal, idempotency_key, f"booking.{action}", booking_id, reason
            )
            if earlier is not None:
                return earlier
        row = await conn.fetchrow(q.LOCK_VISIBLE_BOOKING, *principal_params(principal), booking_id)
        if row is None:
            raise NotFoundError("booking", booking_id)
        today = today_at(row["timezone"])
        booking = await _apply(conn, principal, _booking(row), action, today, reason)
        if idempotency_key is not None:
            await idempotency.remember(conn, principal, idempotency_key, 200, booking)
        return booking


async def check_in(pool: Pool, principal: Principal, booking_id: int) -> Booking:
    return await change_status(pool, principal, booking_id, "check_in")


async def check_out(pool: Pool, principal: Principal, booking_id: int) -> Booking:
    return await change_status(pool, principal, booking_id, "check_out")


async def mark_no_show(pool: Pool, principal: Principal, booking_id: int) -> Booking:
    return await change_status(pool, principal, booking_id, "no_show")


async def cancel(
    pool: Pool,
    principal: Principal,
    booking_id: int,
    reason: str,
    *,
    idempotency_key: str | None = None,
) -> Booking:
    return await change_status(
        pool,
        principal,
        booking_id,
        "cancel",
        reason=reason.strip(),
        idempotency_key=idempotency_key,
    )


async def _apply(
    conn: Conn,
    principal: Principal,
    booking: Booking,
    action: Action,
    today: date,
    reason: str | None,
) -> Booking:
    """Move a booking the caller has locked (or just created) through ``action``."""
    try:
        outcome = transition(booking.status, action, today, booking.check_in, booking.check_out)
    except IllegalTransition as exc:
        raise ConflictError(
            exc.why, current_status=exc.current_status, action=exc.action, booking_id=booking.id
        ) from None
    if outcome.free_from is not None and outcome.free_until is not None:
        await free_nights(
            conn, booking.bed_id, outcome.free_from, outcome.free_until, booking_id=booking.id
        )
    total = booking.total_price
    if outcome.check_out != booking.check_out:
        # An early check-out is charged for the nights actually stayed.
        total = booking.nightly_price * (outcome.check_out - booking.check_in).days
    await conn.execute(
        q.APPLY_TRANSITION,
        booking.id,
        outcome.status,
        outcome.check_out,
        total,
        principal.id,
        reason,
    )
    changed = await _load(conn, booking.id)
    await audit.record(
        conn,
        principal,
        action,
        "booking",
        booking.id,
        facility_id=booking.facility_id,
        before=_state(booking),
        after={**_state(changed), "nights_freed": outcome.nights_freed},
    )
    await outbox.booking_changed(conn, changed, _EVENTS[action], principal, reason=reason)
    return changed


async def _replayed(
    conn: Conn, principal: Principal, key: str, operation: str, *request: object
) -> Booking | None:
    """Claim the key; the booking an earlier success with this key answered, if any."""
    request_hash = idempotency.body_hash(operation, *request)
    earlier = await idempotency.claim(conn, principal, key, operation, request_hash)
    return None if earlier is None else msgspec.convert(earlier.response, Booking)


def _override_reason(
    principal: Principal, request: NewBooking, decision: Decision, facility_id: int
) -> str | None:
    """The override reason to store: only for a refused decision, only from who may override."""
    if request.override_reason is None:
        if not decision.eligible:
            reasons = msgspec.to_builtins(decision.reasons)
            raise IneligibleError(decision.policy_code, reasons)
        return None
    may_override = principal.role == "admin" or (
        principal.role == "staff" and principal.facility_id == facility_id
    )
    if not may_override:
        raise PermissionDeniedError(
            "only staff of the bed's facility or an admin may override an eligibility refusal"
        )
    if decision.eligible:
        return None
    reason = request.override_reason.strip()
    if len(reason) < MIN_OVERRIDE_REASON:
        raise InvalidInputError.one(
            "override_reason", f"write at least {MIN_OVERRIDE_REASON} characters"
        )
    return reason


def _taken(bed: BedFacts, claim: Claim) -> ConflictError:
    holder = "another booking" if claim.booking_id is not None else "a block"
    return ConflictError(
        f"bed {bed.label} is taken on the night of {claim.night} by {holder}",
        night=claim.night.isoformat(),
        conflicting_booking=claim.booking_id,
        conflicting_block=claim.block_id,
    )


def _refused(decision: Decision) -> list[str]:
    return [r.code for r in decision.reasons if not r.ok]


def _state(booking: Booking) -> dict[str, Any]:
    """What the audit log keeps of a booking before and after a change."""
    return {
        "status": booking.status,
        "check_in": booking.check_in,
        "check_out": booking.check_out,
        "nights": booking.nights,
        "total_price": booking.total_price,
        "cancel_reason": booking.cancel_reason,
    }


def _booking(row: asyncpg.Record) -> Booking:
    return Booking(
        nights=(row["check_out"] - row["check_in"]).days, **{f: row[f] for f in _VIEW_FIELDS}
    )


async def _load(conn: Conn, booking_id: int) -> Booking:
    row = await conn.fetchrow(q.SELECT_BOOKING, booking_id)
    assert row is not None, "a booking written in this transaction is missing"
    return _booking(row)


@asynccontextmanager
async def _busy() -> AsyncIterator[None]:
    """A lock not granted in time (the pool's lock_timeout) is a clear 'retry', not a 500."""
    try:
        yield
    except (asyncpg.LockNotAvailableError, asyncpg.DeadlockDetectedError):
        raise ConflictError(
            "the booking is being changed by another request; retry shortly", retry_after=1
        ) from None
