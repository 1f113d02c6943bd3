"""Use cases of holds: place, extend, release, and confirm into a booking.

Placing judges the request in PostgreSQL (eligibility, 422 with every reason; the bed's nights
free), writes everything the request writes there (what listeners record, the audit entry, the
idempotent answer), and only then, as the transaction's last step, Redis: the principal's cap
(429) and one Lua script that refuses an overlapping live hold (409). If anything fails after
Redis took the hold, the commit included, the hold is taken back out: a failed request never
holds a bed nor uses one of the principal's slots, and its retry with the same key passes.

Confirming: the signed token says what was held, at what price and since when → no one else
holds the bed now → in one transaction with the idempotency key: the hold is not past its
maximum age nor released (``ends.py``), and ``book()`` books it at the price the hold showed
(the database refuses a taken night whatever Redis said) → the hold is taken out of Redis.
Releasing records the end in PostgreSQL before Redis forgets the hold, so a released hold's
token never confirms.
"""

from __future__ import annotations

import logging
import secrets
from datetime import UTC, datetime, timedelta

from respite import audit, idempotency
from respite.auth.model import Principal
from respite.booking.beds import free_beds, judge, load_bed, load_elder
from respite.booking.book import book, busy
from respite.booking.errors import BedTakenError, IneligibleError
from respite.booking.events import HeldStay
from respite.booking.model import Booking, overlaps, stay_price
from respite.db import Conn
from respite.deps import Deps
from respite.eligibility.model import Stay
from respite.eligibility.service import BedFacts, Checked
from respite.eligibility.subject import Viewer
from respite.errors import NotFoundError
from respite.holds.ends import Ended, end_hold
from respite.holds.errors import (
    BedHeldError,
    ExtensionsUsedUpError,
    HeldByAnotherError,
    HoldAtMaximumAgeError,
    HoldCapReachedError,
    HoldEndedError,
    HoldsUnavailable,
    NoFreeBedError,
)
from respite.holds.model import (
    ConfirmHold,
    ExtendHold,
    FreeGap,
    HeldBed,
    Hold,
    HoldExtended,
    HoldRequest,
    PlaceHold,
    ReleaseHold,
    instant,
    seconds_left,
    tightest,
)
from respite.holds.starts import start_hold
from respite.holds.store import HoldLimits, StoredHold, read_live_holds
from respite.holds.token import HoldToken, read_token, sign_token, token_hash
from respite.nights import first_claim, record_freed
from respite.settings import Settings

__all__ = ["confirm_hold", "extend_hold", "place_hold", "release_hold"]

log = logging.getLogger("respite.holds")
# How many free beds of a facility to judge, tightest first, when the first refuses this elder.
MAX_BEDS_TRIED = 12


def _limits(settings: Settings) -> HoldLimits:
    return HoldLimits(
        ttl=settings.hold_ttl_seconds,
        max_extensions=settings.hold_max_extensions,
        max_age=settings.hold_max_age_seconds,
    )


def hold_cap(settings: Settings, principal: Principal) -> int:
    """How many live holds the principal may keep at once."""
    return {"family": settings.hold_cap_family, "hospital": settings.hold_cap_hospital}.get(
        principal.role, settings.hold_cap_staff
    )


async def place_hold(deps: Deps, principal: Principal, command: PlaceHold) -> Hold:
    """Hold a bed, or the free bed of a facility that the stay fits most tightly."""
    now = deps.clock.now()
    placed: Hold | None = None
    async with deps.pool.acquire() as conn:
        try:
            async with conn.transaction():
                key = command.idempotency_key
                if key is not None:
                    request_hash = idempotency.body_hash("hold", command.request)
                    earlier = await idempotency.replay(
                        conn, principal, key, "hold", request_hash, Hold
                    )
                    if earlier is not None:
                        return earlier
                hold = await _judge_and_record(conn, deps, principal, command, now)
                await _put_in_redis(deps, principal, hold, now)
                placed = hold
            return hold
        except BaseException:
            if placed is not None:  # Redis has it, but the request failed after all
                await _take_back(
                    deps, principal.id, placed.bed.facility_id, placed.hold_id, placed.token
                )
            raise


