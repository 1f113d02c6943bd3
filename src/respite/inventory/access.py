"""Which facility a principal may touch, and the bed rows the use cases read through it.

Staff act on their own facility only: another facility's object is "not found", exactly like
an id that does not exist, so ids cannot be probed. Admins act on every facility.
"""

from __future__ import annotations

import asyncpg

from respite.auth.model import Principal
from respite.db import Conn, Pool
from respite.errors import NotFoundError, PermissionDeniedError
from respite.i18n import t
from respite.inventory import queries as q
from respite.inventory.model import Bed

__all__ = ["bed_from_row", "check_facility_exists", "facility_scope", "own_facility", "scoped_bed"]


def facility_scope(principal: Principal) -> int | None:
    """The one facility a principal may touch, or None for an admin (every facility)."""
    if principal.role == "admin":
        return None
    if principal.role == "staff" and principal.facility_id is not None:
        return principal.facility_id
    raise PermissionDeniedError(t("inventory.beds_staff_only"))


def own_facility(principal: Principal | None, facility_id: int) -> None:
    """Refuse another facility's id as unknown; ``None`` is the operator on the command line."""
    scope = None if principal is None else facility_scope(principal)
    if scope is not None and scope != facility_id:
        raise NotFoundError("facility", facility_id)


async def check_facility_exists(conn: Conn | Pool, facility_id: int) -> None:
    if not await conn.fetchval(q.FACILITY_EXISTS, facility_id):
        raise NotFoundError("facility", facility_id)


def bed_from_row(row: asyncpg.Record | None) -> Bed:
    assert row is not None, "the statement returns the row it wrote"
    return Bed(**dict(row))


async def scoped_bed(conn: Conn | Pool, statement: str, bed_id: int, principal: Principal) -> Bed:
    """The bed read by ``statement`` (one of ``queries.SELECT_BED*``) if the principal may
    touch it, else NotFoundError."""
    row = await conn.fetchrow(statement, bed_id, facility_scope(principal))
    if row is None:
        raise NotFoundError("bed", bed_id)
    return Bed(**dict(row))
