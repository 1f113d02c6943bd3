"""Use cases of facilities and beds (blocks are in ``blocks.py``, imports in ``importing.py``).

Staff act on their own facility only (``access.py``); admins act on every facility. Every
write records an audit entry in its own transaction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import asyncpg

from respite import audit, paging
from respite.auth import staff_roles
from respite.auth.model import Principal
from respite.db import Conn
from respite.errors import FieldError, InvalidInputError, NotFoundError, PermissionDeniedError
from respite.i18n import t
from respite.inventory import queries as q
from respite.inventory.access import (
    bed_from_row,
    check_facility_exists,
    facility_scope,
    own_facility,
    scoped_bed,
)
from respite.inventory.commands import (
    BedCreation,
    BedFilter,
    BedRetirement,
    BedUpdate,
    FacilityFilter,
    FacilityUpdate,
)
from respite.inventory.errors import BedRetiredError, BedStillBookedError, LabelTakenError
from respite.inventory.model import (
    STAFF_FACILITY_FIELDS,
    Bed,
    Facility,
    NewFacility,
    given_fields,
    ordered_capabilities,
    patched,
)
from respite.inventory.profile import (
    FacilityProfile,
    capability_words,
    kind_words,
    price_range,
)
from respite.nights import record_beds_open
from respite.paging import Page

if TYPE_CHECKING:
    from respite.deps import Deps

__all__ = [
    "create_bed",
    "create_facility",
    "get_bed",
    "get_facility",
    "get_facility_profile",
    "list_beds",
    "list_facilities",
    "retire_bed",
    "update_bed",
    "update_facility",
]

# The purposes of the lists' cursors (``respite.paging``): one list's never works on another.
FACILITY_PAGES = "page:facilities"
BED_PAGES = "page:beds"


def _facility(row: asyncpg.Record | None) -> Facility:
    assert row is not None, "the statement returns the row it wrote"
    return Facility(**dict(row))


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
            errors.append(FieldError(field, t("inventory.no_such_policy", code=repr(code))))
        elif found != programme:
            words = {
                "code": repr(code),
                "found": t(f"eligibility.programme.{found}"),
                "programme": t(f"eligibility.programme.{programme}"),
            }
            errors.append(FieldError(field, t("inventory.policy_for_other_beds", **words)))
    if errors:
        raise InvalidInputError(errors)


def _facility_values(f: Facility | NewFacility) -> tuple[object, ...]:
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
        f.visiting_hours,
        f.price_includes,
        f.description,
    )


async def create_facility(deps: Deps, principal: Principal, new: NewFacility) -> Facility:
    if principal.role != "admin":
        raise PermissionDeniedError(t("inventory.admin_creates_facilities"))
    async with deps.pool.acquire() as conn, conn.transaction():
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


async def get_facility(deps: Deps, principal: Principal, facility_id: int) -> Facility:
    own_facility(principal, facility_id)
    row = await deps.pool.fetchrow(q.SELECT_FACILITY, facility_id)
    if row is None:
        raise NotFoundError("facility", facility_id)
    return _facility(row)


async def get_facility_profile(
    deps: Deps, principal: Principal | None, facility_id: int
) -> FacilityProfile:
    """What a facility shows the public (the API: every signed-in caller; the pages: anyone
    who may search): one query, whatever its beds."""
    row = await deps.pool.fetchrow(q.SELECT_FACILITY_PROFILE, facility_id)
    if row is None:
        raise NotFoundError("facility", facility_id)
    return FacilityProfile(
        id=row["id"],
        name=row["name"],
        address=row["address"],
        phone=row["phone"],
        district=row["district"],
        community=row["community"],
        active=row["active"],
        kinds=kind_words(row["kinds"]),
        capabilities=capability_words(row["capabilities"], row["pressure_care_stage"]),
        visiting_hours=row["visiting_hours"],
        price_includes=row["price_includes"],
        description=row["description"],
        price=price_range(row["min_price"], row["max_price"], row["currency"]),
    )


async def list_facilities(
    deps: Deps, principal: Principal, facilities: FacilityFilter
) -> Page[Facility]:
    """Every facility for an admin; a staff member's own one for staff; by id."""
    after = paging.decode(deps.settings, FACILITY_PAGES, facilities.cursor, int) or 0
    rows = await deps.pool.fetch(
        q.SELECT_FACILITIES,
        facility_scope(principal),
        facilities.active,
        after,
        paging.fetch_size(facilities.limit),
    )
    fetched = [_facility(r) for r in rows]
    return paging.page(deps.settings, FACILITY_PAGES, fetched, facilities.limit, lambda f: f.id)


