"""Use cases of bookings: take a walk-in, read, and move a booking through its life cycle.

Each is ``(deps, principal, command) -> Struct``. A new booking is ``book()``'s to make; a
life-cycle step locks the booking's row, runs the pure ``transition`` on the facility's local
date, writes, and records the change in the audit log in the same transaction. Reads and writes
are scoped by the principal: another tenant's booking is reported exactly like one that does not
exist. A lock that is not granted in time answers ``busy`` (503), never a conflict.
"""

from __future__ import annotations

from datetime import date

from respite import audit, idempotency, paging
from respite.auth.model import Principal
from respite.booking import queries as q
from respite.booking import store
from respite.booking.book import book, busy, log_override
from respite.booking.errors import StepNotAllowedError
from respite.booking.events import BookingChange, BookingEventType
from respite.booking.model import (
    LIVE_STATUSES,
    MAX_DAYS_AHEAD,
    Action,
    Booking,
    BookingFilter,
    CancelBooking,
    ChangeStatus,
    IllegalTransition,
    NewBooking,
    Outcome,
    TakeWalkIn,
    WalkIn,
    transition,
)
from respite.clock import local_today
from respite.db import Conn
from respite.deps import Deps
from respite.errors import InvalidInputError, NotFoundError
from respite.i18n import t
from respite.nights import FreedCause, free_elder_nights, free_nights
from respite.paging import Page

__all__ = [
    "cancel",
    "change_status",
    "check_in",
    "check_out",
    "get_booking",
    "list_bookings",
    "mark_no_show",
    "walk_in",
]

BOOKING_PAGES = "page:bookings"
"""The purpose of the list's cursors (``respite.paging``): another list's never works here."""

# The callback a referral's hospital receives for each action on its booking.
_EVENTS: dict[Action, BookingEventType] = {
    "check_in": "booking.checked_in",
    "check_out": "booking.checked_out",
    "no_show": "booking.no_show",
    "cancel": "booking.cancelled",
}


# Why the waiting list hears of nights a step frees: by where the step leads.
_FREED_BY: dict[str, FreedCause] = {
    "cancelled": "cancelled",
    "no_show": "no_show",
    "checked_out": "checked_out_early",
}


async def walk_in(deps: Deps, principal: Principal, command: TakeWalkIn) -> Booking:
    """Staff book (and, if asked, check in) an elder who is at the facility's desk, overriding
    the refusals the request names in the forms the policy allows (see ``book``)."""
    facility_id, form = command.facility_id, command.walk_in
    if principal.role == "staff" and principal.facility_id != facility_id:
        raise NotFoundError("facility", facility_id)
    now = deps.clock.now()
    async with busy(), deps.pool.acquire() as conn, conn.transaction():
        key = command.idempotency_key
        if key is not None:
            request_hash = idempotency.body_hash("booking.walk_in", facility_id, form)
            earlier = await idempotency.replay(
                conn, principal, key, "booking.walk_in", request_hash, Booking
            )
            if earlier is not None:
                return earlier
        place = await conn.fetchrow(q.SELECT_WALK_IN_PLACE, facility_id, form.bed_id)
        if place is None:
            raise NotFoundError("facility", facility_id)
        if place["bed_id"] is None:
            raise NotFoundError("bed", form.bed_id)
        today = local_today(place["timezone"], now)
        _check_dates(form, today)
        request = NewBooking(
            care_recipient_id=form.care_recipient_id,
            bed_id=form.bed_id,
            check_in=form.check_in,
            check_out=form.check_out,
            override_reason=form.override_reason,
            overrides=tuple(form.overrides),
        )
        booking = await book(
            conn, principal, request, now=now, settings=deps.settings, listeners=deps.listeners
        )
        if form.check_in_now:
            booking = await _apply(conn, deps, principal, booking, "check_in", today, None)
        if key is not None:
            await idempotency.remember(conn, principal, key, 201, booking)
    log_override(principal, booking)
    return booking


def _check_dates(form: WalkIn, today: date) -> None:
    if (form.check_in - today).days > MAX_DAYS_AHEAD:
        raise InvalidInputError.one(
            "check_in", t("booking.check_in_too_far", n=MAX_DAYS_AHEAD, today=today)
        )
    if form.check_in_now and not form.check_in <= today < form.check_out:
        raise InvalidInputError.one("check_in_now", t("booking.check_in_now_outside", today=today))


