"""Making offers: from a job of the outbox to, at most, one offer for one entry.

Runs inside the worker's transaction for one leased job (``worker.py``), under a
transaction-scoped advisory lock on the job's bed, so two workers never judge one bed's nights
at once: whatever the other offered is committed and seen before this one reads. For a freed
bed and nights:

1. read the free run around the nights (claims in PostgreSQL, live holds in Redis, open
   offers; ``matching.free_run``) on the facility's today;
2. read the live entries waiting for that facility and kind whose window fits the run, and
   order them by the priority groups of the bed's policy, then by when they joined;
3. pass over, with a recorded reason, each entry that cannot take it: an offer open already,
   the same bed and nights turned down before, the elder offered elsewhere or staying
   elsewhere those nights, the elder no longer seen by the entry's owner, or not eligible
   for this bed and stay (the pure engine, as a hold judges it);
4. offer it to the first that can: lock the entry, insert the offer and set the entry
   ``offered``, queue what is left of the run, and — last, as a hold does — place the real
   hold in Redis. If Redis has the bed held by someone else meanwhile, nothing is offered;
   if Redis does not answer, everything rolls back and the job is retried (``worker.py``).

The offer's hold id and token are derived from the job, so a retry after a crash that left
the hold in Redis but no offer in PostgreSQL replaces that same hold instead of being
refused by it.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from datetime import date, datetime, time, timedelta

import asyncpg
from msgspec import Struct

from respite import audit
from respite.auth.model import Principal
from respite.booking.beds import judge, load_bed, load_elder
from respite.clock import local_today, zone
from respite.db import Conn
from respite.deps import Deps
from respite.eligibility.errors import NoPolicyInForceError
from respite.eligibility.model import CareRecipient, Stay
from respite.eligibility.priority import rank
from respite.eligibility.service import JudgedBed
from respite.eligibility.subject import Viewer
from respite.errors import NotFoundError
from respite.holds.store import StoredHold, is_offer_hold, offer_hold_id, read_live_holds
from respite.keys import derive_key
from respite.nights import first_elder_claim
from respite.notifications import OfferMade, notify
from respite.waitlist import queries as q
from respite.waitlist.matching import RUN_REACH, Run, Window, fit, free_run, rest
from respite.waitlist.offers import tell_hospital

__all__ = [
    "CANDIDATES",
    "HeldMeanwhile",
    "Job",
    "offer_deadline",
    "offer_freed",
    "offer_token_hash",
    "place_offer_hold",
    "principal_of",
]

log = logging.getLogger("respite.waitlist")
CANDIDATES = 2000
"""Live entries judged for one freed run, first served first."""
# An offer never lapses sooner than this, even when the stay starts very soon.
MIN_OFFER = timedelta(minutes=30)


class Job(Struct, frozen=True, kw_only=True):
    id: int
    kind: str
    cause: str
    bed_id: int | None
    from_night: date | None
    until_night: date | None
    entry_id: int | None
    attempts: int


class HeldMeanwhile(Exception):
    """Redis holds the bed for someone else for part of the stay: nothing is offered."""


def offer_token_hash(secret_key: str, job_id: int) -> str:
    """The hash the offer's hold is kept under: derived, so a retry writes the same one."""
    key = derive_key(secret_key, "waitlist-offer-hold")
    return hmac.new(key, f"offer:{job_id}".encode(), hashlib.sha256).hexdigest()


def principal_of(row: asyncpg.Record) -> Principal:
    return Principal(
        id=row["id"],
        role=row["role"],
        name=row["name"],
        facility_id=row["facility_id"],
        hospital_id=row["hospital_id"],
        staff_role=row["staff_role"],
    )


def _elder(row: asyncpg.Record) -> CareRecipient:
    return CareRecipient(
        sex=row["sex"], birth_date=row["birth_date"], living_situation=row["living_situation"]
    )


def _window(row: asyncpg.Record) -> Window:
    return Window(
        earliest_check_in=row["earliest_check_in"],
        latest_check_out=row["latest_check_out"],
        nights=row["nights"],
        min_nights=row["min_nights"],
    )


async def _taken(deps: Deps, conn: Conn, bed: JudgedBed, bounds: Run) -> list[tuple[date, date]]:
    """Every stay of the bed within ``bounds`` that is not free: claimed nights, open offers
    and live holds."""
    one = timedelta(days=1)
    bed_id = bed.facts.bed_id
    rows = await conn.fetch(q.SELECT_CLAIMED_NIGHTS, bed_id, bounds.start, bounds.end)
    taken = [(r["night"], r["night"] + one) for r in rows]
    taken += [
        (r["check_in"], r["check_out"])
        for r in await conn.fetch(q.SELECT_OPEN_OFFERS_OF_BED, bed_id)
    ]
    at = deps.clock.now().timestamp()
    holds = await read_live_holds(deps.holds.client, [bed.facts.facility_id], at)
    # An offer's hold counts through its offer above: one that ended may linger in Redis.
    taken += [
        (h.check_in, h.check_out)
        for h in holds.get(bed.facts.facility_id, [])
        if h.bed_id == bed_id and not is_offer_hold(h.hold_id)
    ]
    return taken


