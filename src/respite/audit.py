"""The audit log: every write records who, when, what, and the state before and after.

Written in the same transaction as the change it describes, so the log never claims a change
that was rolled back nor misses one that was committed.
"""

from __future__ import annotations

from typing import Any

from respite.auth.model import Principal
from respite.db import Conn
from respite.observability import current_request_id

__all__ = ["record"]

INSERT_AUDIT = """
INSERT INTO audit_log
    (principal_id, role, action, entity, entity_id, facility_id, before, after, request_id)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
"""


async def record(
    conn: Conn,
    principal: Principal | None,
    action: str,
    entity: str,
    entity_id: object,
    *,
    facility_id: int | None = None,
    before: Any = None,
    after: Any = None,
) -> None:
    await conn.execute(
        INSERT_AUDIT,
        principal.id if principal else None,
        principal.role if principal else None,
        action,
        entity,
        str(entity_id),
        facility_id,
        before,
        after,
        current_request_id(),
    )
