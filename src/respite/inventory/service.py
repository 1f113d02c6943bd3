"""Use cases of facilities and beds (blocks are in ``blocks.py``, imports in ``importing.py``).

Staff act on their own facility only: another facility's object is "not found", exactly like
an id that does not exist, so ids cannot be probed. Admins act on every facility. Every write
records an audit entry in its own transaction.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from respite import audit
from respite.auth.model import Principal
from respite.db import Conn, Pool
from respite.errors import (
    ConflictError,
    FieldError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from respite.inventory import queries as q
from respite.inventory.model import (
    STAFF_FACILITY_FIELDS,
    Bed,
    BedChanges,
    BedFilter,
    BedPage,
    Facility,
    FacilityChanges,
    FacilityPage,
    NewBed,
    NewFacility,
    given_fields,
    next_after,
    ordered_capabilities,
    patched,
)

__all__ = [
    "bed_from_row",
    "check_facility_exists",
    "create_bed",
    "create_facility",
    "facility_scope",
    "get_bed",
    "get_facility",
    "label_taken",
    "list_beds",
    "list_facilities",
    "own_facility",
    "retire_bed",
    "update_bed",
    "update_facility",
]


def facility_scope(principal: Principal) -> int | None:
    """The one facility a principal may touch, or None for an admin (every facility)."""
    if principal.role == "admin":
        return None
    if principal.role == "staff" and principal.facility_id is not None:
        return principal.facility_id
    raise PermissionDeniedError(f"a {principal.role} may not manage beds")


def own_facility(principal: Principal | None, facility_id: int) -> None:
    """Refuse another facility's id as unknown; ``None`` is the operator on the command line."""
    scope = None if principal is None else facility_scope(principal)
    if scope is not None and scope != facility_id:
        raise NotFoundError("facility", facility_id)


async def check_facility_exists(conn: Conn | Pool, facility_id: int) -> None:
    if not await conn.fetchval(q.FACILITY_EXISTS, facility_id):
        raise NotFoundError("facility", facility_id)


def _facility(row: asyncpg.Record | None) -> Facility:
    assert row is not None, "the statement returns the row it wrote"
    return Facility(**dict(row))


def bed_from_row(row: asyncpg.Record | None) -> Bed:
    assert row is not None, "the statement returns the row it wrote"
    return Bed(**dict(row))


def label_taken(label: str, bed_id: int | None) -> ConflictError:
    return ConflictError(
        f"the label {label!r} is already used by another bed of this facility",
        label=label,
        conflicting_bed=bed_id,
    )


# Facilities ------------------------------------------------------------------------------------


async def _check_policies(conn: Conn, facility: Facility | NewFacility) -> None:
    """Each policy code must name a stored policy of the matching programme."""
    wanted = {
        "respite_policy_code": (facility.respite_policy_code, "respite"),
        "home_policy_code": (facility.home_policy_code, "home"),
    }
    rows = await conn.fetch(q.SELECT_POLICY_PROGRAMMES, [code for code, _ in wanted.values()])
    programmes = {r["code"]: r["programme"] for r in rows}
    errors = []
    for field, (code, programme) in wanted.items():
        found = programmes.get(code)
        if found is None:
            errors.append(FieldError(field, f"no policy with code {code!r}"))
        elif found != programme:
            errors.append(
                FieldError(field, f"policy {code!r} is for {found} beds, not {programme}")
            )
    if errors:
        raise InvalidInputError(errors)


def _facility_values(f: Facility | NewFacility) -> tuple[Any, ...]:
    return (
        f.name,
        f.operator,
        f.address,
        f.district,
        f.community,
        f.lat,
        f.lon,
        f.phone,
        f.timezone,
        f.currency,
        f.service_radius_m,
        f.respite_policy_code,
        f.home_policy_code,
        f.active,
    )


async def create_facility(pool: Pool, principal: Principal, new: NewFacility) -> Facility:
    if principal.role != "admin":
        raise PermissionDeniedError("only an admin may create facilities")
    async with pool.acquire() as conn, conn.transaction():
        await _check_policies(conn, new)
        facility = _facility(await conn.fetchrow(q.INSERT_FACILITY, *_facility_values(new)))
        await audit.record(
            conn,
            principal,
            "create",
            "facility",
            facility.id,
            facility_id=facility.id,
            after=facility,
        )
        return facility


async def get_facility(pool: Pool, principal: Principal, facility_id: int) -> Facility:
    own_facility(principal, facility_id)
    row = await pool.fetchrow(q.SELECT_FACILITY, facility_id)
    if row is None:
        raise NotFoundError("facility", facility_id)
    return _facility(row)


async def list_facilities(
    pool: Pool, principal: Principal, *, active: bool | None, after: int, limit: int
) -> FacilityPage:
    """Every facility for an admin; a staff member's own one for staff."""
    rows = await pool.fetch(q.SELECT_FACILITIES, facility_scope(principal), active, after, limit)
    items = [_facility(r) for r in rows]
    return FacilityPage(items=items, next_after=next_after([f.id for f in items], limit))