async def update_facility(deps: Deps, principal: Principal, update: FacilityUpdate) -> Facility:
    """Admins change any field; staff only ``STAFF_FACILITY_FIELDS`` of their own facility."""
    facility_id, changes = update.facility_id, update.changes
    own_facility(principal, facility_id)
    staff_roles.require(principal, "profile")
    admin_only = [f for f in given_fields(changes) if f not in STAFF_FACILITY_FIELDS]
    if principal.role != "admin" and admin_only:
        allowed = sorted(STAFF_FACILITY_FIELDS)
        raise PermissionDeniedError(
            t("inventory.staff_facility_fields", allowed=allowed, fields=admin_only),
            fields=admin_only,
        )
    async with deps.pool.acquire() as conn, conn.transaction():
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


async def create_bed(deps: Deps, principal: Principal, creation: BedCreation) -> Bed:
    facility_id, new = creation.facility_id, creation.bed
    own_facility(principal, facility_id)
    staff_roles.require(principal, "beds")
    async with deps.pool.acquire() as conn, conn.transaction():
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
            raise LabelTakenError(label=new.label, conflicting_bed=existing)
        bed = bed_from_row(row)
        await audit.record(
            conn, principal, "create", "bed", bed.id, facility_id=facility_id, after=bed
        )
        if bed.active:
            await record_beds_open(conn, [bed.id], deps.clock.now(), "bed_added")
        return bed


async def get_bed(deps: Deps, principal: Principal, bed_id: int) -> Bed:
    return await scoped_bed(deps.pool, q.SELECT_BED, bed_id, principal)


async def list_beds(deps: Deps, principal: Principal, beds: BedFilter) -> Page[Bed]:
    """The facility's beds by id."""
    own_facility(principal, beds.facility_id)
    after = paging.decode(deps.settings, BED_PAGES, beds.cursor, int) or 0
    async with deps.pool.acquire() as conn:
        await check_facility_exists(conn, beds.facility_id)
        rows = await conn.fetch(
            q.SELECT_BEDS,
            beds.facility_id,
            beds.kind,
            list(beds.capabilities),
            beds.active,
            beds.include_retired,
            after,
            paging.fetch_size(beds.limit),
        )
    fetched = [bed_from_row(r) for r in rows]
    return paging.page(deps.settings, BED_PAGES, fetched, beds.limit, lambda b: b.id)


async def update_bed(deps: Deps, principal: Principal, update: BedUpdate) -> Bed:
    bed_id = update.bed_id
    async with deps.pool.acquire() as conn, conn.transaction():
        # NO KEY UPDATE: serialises patches of this bed without waiting for bookings of it.
        before = await scoped_bed(conn, q.SELECT_BED_FOR_PATCH, bed_id, principal)
        staff_roles.require(principal, "beds")
        if before.retired_at is not None:
            raise BedRetiredError(bed=bed_id, doing="change")
        after = patched(before, update.changes)
        if after == before:
            return before
        row = await _write_bed(conn, before, after)
        updated = bed_from_row(row)
        if updated.active and not before.active:
            await record_beds_open(conn, [bed_id], deps.clock.now(), "bed_returned")
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
            raise LabelTakenError(label=after.label, conflicting_bed=other)
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
        raise LabelTakenError(label=after.label, conflicting_bed=None) from None


async def retire_bed(deps: Deps, principal: Principal, retirement: BedRetirement) -> Bed:
    """Take a bed out of use for good; refused while a booking still claims a night of it
    from the facility's today on (nights before it are history).

    The bed's row is locked first (``queries.SELECT_BED_FOR_UPDATE``): a confirm or walk-in
    of the bed under way finishes before the ledger is read, and one that starts now waits
    and then finds the bed retired. Beds are never deleted: their bookings, blocks and audit
    entries keep pointing at them.
    """
    bed_id = retirement.bed_id
    async with deps.pool.acquire() as conn, conn.transaction():
        before = await scoped_bed(conn, q.SELECT_BED_FOR_UPDATE, bed_id, principal)
        staff_roles.require(principal, "beds")
        if before.retired_at is not None:
            return before
        live = await conn.fetchrow(q.FIRST_LIVE_BOOKING, bed_id, deps.clock.now())
        if live is not None:
            raise BedStillBookedError(
                bed=bed_id, conflicting_booking=live["booking_id"], night=live["night"]
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
