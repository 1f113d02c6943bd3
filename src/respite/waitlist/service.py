"""Use cases of entries: join, read (with the position), leave; and a facility's queue.

Who may do what: families and hospitals put their own elders on the list and see their own
entries; staff put an elder they see on the list for their own facility only, and read their
facility's queue (no names); admins all. Another tenant's entry is 404, like one that does not
exist. Every write is audited and takes an Idempotency-Key where a retry could repeat it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

import asyncpg

from respite import audit, idempotency, paging
from respite.auth.model import Principal
from respite.availability.model import parse_point
from respite.availability.policies import in_force, load_versions
from respite.availability.where import swapped
from respite.booking.book import busy
from respite.booking.model import MAX_DAYS_AHEAD
from respite.clock import local_today
from respite.db import Conn
from respite.deps import Deps
from respite.eligibility.model import DEFAULT_TIMEZONE, CareRecipient, age_on
from respite.eligibility.priority import DEFAULT_PRIORITIES, PriorityGroup, describe, rank
from respite.eligibility.subject import Subject, Viewer, load_subject
from respite.errors import FieldError, InvalidInputError, NotFoundError
from respite.i18n import Text, t
from respite.paging import Page
from respite.places.service import find_place
from respite.waitlist import queries as q
from respite.waitlist.errors import EntryEndedError, TooManyEntriesError
from respite.waitlist.model import (
    LIVE,
    MAX_FACILITIES,
    MAX_PASSES_SHOWN,
    Entry,
    JoinRequest,
    Pass,
    Queue,
    QueueEntry,
)
from respite.waitlist.offers import end_offer, offer_view, release_offer_hold

__all__ = ["ENTRY_PAGES", "get_entry", "join", "leave", "list_entries", "queue_of"]

ENTRY_PAGES = "page:waitlist"
MIN_PLACE_RADIUS_M = 1000.0
MAX_QUEUE = 500
SELECT_REFERRAL = """
SELECT discharge_date FROM referrals WHERE id = $1 AND hospital_id = $2 AND care_recipient_id = $3
"""
SELECT_POLICY_CODE = """
SELECT CASE WHEN $2 = 'home' THEN home_policy_code ELSE respite_policy_code END
FROM facilities WHERE id = $1
"""


async def join(
    deps: Deps, principal: Principal, request: JoinRequest, idempotency_key: str | None
) -> Entry:
    """Put the elder on the waiting list; a replayed Idempotency-Key answers the same entry."""
    now = deps.clock.now()
    async with busy(), deps.pool.acquire() as conn, conn.transaction():
        request_hash = idempotency.body_hash("waitlist.join", request)
        if idempotency_key is not None:
            earlier = await idempotency.replay(
                conn, principal, idempotency_key, "waitlist.join", request_hash, Entry
            )
            if earlier is not None:
                return earlier
        viewer = Viewer.of(principal, now, deps.settings)
        subject = await load_subject(conn, viewer, request.care_recipient_id)
        today = local_today(DEFAULT_TIMEZONE, now)
        _check_window(request, today)
        discharged_on = await _discharge(conn, principal, request)
        facilities, near = await _facilities(conn, principal, request, subject)
        await conn.execute(
            "SELECT 1 FROM care_recipients WHERE id = $1 FOR UPDATE", request.care_recipient_id
        )
        live = await conn.fetchval(q.COUNT_LIVE_ENTRIES_OF_ELDER, request.care_recipient_id)
        limit = deps.settings.waitlist_entries_per_elder
        if live >= limit:
            raise TooManyEntriesError(care_recipient_id=request.care_recipient_id, limit=limit)
        entry_id = await conn.fetchval(
            q.INSERT_ENTRY,
            principal.id,
            request.care_recipient_id,
            request.kind,
            facilities,
            near[0] if near else None,
            near[1] if near else None,
            near[2] / 1000 if near else None,
            near[3] if near else None,
            request.earliest_check_in,
            request.latest_check_out,
            request.nights,
            request.fewest_nights,
            discharged_on,
            request.referral_id,
            now,
        )
        await conn.execute(q.INSERT_ENTRY_JOB, entry_id, "joined")
        await audit.record(
            conn,
            principal,
            "join",
            "waitlist_entry",
            entry_id,
            after={"care_recipient_id": request.care_recipient_id, "facility_ids": facilities},
        )
        entry = await _entry(conn, await _row(conn, entry_id), now)
        if idempotency_key is not None:
            await idempotency.remember(conn, principal, idempotency_key, 201, entry)
    return entry


def _check_window(request: JoinRequest, today: date) -> None:
    if request.earliest_check_in < today:
        raise InvalidInputError.one("earliest_check_in", t("waitlist.window_past", today=today))
    if (request.earliest_check_in - today).days > MAX_DAYS_AHEAD:
        raise InvalidInputError.one(
            "earliest_check_in", t("booking.check_in_too_far", n=MAX_DAYS_AHEAD, today=today)
        )


async def _discharge(conn: Conn, principal: Principal, request: JoinRequest) -> date | None:
    if request.referral_id is None:
        return request.discharged_on
    if principal.role != "hospital":
        raise InvalidInputError.one("referral_id", t("waitlist.referral_hospitals_only"))
    discharge = await conn.fetchval(
        SELECT_REFERRAL, request.referral_id, principal.hospital_id, request.care_recipient_id
    )
    if discharge is None:
        raise NotFoundError("referral", request.referral_id)
    return request.discharged_on or discharge


Near = tuple[float, float, float, int | None]
"""Where an area entry looks: lat, lon, radius in metres, and the place it was named by."""


async def _facilities(
    conn: Conn, principal: Principal, request: JoinRequest, subject: Subject
) -> tuple[list[int], Near | None]:
    """The facilities the entry waits for, and the area they were found in, if any."""
    if request.facility_ids is not None:
        given = request.facility_ids
        if principal.role == "staff" and given != [principal.facility_id]:
            raise InvalidInputError.one("facility_ids", t("waitlist.staff_own_facility"))
        rows = await conn.fetch(q.SELECT_FACILITIES_WITH_KIND, given, request.kind)
        found = {r["id"] for r in rows}
        errors = [
            FieldError(
                f"facility_ids[{i}]", t("waitlist.no_such_facility", kind=_kind(request.kind))
            )
            for i, facility_id in enumerate(given)
            if facility_id not in found
        ]
        if errors:
            raise InvalidInputError(errors)
        return list(given), None
    if principal.role == "staff":
        raise InvalidInputError.one("facility_ids", t("waitlist.staff_own_facility"))
    field, near = await _area(conn, request, subject)
    rows = await conn.fetch(q.SELECT_FACILITIES_NEAR, near[0], near[1], request.kind, near[2])
    within = [r["id"] for r in rows if r["metres"] <= near[2]][:MAX_FACILITIES]
    if not within:
        raise InvalidInputError.one(
            field, t("waitlist.none_near", kind=_kind(request.kind), km=round(near[2] / 1000, 1))
        )
    return within, near


async def _area(conn: Conn, request: JoinRequest, subject: Subject) -> tuple[str, Near]:
    radius = request.radius_km * 1000 if request.radius_km is not None else None
    if request.place is not None:
        place = await find_place(conn, request.place)
        reach = radius or max(float(place.radius_m), MIN_PLACE_RADIUS_M)
        return "place", (place.lat, place.lon, reach, place.id)
    if request.near is not None:
        point = parse_point(request.near)
        if point is None:
            raise InvalidInputError.one("near", swapped(request.near) or t("availability.point"))
        assert radius is not None  # JoinRequest requires it with near
        return "near", (point.lat, point.lon, radius, None)
    person = subject.person
    if person.home_lat is None or person.home_lon is None:
        raise InvalidInputError.one("near_home", t("waitlist.no_home"))
    return "near_home", (person.home_lat, person.home_lon, radius or 5000.0, None)


async def _row(conn: Conn, entry_id: int) -> asyncpg.Record:
    row = await conn.fetchrow(q.SELECT_ENTRY, entry_id)
    assert row is not None, "an entry written in this transaction is gone"
    return row


def _kind(kind: str) -> Text:
    return t(f"waitlist.kind.{kind}")


def _may_see(principal: Principal, row: asyncpg.Record) -> bool:
    return principal.role == "admin" or row["owner_id"] == principal.id


async def get_entry(deps: Deps, principal: Principal, entry_id: int) -> Entry:
    async with deps.pool.acquire() as conn:
        row = await conn.fetchrow(q.SELECT_ENTRY, entry_id)
        if row is None or not _may_see(principal, row):
            raise NotFoundError("waitlist entry", entry_id)
        return await _entry(conn, row, deps.clock.now())


async def list_entries(
    deps: Deps, principal: Principal, cursor: str | None, limit: int
) -> Page[Entry]:
    """The caller's entries, newest first."""
    after = paging.decode(deps.settings, ENTRY_PAGES, cursor, int) or 0
    now = deps.clock.now()
    async with deps.pool.acquire() as conn:
        rows = await conn.fetch(q.SELECT_ENTRIES_OF_OWNER, principal.id, after, limit + 1)
        entries = [await _entry(conn, row, now) for row in rows]
    return paging.page(deps.settings, ENTRY_PAGES, entries, limit, lambda entry: entry.id)