async def offer_freed(deps: Deps, conn: Conn, job: Job, bed_id: int, freed: Run) -> str:
    """Offer the freed nights to the first entry that can take them; the job's outcome."""
    await conn.execute(q.LOCK_BED_FOR_OFFERS, bed_id)
    now = deps.clock.now()
    try:
        bed = await load_bed(conn, bed_id, freed.start, lock=False)
    except NotFoundError:
        return "bed_gone"
    except NoPolicyInForceError:
        return "no_policy"
    today = local_today(bed.facts.timezone, now)
    bounds = Run(
        max(today, freed.start - timedelta(days=RUN_REACH)), freed.end + timedelta(days=RUN_REACH)
    )
    if freed.end <= today:
        return "past"
    run = free_run(freed, await _taken(deps, conn, bed, bounds), today=today, bounds=bounds)
    if run is None:
        return "taken"
    if run.end < freed.end:  # the freed nights go on past a taken one: their own job
        await _queue_rest(conn, bed_id, Run(run.end, freed.end), job.cause)
    rows = await conn.fetch(
        q.SELECT_CANDIDATES, bed.facts.facility_id, bed.facts.kind, run.start, run.end, CANDIDATES
    )
    if not rows:
        return "nobody_waits"
    groups = bed.policy.policy.waiting_priorities
    ranked = sorted(
        ((rank(groups, _elder(r), r["discharged_on"], today), r) for r in rows),
        key=lambda pair: (pair[0].rank, pair[1]["joined_at"], pair[1]["id"]),
    )
    judge_ = _Judge(deps, conn, bed, now)
    turned_down = {
        r["entry_id"]: r["status"]
        for r in await conn.fetch(
            q.SELECT_TURNED_DOWN, bed_id, [r["id"] for r in rows], run.start, run.end
        )
    }
    offered_elders = {
        r["care_recipient_id"]
        for r in await conn.fetch(q.SELECT_ELDERS_OFFERED, [r["care_recipient_id"] for r in rows])
    }
    for ranked_as, row in ranked:
        stay = fit(_window(row), run)
        if stay is None:
            continue
        reason: str | None
        codes: list[str] = []
        if row["status"] == "offered":
            reason = "offer_open"
        elif row["id"] in turned_down:
            reason = f"{turned_down[row['id']]}_before"
        elif row["care_recipient_id"] in offered_elders:
            reason = "elder_offered"
        else:
            reason, codes = await judge_.refusal(row, stay)
        if reason is None:
            # Workers on other beds take turns on the elder, then on the entry: neither is
            # offered twice at once.
            await conn.execute(q.LOCK_ELDER_FOR_OFFERS, row["care_recipient_id"])
            locked = await conn.fetchrow(q.LOCK_ENTRY, row["id"])
            if locked is None or locked["status"] not in ("waiting", "offered"):
                continue  # left, booked or expired meanwhile: nothing to pass over
            elder_offered = await conn.fetchval(q.SELECT_ELDERS_OFFERED, [row["care_recipient_id"]])
            if locked["status"] == "waiting" and elder_offered is None:
                await _make(deps, conn, job, judge_.bed_for(stay), row, stay, ranked_as.group, now)
                for left in rest(run, stay):
                    await _queue_rest(conn, bed_id, left, job.cause)
                return "offered"
            reason = "offer_open" if locked["status"] == "offered" else "elder_offered"
        await conn.execute(
            q.INSERT_PASS,
            job.id,
            row["id"],
            bed_id,
            bed.facts.facility_id,
            stay.start,
            stay.end,
            reason,
            codes,
            now,
        )
    return "none_could_take_it"


async def _queue_rest(conn: Conn, bed_id: int, left: Run, cause: str) -> None:
    await conn.execute(
        "INSERT INTO waitlist_jobs (kind, cause, bed_id, from_night, until_night) "
        "VALUES ('freed', $4, $1, $2, $3)",
        bed_id,
        left.start,
        left.end,
        cause,
    )


class _Judge:
    """Judges entries for one bed, loading its policy once per check-in date."""

    def __init__(self, deps: Deps, conn: Conn, bed: JudgedBed, now: datetime) -> None:
        self.deps, self.conn, self.now = deps, conn, now
        self.beds: dict[date, JudgedBed] = {}
        self.first = bed

    def bed_for(self, stay: Run) -> JudgedBed:
        return self.beds.get(stay.start, self.first)

    async def refusal(self, row: asyncpg.Record, stay: Run) -> tuple[str | None, list[str]]:
        """Why the entry cannot be offered the stay on this bed, or (None, []) if it can."""
        owner_row = await self.conn.fetchrow(q.SELECT_PRINCIPAL, row["owner_id"])
        if owner_row is None:
            return "owner_gone", []
        viewer = Viewer.of(principal_of(owner_row), self.now, self.deps.settings)
        facts = self.first.facts
        try:
            elder = await load_elder(
                self.conn, viewer, row["care_recipient_id"], facts.kind, facts.facility_id
            )
        except NotFoundError:
            return "elder_not_found", []
        if await first_elder_claim(self.conn, row["care_recipient_id"], stay.start, stay.end):
            return "elder_staying", []
        if stay.start not in self.beds:
            try:
                self.beds[stay.start] = await load_bed(
                    self.conn, facts.bed_id, stay.start, lock=False
                )
            except NoPolicyInForceError:
                return "no_policy", []
        checked = judge(
            self.beds[stay.start], elder, Stay(check_in=stay.start, check_out=stay.end), self.now
        )
        if not checked.decision.eligible:
            return "not_eligible", [r.code for r in checked.decision.reasons if not r.ok]
        return None, []


