"""Idempotency keys: a retried write gives the first attempt's answer, exactly once.

A key belongs to the organisation the principal acts for (``scope``): every credential of a
hospital, every staff member of a facility, shares one set of keys, so a retry through another
credential of the same organisation is the same request. A family account and an admin each
have their own.

The key is claimed by inserting a row in the same transaction as the write it protects. A
concurrent retry with the same key waits on that row's unique index until the first attempt
commits (then it reads the stored answer) or rolls back (then it runs the write itself). The
same key with another body is refused: the client reused a key by mistake. The answer is stored
with its status code; ``replay`` gives it back as the same Struct the first attempt returned.
"""

from __future__ import annotations

import hashlib
from typing import Annotated, Any, TypeVar

import msgspec
from msgspec import Meta

from respite.auth.model import Principal
from respite.db import Conn
from respite.errors import InvalidInputError
from respite.i18n import t

__all__ = [
    "IdempotencyKey",
    "Replay",
    "answered",
    "body_hash",
    "claim",
    "optional_key",
    "remember",
    "replay",
    "require_key",
    "scope",
]

T = TypeVar("T")

HEADER = "Idempotency-Key"
IdempotencyKey = Annotated[str, Meta(min_length=1, max_length=200, pattern=r"^[\x21-\x7e]+$")]

CLAIM_KEY = """
INSERT INTO idempotency_keys (scope, key, principal_id, operation, request_hash)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (scope, key) DO NOTHING
RETURNING 1
"""

SELECT_KEY = """
SELECT operation, request_hash, status_code, response
FROM idempotency_keys WHERE scope = $1 AND key = $2
"""

REMEMBER_ANSWER = """
UPDATE idempotency_keys SET status_code = $3, response = $4
WHERE scope = $1 AND key = $2
"""


def scope(principal: Principal) -> str:
    """The organisation whose keys the principal uses (migration 0008 writes the same)."""
    if principal.role == "hospital":
        return f"hospital:{principal.hospital_id}"
    if principal.role == "staff":
        return f"facility:{principal.facility_id}"
    return f"{principal.role}:{principal.id}"


class Replay(msgspec.Struct, frozen=True):
    status_code: int
    response: Any


def require_key(value: str | None) -> str:
    if value is None:
        raise InvalidInputError.one(HEADER, t("common.idempotency_key_needed"))
    try:
        return msgspec.convert(value, IdempotencyKey)
    except msgspec.ValidationError:
        raise InvalidInputError.one(HEADER, t("common.idempotency_key_form")) from None


def optional_key(value: str | None) -> str | None:
    """For writes that may be retried without a key: checked when given."""
    return None if value is None else require_key(value)


def body_hash(operation: str, *parts: object) -> bytes:
    return hashlib.sha256(msgspec.json.encode([operation, *parts])).digest()


async def claim(
    conn: Conn, principal: Principal, key: str, operation: str, request_hash: bytes
) -> Replay | None:
    """Claim ``key`` for the principal's organisation in the caller's transaction; the
    earlier answer if the organisation used it already (through any of its credentials)."""
    owner = scope(principal)
    if await conn.fetchval(CLAIM_KEY, owner, key, principal.id, operation, request_hash):
        return None
    row = await conn.fetchrow(SELECT_KEY, owner, key)
    assert row is not None, "a conflicting key is committed, so it is visible"
    if row["operation"] != operation or row["request_hash"] != request_hash:
        raise InvalidInputError.one(HEADER, t("common.idempotency_key_reused"))
    return Replay(row["status_code"], row["response"])


async def replay(
    conn: Conn,
    principal: Principal,
    key: str,
    operation: str,
    request_hash: bytes,
    answer: type[T],
) -> T | None:
    """``claim``, answering what the earlier success with this key answered, as ``answer``."""
    earlier = await claim(conn, principal, key, operation, request_hash)
    return None if earlier is None else msgspec.convert(earlier.response, answer)


async def remember(
    conn: Conn, principal: Principal, key: str, status_code: int, response: Any
) -> None:
    await conn.execute(REMEMBER_ANSWER, scope(principal), key, status_code, response)


async def answered(
    conn: Conn, principal: Principal, key: str, operation: str, answer: type[T]
) -> T | None:
    """What an earlier success with ``key`` answered, as ``answer``, without claiming the key:
    None while it is unused (or in use by a transaction not yet committed), or was used for
    another operation."""
    row = await conn.fetchrow(SELECT_KEY, scope(principal), key)
    if row is None or row["operation"] != operation or row["response"] is None:
        return None
    return msgspec.convert(row["response"], answer)