async def _judge_and_record(
    conn: Conn, deps: Deps, principal: Principal, command: PlaceHold, now: datetime
) -> Hold:
    """Everything placing a hold does in PostgreSQL; the hold to put in Redis."""
    request = command.request
    if request.referral_id is not None:
        for listener in deps.listeners:
            await listener.hold_requested(
                conn, principal, request.referral_id, request.care_recipient_id
            )
    viewer = Viewer.of(principal, now, deps.settings)
    if request.bed_id is not None:
        checked = await _one_bed(conn, viewer, request, request.bed_id)
    else:
        checked = await _choose_bed(conn, deps, viewer, request)
    hold = _new_hold(deps.settings, principal, request, checked.bed, now)
    held = HeldStay(
        hold_id=hold.hold_id,
        bed_id=hold.bed.id,
        bed_label=hold.bed.label,
        facility_id=hold.bed.facility_id,
        care_recipient_id=hold.care_recipient_id,
        check_in=hold.check_in,
        check_out=hold.check_out,
        expires_at=hold.expires_at,
        referral_id=request.referral_id,
    )
    for listener in deps.listeners:
        await listener.hold_placed(conn, principal, held)
    stay = {"bed_id": hold.bed.id, "check_in": hold.check_in, "check_out": hold.check_out}
    await audit.record(
        conn, principal, "hold", "hold", hold.hold_id, facility_id=hold.bed.facility_id, after=stay
    )
    await start_hold(
        conn,
        hold.hold_id,
        max_expires_at=hold.max_expires_at,
        expires_at=hold.expires_at,
        bed_id=hold.bed.id,
        check_in=hold.check_in,
        check_out=hold.check_out,
    )
    if command.idempotency_key is not None:
        await idempotency.remember(conn, principal, command.idempotency_key, 201, hold)
    return hold


async def _one_bed(conn: Conn, viewer: Viewer, request: HoldRequest, bed_id: int) -> Checked:
    stay = Stay(check_in=request.check_in, check_out=request.check_out)
    bed = await load_bed(conn, bed_id, request.check_in, lock=False)
    elder = await load_elder(
        conn, viewer, request.care_recipient_id, bed.facts.kind, bed.facts.facility_id
    )
    checked = judge(bed, elder, stay, viewer.now)
    if not checked.decision.eligible:
        raise IneligibleError.of(checked.decision)
    claim = await first_claim(conn, bed_id, request.check_in, request.check_out)
    if claim is not None:
        raise BedTakenError(
            bed_id=bed_id,
            bed_label=bed.facts.label,
            night=claim.night,
            conflicting_booking=claim.booking_id,
            conflicting_block=claim.block_id,
        )
    return checked


async def _choose_bed(conn: Conn, deps: Deps, viewer: Viewer, request: HoldRequest) -> Checked:
    """The eligible free bed whose gap the stay fits most tightly, judged in Python: the same
    few queries whatever the number of beds."""
    assert request.facility_id is not None and request.kind is not None
    facility_id, kind, now = request.facility_id, request.kind, viewer.now
    beds = await free_beds(conn, facility_id, kind, request.check_in, request.check_out)
    held = await _held_beds(deps, facility_id, request, now)
    by_id = {free.bed.facts.bed_id: free.bed for free in beds}
    gaps = [
        FreeGap(
            bed_id=free.bed.facts.bed_id,
            previous_claim=free.previous_claim,
            next_claim=free.next_claim,
        )
        for free in beds
    ]
    candidates = [by_id[b] for b in tightest(gaps) if b not in held][:MAX_BEDS_TRIED]
    if not candidates:
        raise NoFreeBedError(facility_id=facility_id, kind=kind)
    elder = await load_elder(conn, viewer, request.care_recipient_id, kind, facility_id)
    stay = Stay(check_in=request.check_in, check_out=request.check_out)
    refused: Checked | None = None
    for bed in candidates:
        checked = judge(bed, elder, stay, now)
        if checked.decision.eligible:
            return checked
        refused = refused or checked
    assert refused is not None
    raise IneligibleError.of(refused.decision)  # the tightest bed's reasons


async def _held_beds(deps: Deps, facility_id: int, request: HoldRequest, now: datetime) -> set[int]:
    holds = await read_live_holds(deps.holds.client, [facility_id], now.timestamp())
    return {
        h.bed_id
        for h in holds.get(facility_id, [])
        if overlaps(h.check_in, h.check_out, request.check_in, request.check_out)
    }