def offer_deadline(
    deps: Deps, owner_role: str, timezone: str, check_in: date, now: datetime
) -> datetime:
    """When an offer made ``now`` lapses: its owner's hours (families have longer than
    hospitals and staff), but no later than noon of the check-in day, the facility's time, and
    never sooner than half an hour (or the owner's hours, if fewer)."""
    settings = deps.settings
    hours = (
        settings.waitlist_offer_hours_family
        if owner_role == "family"
        else settings.waitlist_offer_hours_hospital
    )
    noon = datetime.combine(check_in, time(12), tzinfo=zone(timezone))
    given = timedelta(hours=hours)
    return max(min(now + given, noon), now + min(given, MIN_OFFER))


async def _make(
    deps: Deps,
    conn: Conn,
    job: Job,
    bed: JudgedBed,
    entry: asyncpg.Record,
    stay: Run,
    group: str | None,
    now: datetime,
) -> int:
    facts = bed.facts
    owner = await conn.fetchrow(q.SELECT_PRINCIPAL, entry["owner_id"])
    assert owner is not None, "an entry whose owner is gone was offered"
    deadline = offer_deadline(deps, owner["role"], facts.timezone, stay.start, now)
    hold_id = offer_hold_id(facts.facility_id, job.id)
    hashed = offer_token_hash(deps.settings.secret_key, job.id)
    offer_id = await conn.fetchval(
        q.INSERT_OFFER,
        entry["id"],
        job.id,
        facts.facility_id,
        facts.bed_id,
        stay.start,
        stay.end,
        facts.nightly_price,
        hold_id,
        hashed,
        group,
        now,
        deadline,
    )
    await conn.execute(q.SET_ENTRY_STATUS, entry["id"], "offered")
    made = await conn.fetchrow(q.SELECT_OFFER, offer_id)
    assert made is not None
    await notify(
        conn,
        principal_id=entry["owner_id"],
        kind="waitlist.offer_made",
        facts=OfferMade(
            offer_id=offer_id,
            facility_name=made["facility_name"],
            facility_timezone=made["timezone"],
            facility_phone=made["facility_phone"] or None,
            bed_label=made["bed_label"],
            check_in=stay.start,
            check_out=stay.end,
            deadline=deadline,
        ),
        key=f"offer:{offer_id}",
        now=now,
    )
    await tell_hospital(conn, made, "waitlist.offer_made", now)
    await audit.record(
        conn,
        None,
        "offer",
        "waitlist_entry",
        entry["id"],
        facility_id=facts.facility_id,
        after={
            "offer_id": offer_id,
            "bed_id": facts.bed_id,
            "check_in": stay.start,
            "check_out": stay.end,
            "deadline": deadline,
            "cause": job.cause,
        },
    )
    stored = StoredHold(
        bed_id=facts.bed_id,
        check_in=stay.start.isoformat(),
        check_out=stay.end.isoformat(),
        expires_at=deadline.timestamp(),
        created_at=now.timestamp(),
        principal_id=entry["owner_id"],
        care_recipient_id=entry["care_recipient_id"],
        token_hash=hashed,
        nightly_price=facts.nightly_price,
    )
    await place_offer_hold(deps, conn, facts.facility_id, hold_id, stored)
    return int(offer_id)


async def place_offer_hold(
    deps: Deps, conn: Conn, facility_id: int, hold_id: str, stored: StoredHold
) -> None:
    """Put the offer's hold in Redis (HeldMeanwhile if another hold overlaps it). In the way
    and taken out first: an earlier attempt's copy of this same hold, and the hold of an
    offer that has ended (its release after the commit did not reach Redis, or not yet)."""
    at = deps.clock.now().timestamp()
    for _ in range(3):
        placed = await deps.holds.place(facility_id, hold_id, stored, at)
        other = placed.conflicting_hold
        if placed.placed or other is None:
            return
        if other == hold_id:
            hashed = stored.token_hash
        elif is_offer_hold(other):
            ended = await conn.fetchrow(q.SELECT_ENDED_OFFER_HOLD, other)
            if ended is None:
                break  # an open offer holds it: the bed is taken
            hashed = ended["hold_token_hash"]
        else:
            break
        await deps.holds.release(facility_id, other, hashed, stored.principal_id)
    raise HeldMeanwhile(placed.conflicting_hold)
