"""Policies in PostgreSQL: the presets as version 1, and the version in force on a date.

Documents cross as JSON text (``$3::text::jsonb``, ``document::text``) so these functions work
on a pooled connection, whose jsonb codec is msgspec, and on a bare one (``respite seed``).
"""

from __future__ import annotations

from datetime import date

import msgspec

from respite.db import Conn
from respite.eligibility.policy import Policy
from respite.eligibility.presets import PRESETS

__all__ = ["StoredPolicy", "current_policy", "ensure_presets"]

# Presets are in force from this date unless an admin publishes a later version.
PRESETS_EFFECTIVE_FROM = date(2020, 1, 1)

INSERT_PRESET = """
INSERT INTO policies (code, version, effective_from, document)
VALUES ($1, 1, $2, $3::text::jsonb)
ON CONFLICT (code, version) DO NOTHING
"""

SELECT_CURRENT_POLICY = """
SELECT id, version, effective_from, document::text AS document
FROM policies
WHERE code = $1 AND effective_from <= $2
ORDER BY effective_from DESC, version DESC
LIMIT 1
"""


class StoredPolicy(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    version: int
    effective_from: date
    policy: Policy


async def ensure_presets(conn: Conn) -> None:
    """Store each preset as version 1 of its code, once; later versions are admins' to publish.

    Migration 0003 stores the same rows; this keeps ``respite seed`` working on its own.
    """
    for policy in PRESETS.values():
        document = msgspec.json.encode(policy).decode()
        await conn.execute(INSERT_PRESET, policy.code, PRESETS_EFFECTIVE_FROM, document)


async def current_policy(conn: Conn, code: str, on: date) -> StoredPolicy | None:
    row = await conn.fetchrow(SELECT_CURRENT_POLICY, code, on)
    if row is None:
        return None
    return StoredPolicy(
        id=row["id"],
        version=row["version"],
        effective_from=row["effective_from"],
        policy=msgspec.json.decode(row["document"], type=Policy),
    )
