"""Use cases of changing a stay: quote a change, then make it (``change_model`` says what a
change is and who may make which).

Making one is one transaction, in the lock order every booking path keeps: the booking's row
(two changes, or a change and a check-out, take turns), the elder's row (``book``'s first
lock), the target bed's row, shared (its price and service cannot change under the quote).
The new stay is judged again by the pure engine, its quotas counting every other stay of the
elder but this one; then the nights the new stay adds are claimed — the elder's, then the
bed's — **before** the nights it leaves are freed, so a change that loses a race (the elder
or the bed taken meanwhile) rolls back with the old stay whole, and an elder never ends up
with neither. Freed nights go to the waiting list (``stay_shortened``, ``stay_moved``). The
booking keeps its id, its status and who booked it; the audit keeps the stay before and after;
the listeners hear ``booking.changed`` (a hospital's callback).

The price: the nights times the nightly price of the booking for its own bed (what was agreed
stays agreed), or of the new bed for a move, as the quote shows it; making the change with
another nightly price than the one found is ``price-changed``, and nothing changes.
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from respite import audit, idempotency
from respite.auth import staff_roles
from respite.auth.model import Principal
from respite.booking import queries as q
from respite.booking import store
from respite.booking.beds import judge, load_bed, load_elder
from respite.booking.book import busy, claim_bed, claim_for_elder
from respite.booking.change_model import (
    ChangeStay,
    QuoteStayChange,
    Span,
    StayChange,
    StayChangeQuote,
    nights_in,
    outside,
    refusal,
)
from respite.booking.errors import (
    BedTakenError,
    ElderAlreadyStayingError,
    IneligibleError,
    PriceChangedError,
    StepNotAllowedError,
)
from respite.booking.events import BookingChange
from respite.booking.model import Booking, stay_price
from respite.clock import local_today
from respite.db import Conn
from respite.deps import Deps
from respite.eligibility.model import Stay
from respite.eligibility.service import Checked, JudgedBed
from respite.eligibility.subject import Viewer
from respite.errors import FieldError, InvalidInputError, NotFoundError
from respite.i18n import t
from respite.nights import (
    FreedCause,
    first_claim,
    first_elder_claim,
    free_elder_nights,
    free_nights,
)

__all__ = ["change_stay", "quote_stay_change"]

_CURRENCY = "CNY"


class _Plan(msgspec.Struct, frozen=True, kw_only=True):
    booking: Booking
    checked: Checked
    bed: JudgedBed
    stay: Stay
    nightly_price: int

    @property
    def moves(self) -> bool:
        return self.bed.facts.bed_id != self.booking.bed_id

    def quote(self) -> StayChangeQuote:
        old = (self.booking.check_in, self.booking.check_out)
        new = (self.stay.check_in, self.stay.check_out)
        total = stay_price(self.nightly_price, *new)
        kept = not self.moves
        return StayChangeQuote(
            booking_id=self.booking.id,
            facility_id=self.bed.facts.facility_id,
            bed_id=self.bed.facts.bed_id,
            bed_label=self.bed.facts.label,
            check_in=self.stay.check_in,
            check_out=self.stay.check_out,
            nights=(self.stay.check_out - self.stay.check_in).days,
            nightly_price=self.nightly_price,
            total_price=total,
            price_before=self.booking.total_price,
            difference=total - self.booking.total_price,
            currency=_CURRENCY,
            nights_added=nights_in(outside(new, old)) if kept else nights_in([new]),
            nights_freed=nights_in(outside(old, new)) if kept else nights_in([old]),
        )


async def _plan(
    conn: Conn, deps: Deps, principal: Principal, booking_id: int, change: StayChange, now: datetime
) -> _Plan:
    """Lock what the change needs and decide it: every refusal before anything is written."""
    staff_roles.require(principal, "walk_ins")
    locked = await store.lock_visible(conn, principal, booking_id)
    if locked is None:
        raise NotFoundError("booking", booking_id)
    booking = locked.booking
    today = local_today(locked.timezone, now)
    refused = refusal(booking, change, role=principal.role, today=today)
    if isinstance(refused, FieldError):
        raise InvalidInputError([refused])
    if refused is not None:
        raise StepNotAllowedError(
            booking_id=booking.id, current_status=booking.status, action="change", why=refused
        )
    stay = Stay(check_in=change.check_in, check_out=change.check_out)
    await store.lock_recipient(conn, booking.care_recipient_id)
    bed = await load_bed(conn, change.bed_id or booking.bed_id, stay.check_in, lock=True)
    if principal.role == "staff" and bed.facts.facility_id != principal.facility_id:
        raise NotFoundError("bed", bed.facts.bed_id)
    viewer = Viewer.of(principal, now, deps.settings)
    elder = await load_elder(
        conn,
        viewer,
        booking.care_recipient_id,
        bed.facts.kind,
        bed.facts.facility_id,
        excluding_booking=booking.id,
    )
    judged = stay
    if booking.status == "checked_in" and stay.check_in < today:
        # A stay under way is judged from today, as a new one would be, and the nights already
        # slept count against its quotas like any other stay of the elder's.
        judged = Stay(check_in=today, check_out=stay.check_out)
        slept = Stay(check_in=booking.check_in, check_out=today)
        elder = msgspec.structs.replace(elder, used=[*elder.used, slept])
    checked = judge(bed, elder, judged, now)
    if not checked.decision.eligible:
        raise IneligibleError.of(checked.decision, [])
    moves = bed.facts.bed_id != booking.bed_id
    nightly = bed.facts.nightly_price if moves else booking.nightly_price
    return _Plan(booking=booking, checked=checked, bed=bed, stay=stay, nightly_price=nightly)


async def quote_stay_change(
    deps: Deps, principal: Principal, command: QuoteStayChange
) -> StayChangeQuote:
    """What ``command.change`` would make of the stay, decided now; nothing is written."""
    async with busy(), deps.pool.acquire() as conn, conn.transaction():
        now = deps.clock.now()
        plan = await _plan(conn, deps, principal, command.booking_id, command.change, now)
        await _refuse_taken(conn, plan)
    return plan.quote()


async def _refuse_taken(conn: Conn, plan: _Plan) -> None:
    """The refusals the change itself would meet on its nights, asked before: another stay of
    the elder's, another claim on the bed (the change still decides, in its transaction)."""
    booking = plan.booking
    for start, end in _elder_claims(plan):
        other = await first_elder_claim(
            conn, booking.care_recipient_id, start, end, excluding_booking=booking.id
        )
        if other is not None:
            raise ElderAlreadyStayingError(
                care_recipient_id=booking.care_recipient_id, check_in=other[0], check_out=other[1]
            )
    bed = plan.bed.facts
    for start, end in _bed_claims(plan):
        claim = await first_claim(conn, bed.bed_id, start, end, booking_id=booking.id)
        if claim is not None:
            raise BedTakenError(
                bed_id=bed.bed_id,
                bed_label=bed.label,
                night=claim.night,
                conflicting_booking=claim.booking_id,
                conflicting_block=claim.block_id,
            )