async def leave(deps: Deps, principal: Principal, entry_id: int) -> Entry:
    """Leave the waiting list: an open offer is withdrawn (its bed goes to the next in line);
    leaving an entry already over is 409, naming how it ended."""
    now = deps.clock.now()
    async with busy(), deps.pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(q.SELECT_ENTRY, entry_id)
        if row is None or not _may_see(principal, row):
            raise NotFoundError("waitlist entry", entry_id)
        # The offer's row before the entry's: the order accepting takes them in.
        offer = await conn.fetchrow(q.LOCK_OPEN_OFFER_OF_ENTRY, entry_id)
        locked = await conn.fetchrow(q.LOCK_ENTRY, entry_id)
        assert locked is not None
        if locked["status"] not in LIVE:
            raise EntryEndedError(entry_id=entry_id, status=locked["status"])
        if offer is not None:
            await end_offer(conn, offer, "withdrawn", now, principal)
        await conn.execute(q.END_ENTRY, entry_id, "left", now, None)
        await audit.record(conn, principal, "leave", "waitlist_entry", entry_id)
        entry = await _entry(conn, await _row(conn, entry_id), now)
    if offer is not None:
        await release_offer_hold(deps.holds, offer)
    return entry


async def queue_of(deps: Deps, principal: Principal, facility_id: int, kind: str) -> Queue:
    """The facility's live entries of ``kind``, first served first, without names."""
    if principal.role == "staff" and principal.facility_id != facility_id:
        raise NotFoundError("facility", facility_id)
    now = deps.clock.now()
    async with deps.pool.acquire() as conn:
        if await conn.fetchval("SELECT 1 FROM facilities WHERE id = $1", facility_id) is None:
            raise NotFoundError("facility", facility_id)
        today = local_today(DEFAULT_TIMEZONE, now)
        groups = await groups_at(conn, facility_id, kind, today)
        rows = _ordered(
            await conn.fetch(q.SELECT_LIVE_FOR_FACILITIES, [facility_id], kind, MAX_QUEUE),
            groups,
            today,
        )
        passes = {
            r["entry_id"]: _pass(r)
            for r in await conn.fetch(q.SELECT_LAST_PASSES_AT, [r["id"] for r in rows], facility_id)
        }
    items = []
    for position, row in enumerate(rows, start=1):
        group = rank(groups, _elder(row), row["discharged_on"], today)
        items.append(
            QueueEntry(
                entry_id=row["id"],
                position=position,
                status=row["status"],
                kind=row["kind"],
                sex=row["sex"],
                age=age_on(row["birth_date"], today),
                needs=sorted(row["needs"]),
                earliest_check_in=row["earliest_check_in"],
                latest_check_out=row["latest_check_out"],
                nights=row["nights"],
                min_nights=row["min_nights"],
                priority=group.group,
                priority_words=_words(groups, group.group),
                joined_at=row["joined_at"],
                last_pass=passes.get(row["id"]),
            )
        )
    return Queue(facility_id=facility_id, items=items)


