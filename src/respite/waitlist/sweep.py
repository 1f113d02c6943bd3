"""What the offer worker looks for now and then, since no transaction announces it:

- offers past their deadline lapse: the entry waits again and the nights go to the next in
  line (their hold in Redis expires at that same deadline);
- holds that lapsed unconfirmed and unreleased: found in PostgreSQL (``hold_starts.lapse_at``),
  never from Redis keyspace events. Redis is asked whether the hold was extended (then its new
  end is kept as the next look); a hold gone or expired there gives its nights back. While
  Redis does not answer, nothing is decided: the look waits for it;
- entries whose window has passed expire;
- open offers whose hold Redis lost (a restart without persistence) are held again, so that
  searches and other holds keep seeing the bed as taken while the offer stands.

Each step is its own short transaction over a batch, with ``SKIP LOCKED``, so sweeps of
several processes share the work.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import redis.exceptions

from respite.clock import local_today
from respite.deps import Deps
from respite.eligibility.model import DEFAULT_TIMEZONE
from respite.holds.errors import HoldsUnavailable
from respite.holds.store import StoredHold, read_live_holds
from respite.nights import record_freed
from respite.waitlist import queries as q
from respite.waitlist.offering import HeldMeanwhile, place_offer_hold
from respite.waitlist.offers import end_offer

__all__ = [
    "BATCH",
    "expire_entries",
    "lapse_holds",
    "lapse_offers",
    "restore_offer_holds",
    "sweep_all",
]

log = logging.getLogger("respite.waitlist")
BATCH = 200


async def sweep_all(deps: Deps) -> None:
    await lapse_offers(deps)
    try:
        await lapse_holds(deps)
        await restore_offer_holds(deps)
    except (HoldsUnavailable, redis.exceptions.RedisError) as exc:
        log.warning("waitlist sweep waits for Redis: %s", exc)
    await expire_entries(deps)


async def lapse_offers(deps: Deps) -> int:
    now = deps.clock.now()
    async with deps.pool.acquire() as conn, conn.transaction():
        offers = await conn.fetch(q.LOCK_LAPSED_OFFERS, now, BATCH)
        for offer in offers:
            await end_offer(conn, offer, "lapsed", now, None)
    return len(offers)


async def lapse_holds(deps: Deps) -> int:
    now = deps.clock.now()
    at = now.timestamp()
    lapsed = 0
    async with deps.pool.acquire() as conn, conn.transaction():
        rows = await conn.fetch(q.LOCK_LAPSING_HOLDS, now, BATCH)
        if not rows:
            return 0
        live = await read_live_holds(
            deps.holds.client, sorted({r["facility_id"] for r in rows}), at
        )
        ends = {h.hold_id: h.expires_at for holds in live.values() for h in holds}
        for row in rows:
            hold_id = row["hold_id"]
            if await conn.fetchval(q.HOLD_ENDED, hold_id) is not None:
                await conn.execute(q.SET_HOLD_LAPSE, hold_id, None)
            elif hold_id in ends and row["max_expires_at"].timestamp() > at:
                await conn.execute(
                    q.SET_HOLD_LAPSE, hold_id, datetime.fromtimestamp(ends[hold_id], UTC)
                )
            else:
                await conn.execute(q.SET_HOLD_LAPSE, hold_id, None)
                await record_freed(
                    conn, row["bed_id"], row["check_in"], row["check_out"], "hold_lapsed"
                )
                lapsed += 1
    return lapsed


async def expire_entries(deps: Deps) -> int:
    now = deps.clock.now()
    async with deps.pool.acquire() as conn:
        rows = await conn.fetch(q.EXPIRE_ENTRIES, now, local_today(DEFAULT_TIMEZONE, now))
    return len(rows)


async def restore_offer_holds(deps: Deps) -> int:
    now = deps.clock.now()
    at = now.timestamp()
    async with deps.pool.acquire() as conn:
        offers = [o for o in await conn.fetch(q.SELECT_OPEN_OFFERS, BATCH) if o["deadline"] > now]
    if not offers:
        return 0
    live = await read_live_holds(deps.holds.client, sorted({o["facility_id"] for o in offers}), at)
    held = {h.hold_id for holds in live.values() for h in holds}
    restored = 0
    for offer in offers:
        if offer["hold_id"] in held:
            continue
        stored = StoredHold(
            bed_id=offer["bed_id"],
            check_in=offer["check_in"].isoformat(),
            check_out=offer["check_out"].isoformat(),
            expires_at=offer["deadline"].timestamp(),
            created_at=offer["made_at"].timestamp(),
            principal_id=offer["owner_id"],
            care_recipient_id=offer["care_recipient_id"],
            token_hash=offer["hold_token_hash"],
            nightly_price=offer["nightly_price"],
        )
        try:
            await place_offer_hold(deps, offer["facility_id"], offer["hold_id"], stored)
            restored += 1
        except HeldMeanwhile:
            # Someone held the bed while Redis had forgotten the offer: PostgreSQL decides
            # between them at booking; the offer stands.
            log.warning("offer %s's bed is held by another hold since Redis lost it", offer["id"])
    if restored:
        log.info("held %s open offers again that Redis had lost", restored)
    return restored
