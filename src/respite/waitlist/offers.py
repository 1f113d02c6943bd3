"""Use cases of offers: accept one (a booking, through ``book()``), decline one; and how every
offer ends, whoever ends it.

Locks are taken in one order everywhere — the offer's row, then its entry's — so accepting,
declining, leaving and the sweep's lapsing take turns on one offer and never deadlock; the
worker, which only inserts offers, takes the entry's alone.

Accepting books the offer's bed and nights for its elder inside a savepoint. If the database
refuses (the bed was taken first by a walk-in, the elder booked elsewhere meanwhile, the elder
no longer eligible), the offer ends ``lost``, the entry waits again and looks for the next free
bed at once, all committed, and then the caller gets the named problem. Its hold leaves Redis
after the commit, as a confirmed hold does.
"""

from __future__ import annotations

import logging
from datetime import datetime

import asyncpg

from respite import audit, idempotency
from respite.auth.model import Principal
from respite.booking.book import book, busy
from respite.booking.errors import (
    BedTakenError,
    ElderAlreadyStayingError,
    IneligibleError,
    PriceChangedError,
)
from respite.booking.model import Booking, NewBooking, stay_price
from respite.clock import zone
from respite.db import Conn
from respite.deps import Deps
from respite.errors import NotFoundError, RespiteError
from respite.holds.errors import HoldsUnavailable
from respite.holds.store import HoldStore
from respite.i18n import t
from respite.inventory.profile import FacilityContact
from respite.nights import FreedCause, record_freed
from respite.referral.model import WaitlistEventType
from respite.referral.outbox import record_offer
from respite.referral.webhook_model import EventBed, EventOffer
from respite.waitlist import queries as q
from respite.waitlist.errors import OfferEndedError, OfferLostError
from respite.waitlist.model import Offer, OfferStatus

__all__ = [
    "accept_offer",
    "decline_offer",
    "end_offer",
    "get_offer",
    "offer_view",
    "release_offer_hold",
    "tell_hospital",
]

log = logging.getLogger("respite.waitlist")

# What an ended offer gives back to the waiting list, by how it ended.
_FREES: dict[OfferStatus, FreedCause] = {
    "declined": "offer_declined",
    "lapsed": "offer_lapsed",
    "withdrawn": "offer_withdrawn",
}


def offer_view(row: asyncpg.Record, now: datetime) -> Offer:
    deadline: datetime = row["deadline"]
    return Offer(
        id=row["id"],
        entry_id=row["entry_id"],
        status=row["status"],
        facility=FacilityContact(
            id=row["facility_id"],
            name=row["facility_name"],
            address=row["facility_address"],
            phone=row["facility_phone"],
        ),
        facility_id=row["facility_id"],
        bed_id=row["bed_id"],
        bed_label=row["bed_label"],
        care_recipient_id=row["care_recipient_id"],
        check_in=row["check_in"],
        check_out=row["check_out"],
        nights=(row["check_out"] - row["check_in"]).days,
        nightly_price=row["nightly_price"],
        total_price=stay_price(row["nightly_price"], row["check_in"], row["check_out"]),
        made_at=row["made_at"],
        deadline=deadline,
        deadline_local=t("waitlist.deadline", at=deadline.astimezone(zone(row["timezone"]))),
        seconds_left=max(0, int((deadline - now).total_seconds()))
        if row["status"] == "open"
        else 0,
        booking_id=row["booking_id"],
        ended_at=row["ended_at"],
    )


async def end_offer(
    conn: Conn,
    offer: asyncpg.Record,
    status: OfferStatus,
    now: datetime,
    principal: Principal | None,
    *,
    booking_id: int | None = None,
) -> None:
    """End an open offer the caller has locked: record it, put a live entry back to waiting,
    and give the nights back to the waiting list (not when it was accepted or lost: a lost
    offer's nights are someone else's already)."""
    await conn.execute(q.END_OFFER, offer["id"], status, now, booking_id)
    entry = await conn.fetchrow(q.LOCK_ENTRY, offer["entry_id"])
    if entry is not None and entry["status"] == "offered" and status != "accepted":
        await conn.execute(q.SET_ENTRY_STATUS, offer["entry_id"], "waiting")
    if status == "lapsed":
        await tell_hospital(conn, offer, "waitlist.offer_lapsed", now)
    cause = _FREES.get(status)
    if cause is not None:
        await record_freed(conn, offer["bed_id"], offer["check_in"], offer["check_out"], cause)
    await audit.record(
        conn,
        principal,
        f"offer_{status}",
        "waitlist_entry",
        offer["entry_id"],
        facility_id=offer["facility_id"],
        after={"offer_id": offer["id"], "booking_id": booking_id},
    )