async def get_booking(deps: Deps, principal: Principal, booking_id: int) -> Booking:
    async with deps.pool.acquire() as conn:
        booking = await store.visible_booking(conn, principal, booking_id)
    if booking is None:
        raise NotFoundError("booking", booking_id)
    return booking


async def list_bookings(deps: Deps, principal: Principal, filters: BookingFilter) -> Page[Booking]:
    """One page of the bookings the principal may see, by ascending id."""
    after = paging.decode(deps.settings, BOOKING_PAGES, filters.cursor, int) or 0
    async with deps.pool.acquire() as conn:
        fetched = await store.list_visible(conn, principal, filters, after)
    return paging.page(
        deps.settings, BOOKING_PAGES, fetched, filters.limit, lambda booking: booking.id
    )


async def change_status(deps: Deps, principal: Principal, command: ChangeStatus) -> Booking:
    """Apply one life-cycle step; StepNotAllowedError (409) when it does not apply now.

    The booking row is locked first, so two steps of one booking take turns and the second
    is judged against the state the first left. With an idempotency key, a retry of a step
    that succeeded answers the booking as that step left it.
    """
    action, key = command.action, command.idempotency_key
    async with busy(), deps.pool.acquire() as conn, conn.transaction():
        if key is not None:
            operation = f"booking.{action}"
            request_hash = idempotency.body_hash(operation, command.booking_id, command.reason)
            earlier = await idempotency.replay(
                conn, principal, key, operation, request_hash, Booking
            )
            if earlier is not None:
                return earlier
        locked = await store.lock_visible(conn, principal, command.booking_id)
        if locked is None:
            raise NotFoundError("booking", command.booking_id)
        today = local_today(locked.timezone, deps.clock.now())
        booking = await _apply(conn, deps, principal, locked.booking, action, today, command.reason)
        if key is not None:
            await idempotency.remember(conn, principal, key, 200, booking)
        return booking


async def check_in(deps: Deps, principal: Principal, booking_id: int) -> Booking:
    return await change_status(
        deps, principal, ChangeStatus(booking_id=booking_id, action="check_in")
    )


async def check_out(deps: Deps, principal: Principal, booking_id: int) -> Booking:
    return await change_status(
        deps, principal, ChangeStatus(booking_id=booking_id, action="check_out")
    )


async def mark_no_show(deps: Deps, principal: Principal, booking_id: int) -> Booking:
    return await change_status(
        deps, principal, ChangeStatus(booking_id=booking_id, action="no_show")
    )


async def cancel(deps: Deps, principal: Principal, command: CancelBooking) -> Booking:
    """Cancel before check-in; frees every night. The reason is kept, trimmed."""
    cancelling = ChangeStatus(
        booking_id=command.booking_id,
        action="cancel",
        reason=command.reason.strip(),
        idempotency_key=command.idempotency_key,
    )
    return await change_status(deps, principal, cancelling)


async def _apply(
    conn: Conn,
    deps: Deps,
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
        raise StepNotAllowedError(
            booking_id=booking.id,
            current_status=exc.current_status,
            action=exc.action,
            why=exc.why,
        ) from None
    await _free(conn, booking, outcome)
    changed = await store.apply_outcome(conn, principal, booking, outcome, reason)
    await audit.record(
        conn,
        principal,
        action,
        "booking",
        booking.id,
        facility_id=booking.facility_id,
        before=store.audit_state(booking),
        after={**store.audit_state(changed), "nights_freed": outcome.nights_freed},
    )
    change = BookingChange(
        booking=changed, event=_EVENTS[action], principal=principal, reason=reason
    )
    for listener in deps.listeners:
        await listener.booking_changed(conn, change)
    return changed


async def _free(conn: Conn, booking: Booking, outcome: Outcome) -> None:
    """Free what the step gives back: a stay that is over, cancelled or missed no longer
    holds its elder (all its nights in the elder's ledger), and the bed's nights it frees. The
    elder's go first, in the order book() claims them (``respite.nights``)."""
    if outcome.status not in LIVE_STATUSES:
        await free_elder_nights(
            conn,
            booking.care_recipient_id,
            booking.check_in,
            booking.check_out,
            booking_id=booking.id,
        )
    if outcome.free_from is not None and outcome.free_until is not None:
        await free_nights(
            conn,
            booking.bed_id,
            outcome.free_from,
            outcome.free_until,
            cause=_FREED_BY[outcome.status],
            booking_id=booking.id,
        )