def _new_hold(
    settings: Settings, principal: Principal, request: HoldRequest, bed: BedFacts, now: datetime
) -> Hold:
    at = now.timestamp()
    hold_id = f"{bed.facility_id}-{secrets.token_hex(10)}"
    token = HoldToken(
        hold_id=hold_id,
        facility_id=bed.facility_id,
        bed_id=bed.bed_id,
        care_recipient_id=request.care_recipient_id,
        check_in=request.check_in,
        check_out=request.check_out,
        principal_id=principal.id,
        referral_id=request.referral_id,
        nightly_price=bed.nightly_price,
        created_at=at,
    )
    return Hold(
        hold_id=hold_id,
        token=sign_token(settings.secret_key, token),
        expires_at=instant(at + settings.hold_ttl_seconds),
        seconds_left=settings.hold_ttl_seconds,
        max_expires_at=instant(at + settings.hold_max_age_seconds),
        extensions_left=settings.hold_max_extensions,
        bed=HeldBed(id=bed.bed_id, label=bed.label, facility_id=bed.facility_id, kind=bed.kind),
        care_recipient_id=request.care_recipient_id,
        check_in=request.check_in,
        check_out=request.check_out,
        nights=(request.check_out - request.check_in).days,
        nightly_price=bed.nightly_price,
        total_price=stay_price(bed.nightly_price, request.check_in, request.check_out),
    )


async def _put_in_redis(deps: Deps, principal: Principal, hold: Hold, now: datetime) -> None:
    """Count the hold against the principal's cap, then place it; undo the count on refusal."""
    at, store = now.timestamp(), deps.holds
    cap = hold_cap(deps.settings, principal)
    expires_at = hold.expires_at.timestamp()
    if not await store.reserve(principal.id, hold.hold_id, expires_at, at, cap):
        raise HoldCapReachedError(cap=cap, retry_after=deps.settings.hold_ttl_seconds)
    stored = StoredHold(
        bed_id=hold.bed.id,
        check_in=hold.check_in.isoformat(),
        check_out=hold.check_out.isoformat(),
        expires_at=expires_at,
        created_at=at,
        principal_id=principal.id,
        care_recipient_id=hold.care_recipient_id,
        token_hash=token_hash(hold.token),
        nightly_price=hold.nightly_price,
    )
    try:
        placed = await store.place(hold.bed.facility_id, hold.hold_id, stored, at)
    except BaseException:
        await _take_back(deps, principal.id, hold.bed.facility_id, hold.hold_id, hold.token)
        raise
    if not placed.placed:
        await store.unreserve(principal.id, hold.hold_id)
        raise BedHeldError(bed_id=hold.bed.id, bed_label=hold.bed.label)


async def _take_back(
    deps: Deps, principal_id: int, facility_id: int, hold_id: str, token: str
) -> None:
    """Release a hold and free its slot, as far as Redis answers; what it does not answer
    expires with the hold."""
    try:
        await deps.holds.release(facility_id, hold_id, token_hash(token), principal_id)
    except HoldsUnavailable:
        log.warning("hold %s stays in Redis until it expires", hold_id)


def _verified(deps: Deps, principal: Principal, hold_id: str, token: str) -> HoldToken:
    held = read_token(deps.settings.secret_key, token)
    if held is None or held.hold_id != hold_id or held.principal_id != principal.id:
        raise NotFoundError("hold", hold_id)
    return held


async def extend_hold(deps: Deps, principal: Principal, command: ExtendHold) -> HoldExtended:
    """Keep the hold longer, a bounded number of times and never past its maximum age."""
    settings = deps.settings
    held = _verified(deps, principal, command.hold_id, command.token)
    result = await deps.holds.extend(
        held.facility_id,
        held.hold_id,
        token_hash(command.token),
        deps.clock.now().timestamp(),
        _limits(settings),
    )
    stored = result.hold
    if result.status == "missing" or stored is None:
        raise NotFoundError("live hold", held.hold_id)
    if result.status == "limit":
        raise ExtensionsUsedUpError(
            hold_id=held.hold_id,
            max_extensions=settings.hold_max_extensions,
            expires_at=instant(stored.expires_at),
        )
    if result.status == "max_age":
        raise HoldAtMaximumAgeError(hold_id=held.hold_id, expires_at=instant(stored.expires_at))
    return HoldExtended(
        hold_id=held.hold_id,
        expires_at=instant(stored.expires_at),
        seconds_left=seconds_left(stored.expires_at, deps.clock.now().timestamp()),
        max_expires_at=instant(stored.created_at + settings.hold_max_age_seconds),
        extensions_left=settings.hold_max_extensions - stored.extensions,
    )


