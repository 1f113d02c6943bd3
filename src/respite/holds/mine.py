"""Reading holds back, and releasing one without its token: what a family that closed the
page (or lost the token) still needs.

Who may see a hold: its holder, staff of its facility, and admins; anyone else finds it "not
found", like an id that does not exist. The same callers may release it without its token,
while it is live in Redis (a hold that already expired there is released with its token, by
``service.release_hold``). A hold is never shown with its token: the token stays the one
proof that confirms it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import asyncpg

from respite import audit
from respite.auth.model import Principal
from respite.booking.book import busy
from respite.booking.model import stay_price
from respite.deps import Deps
from respite.errors import NotFoundError
from respite.holds import queries as q
from respite.holds.ends import end_hold
from respite.holds.model import HeldBed, HoldView, MyHolds, instant, seconds_left
from respite.holds.service import hold_cap
from respite.holds.store import StoredHold, hold_facility, is_offer_hold
from respite.inventory.profile import FacilityContact
from respite.nights import record_freed
from respite.settings import Settings

__all__ = ["get_hold", "list_my_holds", "release_live_hold"]

# Far above any hold id respite writes (``<facility>-<20 hex digits>``).
MAX_HOLD_ID = 64


async def list_my_holds(deps: Deps, principal: Principal) -> MyHolds:
    """The caller's live holds, soonest to end first: at most the caller's cap, as no one
    keeps more live holds than that. Two Redis round trips and one query, whatever the count."""
    at = deps.clock.now().timestamp()
    cap = hold_cap(deps.settings, principal)
    held = await deps.holds.holds_of(principal.id, at, cap)
    return MyHolds(items=await _views(deps, held, at), cap=cap)


async def get_hold(deps: Deps, principal: Principal, hold_id: str) -> HoldView:
    at = deps.clock.now().timestamp()
    _, stored = await _live(deps, principal, hold_id, at)
    views = await _views(deps, [(hold_id, stored)], at)
    if not views:
        raise NotFoundError("hold", hold_id)
    return views[0]


async def release_live_hold(deps: Deps, principal: Principal, hold_id: str) -> None:
    """Give the bed back at once, for good, as ``service.release_hold`` does with the token:
    the end is recorded in PostgreSQL first, so the token never confirms again."""
    at = deps.clock.now().timestamp()
    facility_id, stored = await _live(deps, principal, hold_id, at)
    max_expires_at = instant(stored.created_at + deps.settings.hold_max_age_seconds)
    async with busy(), deps.pool.acquire() as conn, conn.transaction():
        if await end_hold(conn, hold_id, "released", max_expires_at) is not None:
            raise NotFoundError("live hold", hold_id)
        await audit.record(conn, principal, "release", "hold", hold_id, facility_id=facility_id)
        await record_freed(
            conn,
            stored.bed_id,
            date.fromisoformat(stored.check_in),
            date.fromisoformat(stored.check_out),
            "hold_released",
        )
        # Last: if Redis does not answer, the release is rolled back too.
        await deps.holds.release(facility_id, hold_id, stored.token_hash, stored.principal_id)


def _may_see(principal: Principal, facility_id: int, stored: StoredHold) -> bool:
    if principal.role == "admin" or stored.principal_id == principal.id:
        return True
    return principal.role == "staff" and principal.facility_id == facility_id


async def _live(
    deps: Deps, principal: Principal, hold_id: str, at: float
) -> tuple[int, StoredHold]:
    facility_id = hold_facility(hold_id) if len(hold_id) <= MAX_HOLD_ID else None
    # An offer's hold is its offer's to end (``respite.waitlist``), not the holds API's.
    if facility_id is not None and not is_offer_hold(hold_id):
        stored = await deps.holds.held(facility_id, hold_id)
        if (
            stored is not None
            and stored.expires_at > at
            and _may_see(principal, facility_id, stored)
        ):
            return facility_id, stored
    raise NotFoundError("hold", hold_id)


async def _views(deps: Deps, held: Sequence[tuple[str, StoredHold]], at: float) -> list[HoldView]:
    if not held:
        return []
    rows = await deps.pool.fetch(q.SELECT_HELD_BEDS, sorted({s.bed_id for _, s in held}))
    beds = {row["id"]: row for row in rows}
    return [
        _view(deps.settings, hold_id, stored, beds[stored.bed_id], at)
        for hold_id, stored in held
        if stored.bed_id in beds
    ]


def _view(
    settings: Settings, hold_id: str, stored: StoredHold, bed: asyncpg.Record, at: float
) -> HoldView:
    check_in, check_out = date.fromisoformat(stored.check_in), date.fromisoformat(stored.check_out)
    # Holds placed before Redis kept their price show the bed's price now.
    price = stored.nightly_price if stored.nightly_price is not None else bed["nightly_price"]
    return HoldView(
        hold_id=hold_id,
        expires_at=instant(stored.expires_at),
        seconds_left=seconds_left(stored.expires_at, at),
        max_expires_at=instant(stored.created_at + settings.hold_max_age_seconds),
        extensions_left=max(0, settings.hold_max_extensions - stored.extensions),
        bed=HeldBed(
            id=bed["id"], label=bed["label"], facility_id=bed["facility_id"], kind=bed["kind"]
        ),
        facility=FacilityContact(
            id=bed["facility_id"], name=bed["name"], address=bed["address"], phone=bed["phone"]
        ),
        care_recipient_id=stored.care_recipient_id,
        check_in=check_in,
        check_out=check_out,
        nights=(check_out - check_in).days,
        nightly_price=price,
        total_price=stay_price(price, check_in, check_out),
    )
