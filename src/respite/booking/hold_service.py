"""Use cases of holds: place, extend, release, and confirm into a booking.

Placing: validate → eligibility (refusal 422 with every reason) → the bed's nights are free in
PostgreSQL → the principal's cap (429) → one Lua script that refuses an overlapping live hold
(409). Confirming: the signed token says what was held → no one else holds the bed now → in
one PostgreSQL transaction: idempotency key, eligibility again, the booking with its nights
(the database refuses a taken night whatever Redis said) → the hold is released.
"""

from __future__ import annotations

import logging
import secrets
from datetime import UTC, date, datetime
from typing import Any

import msgspec
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from respite import audit, idempotency
from respite.auth.model import Principal
from respite.booking import hold_queries as q
from respite.booking.errors import IneligibleError
from respite.booking.hold_model import (
    FreeGap,
    HeldBed,
    Hold,
    HoldRequest,
    HoldToken,
    read_token,
    sign_token,
    tightest,
    token_hash,
)
from respite.booking.holds import (
    HoldLimits,
    HoldStore,
    HoldsUnavailable,
    StoredHold,
    read_live_holds,
)
from respite.booking.model import NewBooking
from respite.booking.service import create_booking, lock_recipient
from respite.db import Conn
from respite.eligibility.model import Stay
from respite.eligibility.service import Checked, check_bed, local_today
from respite.errors import ConflictError, NotFoundError, RateLimitedError
from respite.nights import first_claim
from respite.referral import outbox
from respite.settings import Settings

__all__ = ["HoldContext", "confirm_hold", "extend_hold", "place_hold", "release_hold"]

log = logging.getLogger("respite.holds")
# How many beds of a facility to try, tightest first, when the first refuses this elder.
MAX_BEDS_TRIED = 12


class HoldContext(msgspec.Struct, frozen=True, kw_only=True):
    """What every hold use case needs from the app, and the one clock (unix seconds)."""

    pool: Any
    store: HoldStore
    settings: Settings
    now: float


def _limits(settings: Settings) -> HoldLimits:
    return HoldLimits(
        ttl=settings.hold_ttl_seconds,
        max_extensions=settings.hold_max_extensions,
        max_age=settings.hold_max_age_seconds,
    )


def _cap(settings: Settings, principal: Principal) -> int:
    return {"family": settings.hold_cap_family, "hospital": settings.hold_cap_hospital}.get(
        principal.role, settings.hold_cap_staff
    )


async def _today(conn: Conn, bed_id: int, now: float) -> date:
    timezone = await conn.fetchval(q.SELECT_BED_TIMEZONE, bed_id)
    return local_today(timezone or "UTC", datetime.fromtimestamp(now, UTC))


async def _check(
    conn: Conn, ctx: HoldContext, principal: Principal, form: HoldRequest, bed_id: int
) -> Checked:
    stay = Stay(check_in=form.check_in, check_out=form.check_out)
    today = await _today(conn, bed_id, ctx.now)
    return await check_bed(conn, principal, form.care_recipient_id, bed_id, stay, today)


async def _choose_bed(
    conn: Conn, ctx: HoldContext, principal: Principal, form: HoldRequest
) -> Checked:
    """The eligible free bed whose gap the stay fits most tightly."""
    assert form.facility_id is not None
    if not await conn.fetchval(q.SELECT_FACILITY_EXISTS, form.facility_id):
        raise NotFoundError("facility", form.facility_id)
    rows = await conn.fetch(
        q.SELECT_FREE_GAPS, form.facility_id, form.kind, form.check_in, form.check_out
    )
    gaps = [
        FreeGap(bed_id=r["id"], previous_claim=r["previous_claim"], next_claim=r["next_claim"])
        for r in rows
    ]
    held = await _held_beds(ctx, form.facility_id, form)
    candidates = [bed for bed in tightest(gaps) if bed not in held][:MAX_BEDS_TRIED]
    if not candidates:
        raise ConflictError(
            f"no free {form.kind} bed in facility {form.facility_id} for this stay",
            reason="no_free_bed",
        )
    refused: Checked | None = None
    for bed_id in candidates:
        checked = await _check(conn, ctx, principal, form, bed_id)
        if checked.decision.eligible:
            return checked
        refused = refused or checked
    assert refused is not None
    return refused


