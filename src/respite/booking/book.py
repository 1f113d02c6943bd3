"""``book()``: the booking rule, in one function that every path that books calls.

A walk-in at the desk, a confirmed hold and (later) an accepted waiting-list offer each call
it once, inside their own transaction, and repeat none of its steps:

1. lock, in a fixed order and with a bounded wait (the pool's ``lock_timeout``; a wait that
   runs out answers ``busy``): the elder's row, then the bed's row (shared);
2. load the bed with its policy in force on check-in, the elder as the principal sees them and
   the nights they have used: a fixed number of queries;
3. refuse a confirmed hold whose bed's price changed since the hold showed it, then decide
   with the pure engine on the facility's local date (``booking.beds.judge``);
4. refuse a refused decision unless staff of the facility or an admin override every one of
   its refusals in the form the policy allows (``eligibility.overrides``);
5. insert the booking, claim the elder's nights and then the bed's (the per-night ledgers
   refuse a second live stay of the elder and a taken night of the bed whatever anyone
   believed), record the audit entry, and tell every listener.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import date, datetime

import asyncpg

from respite import audit
from respite.auth import staff_roles
from respite.auth.model import Principal
from respite.booking import store
from respite.booking.beds import judge, load_bed, load_elder
from respite.booking.errors import (
    BedTakenError,
    ElderAlreadyStayingError,
    IneligibleError,
    PriceChangedError,
)
from respite.booking.events import BookingChange, StayListener
from respite.booking.model import MIN_OVERRIDE_REASON, Booking, NewBooking
from respite.db import Conn
from respite.eligibility.model import Stay
from respite.eligibility.overrides import check_overrides, override_options
from respite.eligibility.service import BedFacts, Checked
from respite.eligibility.subject import Viewer
from respite.errors import BusyError, FieldError, InvalidInputError, PermissionDeniedError
from respite.i18n import t
from respite.nights import ElderNightTaken, NightTaken, claim_elder_nights, claim_nights
from respite.settings import Settings

__all__ = ["book", "busy", "claim_bed", "claim_for_elder", "log_override"]

log = logging.getLogger("respite.booking")


@asynccontextmanager
async def busy() -> AsyncIterator[None]:
    """Around a booking's transaction: a lock not granted in time (the pool's
    ``lock_timeout``), a deadlock broken by PostgreSQL or a statement cancelled for running too
    long is ``BusyError`` (503 ``busy``): nothing was written, and a retry will likely pass."""
    try:
        yield
    except (
        asyncpg.LockNotAvailableError,
        asyncpg.DeadlockDetectedError,
        asyncpg.QueryCanceledError,
    ):
        raise BusyError() from None


async def book(
    conn: Conn,
    principal: Principal,
    request: NewBooking,
    *,
    now: datetime,
    settings: Settings,
    listeners: Sequence[StayListener],
) -> Booking:
    """Book ``request`` inside the CALLER's transaction, judged at ``now``.

    Raises NotFoundError (a bed or an elder that is not there for this principal),
    IneligibleError (422, every reason, and how each may be overridden), PermissionDeniedError
    (an override by someone who may not), InvalidInputError (an override reason of blanks, an
    override of a rule that did not refuse), PriceChangedError, ElderAlreadyStayingError and
    BedTakenError (409), or whatever a listener refuses with. On any error the caller must
    roll its transaction back.
    """
    if not conn.is_in_transaction():
        raise RuntimeError("book() runs inside the caller's transaction")
    stay = Stay(check_in=request.check_in, check_out=request.check_out)
    await store.lock_recipient(conn, request.care_recipient_id)
    bed = await load_bed(conn, request.bed_id, request.check_in, lock=True)
    _refuse_a_changed_price(request, bed.facts)
    viewer = Viewer.of(principal, now, settings)
    elder = await load_elder(
        conn, viewer, request.care_recipient_id, bed.facts.kind, bed.facts.facility_id
    )
    checked = judge(bed, elder, stay, now)
    override = _override_reason(principal, request, checked, bed.facts.facility_id)
    booking_id = await store.insert_booking(
        conn,
        principal,
        checked,
        stay,
        hold_id=request.hold_id,
        override_reason=override,
        overrides=request.overrides,
    )
    await _claim(conn, bed.facts, request.care_recipient_id, stay, booking_id)
    booking = await store.load_booking(conn, booking_id)
    after = {
        **store.audit_state(booking),
        "bed_id": bed.facts.bed_id,
        "care_recipient_id": request.care_recipient_id,
        "hold_id": request.hold_id,
        "policy_id": checked.policy.id,
        "eligible": checked.decision.eligible,
        "refused": [r.code for r in checked.decision.reasons if not r.ok],
        "override_reason": override,
        "overrides": booking.overrides,
    }
    await audit.record(
        conn,
        principal,
        "create",
        "booking",
        booking_id,
        facility_id=booking.facility_id,
        after=after,
    )
    change = BookingChange(
        booking=booking,
        event="booking.confirmed",
        principal=principal,
        referral_id=request.referral_id,
    )
    for listener in listeners:
        await listener.booking_changed(conn, change)
    return booking


def log_override(principal: Principal, booking: Booking) -> None:
    """Once the transaction that made ``booking`` has committed: the line operators read for
    an override (the booking, the rules, who), never the reason, whose words are staff's."""
    if not booking.overrides:
        return
    rules = [override.code for override in booking.overrides]
    log.info(
        "booking %s made overriding %s by principal %s",
        booking.id,
        ", ".join(rules),
        principal.id,
        extra={
            "booking_id": booking.id,
            "facility_id": booking.facility_id,
            "bed_id": booking.bed_id,
            "rules": rules,
            "principal_id": principal.id,
            "role": principal.role,
        },
    )