async def groups_at(
    conn: Conn, facility_id: int, kind: str, today: date
) -> Sequence[PriorityGroup]:
    """The priority groups of the policy the facility applies to ``kind`` today."""
    code = await conn.fetchval(SELECT_POLICY_CODE, facility_id, kind)
    stored = in_force(await load_versions(conn), kind, today).get(code)  # type: ignore[arg-type]
    return DEFAULT_PRIORITIES if stored is None else stored.policy.waiting_priorities


def _elder(row: asyncpg.Record) -> CareRecipient:
    return CareRecipient(
        sex=row["sex"], birth_date=row["birth_date"], living_situation=row["living_situation"]
    )


def _ordered(
    rows: Sequence[asyncpg.Record], groups: Sequence[PriorityGroup], today: date
) -> list[asyncpg.Record]:
    return sorted(
        rows,
        key=lambda r: (
            rank(groups, _elder(r), r["discharged_on"], today).rank,
            r["joined_at"],
            r["id"],
        ),
    )


def _words(groups: Sequence[PriorityGroup], code: str | None) -> Text | None:
    group = next((g for g in groups if g.code == code), None)
    return None if group is None else describe(group)


def _pass(row: asyncpg.Record) -> Pass:
    return Pass(
        facility_id=row["facility_id"],
        bed_id=row["bed_id"],
        check_in=row["check_in"],
        check_out=row["check_out"],
        reason=row["reason"],
        message=t(f"waitlist.pass.{row['reason']}"),
        codes=list(row["codes"]),
        passed_at=row["passed_at"],
    )