async def _held_beds(ctx: HoldContext, facility_id: int, form: HoldRequest) -> set[int]:
    holds = await read_live_holds(ctx.store.client, [facility_id], ctx.now)
    return {
        h.bed_id
        for h in holds.get(facility_id, [])
        if h.check_in < form.check_out and form.check_in < h.check_out
    }


async def place_hold(
    ctx: HoldContext, principal: Principal, form: HoldRequest, key: str | None
) -> tuple[int, Any]:
    async with ctx.pool.acquire() as conn, conn.transaction():
        if key is not None:
            replay = await idempotency.claim(
                conn, principal, key, "hold", idempotency.body_hash("hold", form)
            )
            if replay is not None:
                return replay.status_code, replay.response
        referral = None
        if form.referral_id is not None:
            referral = await outbox.referral_for_hold(
                conn, principal, form.referral_id, form.care_recipient_id
            )
        if form.bed_id is not None:
            checked = await _check(conn, ctx, principal, form, form.bed_id)
        else:
            checked = await _choose_bed(conn, ctx, principal, form)
        if not checked.decision.eligible:
            reasons = [msgspec.to_builtins(r) for r in checked.decision.reasons]
            raise IneligibleError(checked.decision.policy_code, reasons)
        claim = await first_claim(conn, checked.bed.bed_id, form.check_in, form.check_out)
        if claim is not None:
            raise ConflictError(
                f"bed {checked.bed.label} is taken on {claim.night}",
                conflicting_booking=claim.booking_id,
                conflicting_block=claim.block_id,
            )
        hold = await _put_in_redis(ctx, principal, form, checked)
        if referral is not None:
            await outbox.referral_held(conn, principal, referral, hold)
        await audit.record(
            conn,
            principal,
            "hold",
            "hold",
            hold.hold_id,
            facility_id=checked.bed.facility_id,
            after={"bed_id": hold.bed.id, "check_in": form.check_in, "check_out": form.check_out},
        )
        if key is not None:
            await idempotency.remember(conn, principal, key, 201, hold)
    return 201, hold


async def _put_in_redis(
    ctx: HoldContext, principal: Principal, form: HoldRequest, checked: Checked
) -> Hold:
    bed = checked.bed
    hold_id = f"{bed.facility_id}-{secrets.token_hex(10)}"
    token = sign_token(
        ctx.settings.secret_key,
        HoldToken(
            hold_id,
            bed.facility_id,
            bed.bed_id,
            form.care_recipient_id,
            form.check_in,
            form.check_out,
            principal.id,
            form.referral_id,
        ),
    )
    expires_at = ctx.now + ctx.settings.hold_ttl_seconds
    cap = _cap(ctx.settings, principal)
    if not await ctx.store.reserve(principal.id, hold_id, expires_at, ctx.now, cap):
        raise RateLimitedError(
            f"at most {cap} live holds at once: confirm or release one first",
            retry_after=ctx.settings.hold_ttl_seconds,
        )
    stored = StoredHold(
        bed_id=bed.bed_id,
        check_in=form.check_in.isoformat(),
        check_out=form.check_out.isoformat(),
        expires_at=expires_at,
        created_at=ctx.now,
        principal_id=principal.id,
        care_recipient_id=form.care_recipient_id,
        token_hash=token_hash(token),
    )
    placed = await ctx.store.place(bed.facility_id, hold_id, stored, ctx.now)
    if not placed.placed:
        await ctx.store.unreserve(principal.id, hold_id)
        raise ConflictError(
            f"bed {bed.label} is held by someone else for part of this stay", reason="held"
        )
    nights = (form.check_out - form.check_in).days
    return Hold(
        hold_id=hold_id,
        token=token,
        expires_at=expires_at,
        max_expires_at=ctx.now + ctx.settings.hold_max_age_seconds,
        extensions_left=ctx.settings.hold_max_extensions,
        bed=HeldBed(id=bed.bed_id, label=bed.label, facility_id=bed.facility_id, kind=bed.kind),
        care_recipient_id=form.care_recipient_id,
        check_in=form.check_in,
        check_out=form.check_out,
        nights=nights,
        nightly_price=bed.nightly_price,
        total_price=bed.nightly_price * nights,
    )