async def update_facility(
    pool: Pool, principal: Principal, facility_id: int, changes: FacilityChanges
) -> Facility:
    """Admins change any field; staff only ``STAFF_FACILITY_FIELDS`` of their own facility."""
    own_facility(principal, facility_id)
    admin_only = [f for f in given_fields(changes) if f not in STAFF_FACILITY_FIELDS]
    if principal.role != "admin" and admin_only:
        raise PermissionDeniedError(
            "staff may change only " + ", ".join(sorted(STAFF_FACILITY_FIELDS)) + " of their "
            "facility; ask an admin to change " + ", ".join(admin_only),
            fields=admin_only,
        )
    async with pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(q.SELECT_FACILITY_FOR_UPDATE, facility_id)
        if row is None:
            raise NotFoundError("facility", facility_id)
        before = _facility(row)
        after = patched(before, changes)
        if after == before:
            return before
        if {"respite_policy_code", "home_policy_code"} & set(given_fields(changes)):
            await _check_policies(conn, after)
        row = await conn.fetchrow(q.UPDATE_FACILITY, facility_id, *_facility_values(after))
        updated = _facility(row)
        await audit.record(
            conn,
            principal,
            "update",
            "facility",
            facility_id,
            facility_id=facility_id,
            before=before,
            after=updated,
        )
        return updated


# Beds ------------------------------------------------------------------------------------------


async def create_bed(pool: Pool, principal: Principal, facility_id: int, new: NewBed) -> Bed:
    own_facility(principal, facility_id)
    async with pool.acquire() as conn, conn.transaction():
        await check_facility_exists(conn, facility_id)
        row = await conn.fetchrow(
            q.INSERT_BED,
            facility_id,
            new.kind,
            new.label,
            new.sex_rule,
            ordered_capabilities(new.capabilities),
            new.pressure_care_stage,
            new.nightly_price,
            new.active,
        )
        if row is None:
            existing = await conn.fetchval(q.SELECT_BED_ID_BY_LABEL, facility_id, new.label, None)
            raise label_taken(new.label, existing)
        bed = bed_from_row(row)
        await audit.record(
            conn, principal, "create", "bed", bed.id, facility_id=facility_id, after=bed
        )
        return bed


async def get_bed(pool: Pool, principal: Principal, bed_id: int) -> Bed:
    row = await pool.fetchrow(q.SELECT_BED, bed_id, facility_scope(principal))
    if row is None:
        raise NotFoundError("bed", bed_id)
    return bed_from_row(row)


async def list_beds(pool: Pool, principal: Principal, facility_id: int, beds: BedFilter) -> BedPage:
    own_facility(principal, facility_id)
    async with pool.acquire() as conn:
        await check_facility_exists(conn, facility_id)
        rows = await conn.fetch(
            q.SELECT_BEDS,
            facility_id,
            beds.kind,
            list(beds.capabilities),
            beds.active,
            beds.include_retired,
            beds.after,
            beds.limit,
        )
    items = [bed_from_row(r) for r in rows]
    return BedPage(items=items, next_after=next_after([b.id for b in items], beds.limit))


async def update_bed(pool: Pool, principal: Principal, bed_id: int, changes: BedChanges) -> Bed:
    async with pool.acquire() as conn, conn.transaction():
        # NO KEY UPDATE: serialises patches of this bed without waiting for bookings of it.
        row = await conn.fetchrow(q.SELECT_BED_FOR_PATCH, bed_id, facility_scope(principal))
        if row is None:
            raise NotFoundError("bed", bed_id)
        before = bed_from_row(row)
        if before.retired_at is not None:
            raise ConflictError(f"bed {bed_id} is retired and can no longer change", bed=bed_id)
        after = patched(before, changes)
        if after == before:
            return before
        row = await _write_bed(conn, before, after)
        updated = bed_from_row(row)
        await audit.record(
            conn,
            principal,
            "update",
            "bed",
            bed_id,
            facility_id=before.facility_id,
            before=before,
            after=updated,
        )
        return updated


async def _write_bed(conn: Conn, before: Bed, after: Bed) -> asyncpg.Record | None:
    if after.label != before.label:
        other = await conn.fetchval(
            q.SELECT_BED_ID_BY_LABEL, before.facility_id, after.label, before.id
        )
        if other is not None:
            raise label_taken(after.label, other)
    try:
        return await conn.fetchrow(
            q.UPDATE_BED,
            before.id,
            after.label,
            after.sex_rule,
            after.capabilities,
            after.pressure_care_stage,
            after.nightly_price,
            after.active,
        )
    except asyncpg.UniqueViolationError:
        # Another bed took the label between the check and the update.
        raise label_taken(after.label, None) from None


async def retire_bed(pool: Pool, principal: Principal, bed_id: int) -> Bed:
    """Take a bed out of use for good; refused while a booking still claims a night of it.

    Beds are never deleted: their bookings, blocks and audit entries keep pointing at them.
    """
    async with pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(q.SELECT_BED_FOR_UPDATE, bed_id, facility_scope(principal))
        if row is None:
            raise NotFoundError("bed", bed_id)
        before = bed_from_row(row)
        if before.retired_at is not None:
            return before
        live = await conn.fetchrow(q.FIRST_LIVE_BOOKING, bed_id)
        if live is not None:
            raise ConflictError(
                f"bed {bed_id} is booked on {live['night']} (booking {live['booking_id']}); "
                "cancel or move its bookings before retiring it",
                conflicting_booking=live["booking_id"],
                night=live["night"].isoformat(),
            )
        retired = bed_from_row(await conn.fetchrow(q.RETIRE_BED, bed_id))
        await audit.record(
            conn,
            principal,
            "retire",
            "bed",
            bed_id,
            facility_id=before.facility_id,
            before=before,
            after=retired,
        )
        return retired