def _refuse_a_changed_price(request: NewBooking, bed: BedFacts) -> None:
    """What a hold showed is what is charged. The bed's row is share-locked by now, so its
    price cannot change again before this booking commits."""
    held = request.nightly_price
    if held is not None and held != bed.nightly_price:
        raise PriceChangedError(
            bed_id=bed.bed_id,
            hold_id=request.hold_id,
            held_nightly_price=held,
            current_nightly_price=bed.nightly_price,
        )


async def _claim(
    conn: Conn, bed: BedFacts, care_recipient_id: int, stay: Stay, booking_id: int
) -> None:
    """The elder's nights, then the bed's, each in ascending order (``respite.nights``)."""
    await claim_for_elder(conn, care_recipient_id, stay.check_in, stay.check_out, booking_id)
    await claim_bed(conn, bed, stay.check_in, stay.check_out, booking_id)


async def claim_for_elder(
    conn: Conn, care_recipient_id: int, start: date, end: date, booking_id: int
) -> None:
    """The elder's nights ``[start, end)`` for the booking, or ElderAlreadyStayingError."""
    try:
        await claim_elder_nights(conn, care_recipient_id, start, end, booking_id=booking_id)
    except ElderNightTaken as exc:
        raise ElderAlreadyStayingError(
            care_recipient_id=care_recipient_id, check_in=exc.check_in, check_out=exc.check_out
        ) from None


async def claim_bed(conn: Conn, bed: BedFacts, start: date, end: date, booking_id: int) -> None:
    """The bed's nights ``[start, end)`` for the booking, or BedTakenError naming its holder."""
    try:
        await claim_nights(conn, bed.bed_id, start, end, booking_id=booking_id)
    except NightTaken as exc:
        raise BedTakenError(
            bed_id=bed.bed_id,
            bed_label=bed.label,
            night=exc.claim.night,
            conflicting_booking=exc.claim.booking_id,
            conflicting_block=exc.claim.block_id,
        ) from None


def _override_reason(
    principal: Principal, request: NewBooking, checked: Checked, facility_id: int
) -> str | None:
    """The override reason to store, once the request's overrides cover every refusal, each in
    the form the policy allows, and name nothing that did not refuse; only from who may
    override."""
    decision, policy = checked.decision, checked.policy.policy
    if request.override_reason is None and not request.overrides:
        if not decision.eligible:
            raise IneligibleError.of(decision, override_options(policy, decision))
        return None
    may_override = principal.role == "admin" or (
        principal.role == "staff" and principal.facility_id == facility_id
    )
    if not may_override:
        raise PermissionDeniedError(t("booking.may_not_override"))
    staff_roles.require(principal, "overrides")
    reason = (request.override_reason or "").strip()
    if len(reason) < MIN_OVERRIDE_REASON:
        raise InvalidInputError.one(
            "override_reason", t("booking.override_reason_short", n=MIN_OVERRIDE_REASON)
        )
    if not request.overrides:
        raise InvalidInputError.one("overrides", t("booking.overrides_needed"))
    check = check_overrides(policy, decision, request.overrides)
    if check.nothing_to_override:
        raise InvalidInputError(
            [
                FieldError(f"overrides[{i}]", t("booking.nothing_to_override"))
                for i in check.nothing_to_override
            ]
        )
    if check.not_overridden:
        options = override_options(policy, decision)
        raise IneligibleError.of(decision, options, not_overridden=check.not_overridden)
    return reason