def _spans(plan: _Plan) -> tuple[Span, Span]:
    """The stay as it is, and as it would be."""
    booking, stay = plan.booking, plan.stay
    return (booking.check_in, booking.check_out), (stay.check_in, stay.check_out)


def _elder_claims(plan: _Plan) -> list[Span]:
    old, new = _spans(plan)
    return outside(new, old)


def _bed_claims(plan: _Plan) -> list[Span]:
    old, new = _spans(plan)
    return [new] if plan.moves else outside(new, old)


async def change_stay(deps: Deps, principal: Principal, command: ChangeStay) -> Booking:
    """Make ``command.change`` of the stay, at the price its quote showed (see the module)."""
    change, key = command.change, command.idempotency_key
    if change.nightly_price is None:
        raise InvalidInputError.one("nightly_price", t("booking.change.price_needed"))
    now = deps.clock.now()
    async with busy(), deps.pool.acquire() as conn, conn.transaction():
        if key is not None:
            request_hash = idempotency.body_hash("booking.change", command.booking_id, change)
            earlier = await idempotency.replay(
                conn, principal, key, "booking.change", request_hash, Booking
            )
            if earlier is not None:
                return earlier
        plan = await _plan(conn, deps, principal, command.booking_id, change, now)
        if plan.nightly_price != change.nightly_price:
            raise PriceChangedError(
                bed_id=plan.bed.facts.bed_id,
                hold_id=None,
                held_nightly_price=change.nightly_price,
                current_nightly_price=plan.nightly_price,
            )
        changed = await _apply(conn, plan)
        await audit.record(
            conn,
            principal,
            "change",
            "booking",
            changed.id,
            facility_id=changed.facility_id,
            before={**store.audit_state(plan.booking), "bed_id": plan.booking.bed_id},
            after={**store.audit_state(changed), "bed_id": changed.bed_id},
        )
        event = BookingChange(booking=changed, event="booking.changed", principal=principal)
        for listener in deps.listeners:
            await listener.booking_changed(conn, event)
        if key is not None:
            await idempotency.remember(conn, principal, key, 200, changed)
        return changed


async def _apply(conn: Conn, plan: _Plan) -> Booking:
    """Claim the new nights, then free the old ones, then write the stay."""
    booking, stay = plan.booking, plan.stay
    elder, booking_id = booking.care_recipient_id, booking.id
    old, new = _spans(plan)
    for start, end in _elder_claims(plan):
        await claim_for_elder(conn, elder, start, end, booking_id)
    for start, end in _bed_claims(plan):
        await claim_bed(conn, plan.bed.facts, start, end, booking_id)
    for start, end in outside(old, new):
        await free_elder_nights(conn, elder, start, end, booking_id=booking_id)
    freed = [old] if plan.moves else outside(old, new)
    cause: FreedCause = "stay_moved" if plan.moves else "stay_shortened"
    for start, end in freed:
        await free_nights(conn, booking.bed_id, start, end, cause=cause, booking_id=booking_id)
    checked = plan.checked
    await conn.execute(
        q.CHANGE_STAY,
        booking_id,
        plan.bed.facts.bed_id,
        plan.bed.facts.facility_id,
        stay.check_in,
        stay.check_out,
        plan.nightly_price,
        stay_price(plan.nightly_price, stay.check_in, stay.check_out),
        checked.policy.id,
        checked.decision,
    )
    return await store.load_booking(conn, booking_id)