async def _entry(conn: Conn, row: asyncpg.Record, now: datetime) -> Entry:
    today = local_today(DEFAULT_TIMEZONE, now)
    groups = await groups_at(conn, row["facility_ids"][0], row["kind"], today)
    group = rank(groups, _elder(row), row["discharged_on"], today)
    position = None
    if row["status"] in LIVE:
        others = _ordered(
            await conn.fetch(q.SELECT_LIVE_FOR_FACILITIES, row["facility_ids"], row["kind"], 5000),
            groups,
            today,
        )
        position = next((i for i, r in enumerate(others, start=1) if r["id"] == row["id"]), None)
    offers = await conn.fetch(q.SELECT_OPEN_OFFERS_OF_ENTRIES, [row["id"]])
    passes = await conn.fetch(q.SELECT_PASSES, row["id"], MAX_PASSES_SHOWN)
    return Entry(
        id=row["id"],
        status=row["status"],
        care_recipient_id=row["care_recipient_id"],
        kind=row["kind"],
        facility_ids=list(row["facility_ids"]),
        earliest_check_in=row["earliest_check_in"],
        latest_check_out=row["latest_check_out"],
        nights=row["nights"],
        min_nights=row["min_nights"],
        discharged_on=row["discharged_on"],
        referral_id=row["referral_id"],
        priority=group.group,
        priority_words=_words(groups, group.group),
        position=position,
        joined_at=row["joined_at"],
        ended_at=row["ended_at"],
        booking_id=row["booking_id"],
        offer=offer_view(offers[0], now) if offers else None,
        passes=[_pass(p) for p in passes],
    )