async def tell_hospital(
    conn: Conn, offer: asyncpg.Record, event_type: WaitlistEventType, now: datetime
) -> None:
    """A callback to the hospital whose referral the offer's entry was made for, if any."""
    if offer["referral_id"] is None:
        return
    summary = EventOffer(
        offer_id=offer["id"],
        entry_id=offer["entry_id"],
        status="lapsed" if event_type == "waitlist.offer_lapsed" else "open",
        deadline=offer["deadline"],
        bed=EventBed(
            id=offer["bed_id"],
            label=offer["bed_label"],
            facility_id=offer["facility_id"],
            facility_name=offer["facility_name"],
        ),
        check_in=offer["check_in"],
        check_out=offer["check_out"],
    )
    await record_offer(conn, offer["referral_id"], event_type, summary, now)


async def release_offer_hold(holds: HoldStore, offer: asyncpg.Record) -> None:
    """Take the offer's hold out of Redis, as far as Redis answers; what it does not answer
    lapses at the offer's deadline anyway."""
    try:
        await holds.release(
            offer["facility_id"], offer["hold_id"], offer["hold_token_hash"], offer["owner_id"]
        )
    except HoldsUnavailable:
        log.warning("offer %s's hold stays in Redis until its deadline", offer["id"])


async def _locked_open(
    conn: Conn, principal: Principal, offer_id: int, now: datetime
) -> asyncpg.Record:
    offer = await conn.fetchrow(q.LOCK_OFFER, offer_id)
    if offer is None or not _may_act(principal, offer):
        raise NotFoundError("offer", offer_id)
    if offer["status"] != "open":
        raise OfferEndedError(offer_id=offer_id, status=offer["status"])
    if offer["deadline"] <= now:
        raise OfferEndedError(offer_id=offer_id, status="lapsed")
    return offer


def _may_act(principal: Principal, offer: asyncpg.Record) -> bool:
    return principal.role == "admin" or offer["owner_id"] == principal.id


async def accept_offer(
    deps: Deps, principal: Principal, offer_id: int, idempotency_key: str
) -> Booking:
    """Book the offer; a replayed Idempotency-Key answers the same booking."""
    now = deps.clock.now()
    lost: RespiteError | None = None
    async with busy(), deps.pool.acquire() as conn, conn.transaction():
        request_hash = idempotency.body_hash("waitlist.accept", offer_id)
        earlier = await idempotency.replay(
            conn, principal, idempotency_key, "waitlist.accept", request_hash, Booking
        )
        if earlier is not None:
            return earlier
        offer = await _locked_open(conn, principal, offer_id, now)
        try:
            async with conn.transaction():
                booking = await book(
                    conn,
                    principal,
                    NewBooking(
                        care_recipient_id=offer["care_recipient_id"],
                        bed_id=offer["bed_id"],
                        check_in=offer["check_in"],
                        check_out=offer["check_out"],
                        hold_id=offer["hold_id"],
                        nightly_price=offer["nightly_price"],
                        referral_id=offer["referral_id"],
                    ),
                    now=now,
                    settings=deps.settings,
                    listeners=deps.listeners,
                )
        except (
            BedTakenError,
            ElderAlreadyStayingError,
            IneligibleError,
            PriceChangedError,
        ) as exc:
            lost = exc
            await end_offer(conn, offer, "lost", now, principal)
            await conn.execute(q.INSERT_ENTRY_JOB, offer["entry_id"], "offer_lost")
        else:
            await end_offer(conn, offer, "accepted", now, principal, booking_id=booking.id)
            await conn.execute(q.END_ENTRY, offer["entry_id"], "booked", now, booking.id)
            await idempotency.remember(conn, principal, idempotency_key, 201, booking)
    await release_offer_hold(deps.holds, offer)
    if lost is not None:
        raise OfferLostError(offer_id=offer_id, cause=lost)
    return booking


async def decline_offer(deps: Deps, principal: Principal, offer_id: int) -> Offer:
    """Turn the offer down: the entry keeps waiting, and the bed goes to the next in line."""
    now = deps.clock.now()
    async with busy(), deps.pool.acquire() as conn, conn.transaction():
        offer = await _locked_open(conn, principal, offer_id, now)
        await end_offer(conn, offer, "declined", now, principal)
        ended = await conn.fetchrow(q.SELECT_OFFER, offer_id)
    await release_offer_hold(deps.holds, offer)
    assert ended is not None
    return offer_view(ended, now)


async def get_offer(deps: Deps, principal: Principal, offer_id: int) -> Offer:
    async with deps.pool.acquire() as conn:
        row = await conn.fetchrow(q.SELECT_OFFER, offer_id)
    if row is None or not _may_act(principal, row):
        raise NotFoundError("offer", offer_id)
    return offer_view(row, deps.clock.now())