def _verified(ctx: HoldContext, principal: Principal, hold_id: str, token: str) -> HoldToken:
    held = read_token(ctx.settings.secret_key, token)
    if held is None or held.hold_id != hold_id or held.principal_id != principal.id:
        raise NotFoundError("hold", hold_id)
    return held


async def extend_hold(
    ctx: HoldContext, principal: Principal, hold_id: str, token: str
) -> dict[str, Any]:
    held = _verified(ctx, principal, hold_id, token)
    status, stored = await ctx.store.extend(
        held.facility_id, hold_id, token_hash(token), ctx.now, _limits(ctx.settings)
    )
    if status == "missing" or stored is None:
        raise NotFoundError("live hold", hold_id)
    if status == "limit":
        raise ConflictError(
            f"a hold can be extended {ctx.settings.hold_max_extensions} times",
            reason="extension_limit",
            expires_at=stored.expires_at,
        )
    if status == "max_age":
        raise ConflictError(
            "the hold has reached its maximum age; confirm it or place a new one",
            reason="max_age",
            expires_at=stored.expires_at,
        )
    return {
        "hold_id": hold_id,
        "expires_at": stored.expires_at,
        "max_expires_at": stored.created_at + ctx.settings.hold_max_age_seconds,
        "extensions_left": ctx.settings.hold_max_extensions - stored.extensions,
    }


async def release_hold(ctx: HoldContext, principal: Principal, hold_id: str, token: str) -> None:
    held = _verified(ctx, principal, hold_id, token)
    if not await ctx.store.release(held.facility_id, hold_id, token_hash(token), principal.id):
        raise NotFoundError("live hold", hold_id)
    async with ctx.pool.acquire() as conn:
        await audit.record(
            conn, principal, "release", "hold", hold_id, facility_id=held.facility_id
        )


async def confirm_hold(
    ctx: HoldContext, principal: Principal, hold_id: str, token: str, key: str
) -> tuple[int, Any]:
    held = _verified(ctx, principal, hold_id, token)
    await _refuse_if_held_by_another(ctx, held)
    stay = Stay(check_in=held.check_in, check_out=held.check_out)
    async with ctx.pool.acquire() as conn, conn.transaction():
        replay = await idempotency.claim(
            conn, principal, key, "confirm", idempotency.body_hash("confirm", hold_id, token)
        )
        if replay is not None:
            return replay.status_code, replay.response
        await lock_recipient(conn, held.care_recipient_id)
        today = await _today(conn, held.bed_id, ctx.now)
        checked = await check_bed(conn, principal, held.care_recipient_id, held.bed_id, stay, today)
        request = NewBooking(
            care_recipient_id=held.care_recipient_id,
            bed_id=held.bed_id,
            check_in=held.check_in,
            check_out=held.check_out,
            hold_id=hold_id,
        )
        booking = await create_booking(
            conn, principal, request, checked, referral_id=held.referral_id
        )
        await idempotency.remember(conn, principal, key, 201, booking)
    await _release_quietly(ctx, held, token)
    return 201, booking


async def _refuse_if_held_by_another(ctx: HoldContext, held: HoldToken) -> None:
    """A live hold of someone else on these nights wins over an expired one of ours."""
    try:
        holds = await read_live_holds(ctx.store.client, [held.facility_id], ctx.now)
    except HoldsUnavailable:
        log.warning("confirming %s without Redis: PostgreSQL alone decides", held.hold_id)
        return
    for other in holds.get(held.facility_id, []):
        overlaps = other.check_in < held.check_out and held.check_in < other.check_out
        if other.bed_id == held.bed_id and other.hold_id != held.hold_id and overlaps:
            raise ConflictError(
                "this hold expired and the bed is now held by someone else",
                reason="held_by_another",
            )


async def _release_quietly(ctx: HoldContext, held: HoldToken, token: str) -> None:
    try:
        await ctx.store.release(
            held.facility_id, held.hold_id, token_hash(token), held.principal_id
        )
    except (RedisConnectionError, RedisTimeoutError):
        log.warning("hold %s stays in Redis until it expires", held.hold_id)