async def release_hold(deps: Deps, principal: Principal, command: ReleaseHold) -> None:
    """Give the bed back at once, for good: the hold's token never confirms again, even if
    the hold had expired already. NotFoundError for a hold that is confirmed, released or
    past its maximum age."""
    held = _verified(deps, principal, command.hold_id, command.token)
    now = deps.clock.now()
    if _past_max_age(deps.settings, held, now):
        raise NotFoundError("live hold", held.hold_id)
    async with busy(), deps.pool.acquire() as conn, conn.transaction():
        if await _end(conn, deps.settings, held, "released") is not None:
            raise NotFoundError("live hold", held.hold_id)
        await audit.record(
            conn, principal, "release", "hold", held.hold_id, facility_id=held.facility_id
        )
        await record_freed(conn, held.bed_id, held.check_in, held.check_out, "hold_released")
        # Last, as placing does: if Redis does not answer, the release is rolled back too.
        hashed = token_hash(command.token)
        await deps.holds.release(held.facility_id, held.hold_id, hashed, principal.id)


async def confirm_hold(deps: Deps, principal: Principal, command: ConfirmHold) -> Booking:
    """Turn the hold into a booking; a replayed Idempotency-Key answers the same booking."""
    held = _verified(deps, principal, command.hold_id, command.token)
    now = deps.clock.now()
    await _refuse_if_held_by_another(deps, held, now)
    key = command.idempotency_key
    async with busy(), deps.pool.acquire() as conn, conn.transaction():
        request_hash = idempotency.body_hash("confirm", command.hold_id, command.token)
        earlier = await idempotency.replay(conn, principal, key, "confirm", request_hash, Booking)
        if earlier is not None:
            return earlier
        await _refuse_if_ended(conn, deps.settings, held, now)
        booking = await book(
            conn,
            principal,
            held.as_new_booking(),
            now=now,
            settings=deps.settings,
            listeners=deps.listeners,
        )
        await idempotency.remember(conn, principal, key, 201, booking)
    await _take_back(deps, held.principal_id, held.facility_id, held.hold_id, command.token)
    return booking


def _past_max_age(settings: Settings, held: HoldToken, now: datetime) -> bool:
    return now.timestamp() >= held.created_at + settings.hold_max_age_seconds


async def _end(conn: Conn, settings: Settings, held: HoldToken, ended: Ended) -> Ended | None:
    """Record how the hold ends (``ends.end_hold``); how it had ended before, if it had."""
    max_expires_at = datetime.fromtimestamp(held.created_at, UTC) + timedelta(
        seconds=settings.hold_max_age_seconds
    )
    return await end_hold(conn, held.hold_id, ended, max_expires_at)


async def _refuse_if_ended(conn: Conn, settings: Settings, held: HoldToken, now: datetime) -> None:
    """An expired hold still confirms while its bed is free, up to its maximum age, unless its
    holder released it. Confirmed before (and since cancelled, say), it may book again."""
    if _past_max_age(settings, held, now):
        raise HoldEndedError(hold_id=held.hold_id, reason="past_max_age")
    if await _end(conn, settings, held, "confirmed") == "released":
        raise HoldEndedError(hold_id=held.hold_id, reason="released")


async def _refuse_if_held_by_another(deps: Deps, held: HoldToken, now: datetime) -> None:
    """A live hold of someone else on these nights wins over an expired one of ours."""
    try:
        holds = await read_live_holds(deps.holds.client, [held.facility_id], now.timestamp())
    except HoldsUnavailable:
        log.warning("confirming %s without Redis: PostgreSQL alone decides", held.hold_id)
        return
    for other in holds.get(held.facility_id, []):
        if (
            other.bed_id == held.bed_id
            and other.hold_id != held.hold_id
            and overlaps(other.check_in, other.check_out, held.check_in, held.check_out)
        ):
            raise HeldByAnotherError(hold_id=held.hold_id, bed_id=held.bed_id)
