"""The identifier keys a database has seen, and the rotation of stored identifiers.

``check_keys`` runs before a service serves (``respite serve``, ``dev``) and before a rotation:
it records each configured key under its id the first time, and refuses a key that is not
the one recorded under its id, or a current key older than one already recorded — either
would seal new values under an id whose other values it cannot read.

``rotate`` re-encrypts every stored identifier not under the current key, in batches of one
transaction each. A row is rewritten only if it still holds the value read (compare and set),
so an edit by the running service in between is never undone; a row changed meanwhile, or
sealed meanwhile by an instance still on the old key, is taken by the next run. Running it
again is safe, and does nothing once every value is under the current key. ``updated_at`` is
left alone: re-encryption changes no data, and hospitals reconcile by it.
"""

from __future__ import annotations

from typing import Final

import msgspec

from respite.crypto import IdentifierCipher, Purpose, UnreadableIdentifierError
from respite.db import Conn

__all__ = ["COLUMNS", "Column", "IdentifierKeyError", "Rotated", "check_keys", "rotate"]

DEFAULT_BATCH: Final = 500


class IdentifierKeyError(Exception):
    """The configured identifier keys do not fit the database, or a value cannot be read."""


class Column(msgspec.Struct, frozen=True):
    """A column of sealed identifiers: ``<name>_enc`` and its generated ``<name>_key_id``."""

    table: str
    name: str
    purpose: Purpose


COLUMNS: Final = (
    Column("care_recipients", "national_id", "national_id"),
    Column("care_recipients", "emergency_contact_phone", "emergency_contact_phone"),
    Column("referrals", "contact_phone", "emergency_contact_phone"),
    Column("notification_settings", "sms_phone", "notification_phone"),
    Column("one_time_codes", "phone", "notification_phone"),
)


class Rotated(msgspec.Struct, frozen=True):
    column: Column
    rows: int
    """Values re-encrypted under the current key by this run."""


_RECORD_KEY = """
INSERT INTO identifier_keys (id, check_value) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING
"""
_RECORDED = "SELECT id, check_value FROM identifier_keys ORDER BY id"


async def check_keys(conn: Conn, cipher: IdentifierCipher) -> None:
    """Record the cipher's keys the database has not seen; refuse keys that disagree with it."""
    recorded = {row["id"]: row["check_value"] for row in await conn.fetch(_RECORDED)}
    for key_id in cipher.key_ids:
        if key_id not in recorded:
            # Values sealed before the key was first recorded (as those of before key ids,
            # under key 1) must open with it too.
            await _opens_a_stored_value(conn, cipher, key_id)
            await conn.execute(_RECORD_KEY, key_id, cipher.check_value(key_id))
    recorded = {row["id"]: row["check_value"] for row in await conn.fetch(_RECORDED)}
    for key_id in cipher.key_ids:
        if not cipher.opens_check(key_id, recorded[key_id]):
            raise _not_the_key(key_id)
    newest = max(recorded)
    if newest > cipher.current:
        raise IdentifierKeyError(
            f"RESPITE_ID_KEY_ID is {cipher.current} but this database already knows key"
            f" {newest}: serve with the newest key (RESPITE_ID_KEY_ID={newest})"
        )


async def _opens_a_stored_value(conn: Conn, cipher: IdentifierCipher, key_id: int) -> None:
    for column in COLUMNS:
        sealed = await conn.fetchval(
            f"SELECT {column.name}_enc FROM {column.table} WHERE {column.name}_key_id = $1 LIMIT 1",
            key_id,
        )
        if sealed is None:
            continue
        try:
            cipher.decrypt(column.purpose, sealed)
        except UnreadableIdentifierError:
            raise _not_the_key(key_id) from None


def _not_the_key(key_id: int) -> IdentifierKeyError:
    return IdentifierKeyError(
        f"the identifier key configured as key {key_id} does not open what this database holds"
        f" under key {key_id}: a new RESPITE_ID_KEY takes the next RESPITE_ID_KEY_ID, and the"
        " key it replaces goes to RESPITE_ID_KEY_PREVIOUS"
    )


def _select(column: Column) -> str:
    return f"""
SELECT id, {column.name}_enc AS sealed FROM {column.table}
WHERE id > $1 AND {column.name}_enc IS NOT NULL AND {column.name}_key_id IS DISTINCT FROM $2
ORDER BY id LIMIT $3
"""


def _update(column: Column) -> str:
    return f"""
UPDATE {column.table} AS t SET {column.name}_enc = v.resealed
FROM unnest($1::bigint[], $2::bytea[], $3::bytea[]) AS v (id, sealed, resealed)
WHERE t.id = v.id AND t.{column.name}_enc = v.sealed
"""


async def rotate_batch(
    conn: Conn, cipher: IdentifierCipher, column: Column, after: int, limit: int
) -> tuple[int | None, int]:
    """Re-encrypt up to ``limit`` values of ``column`` past row ``after`` that are not under
    the current key: the last row id looked at (None when none was left) and how many were
    rewritten."""
    async with conn.transaction():
        rows = await conn.fetch(_select(column), after, cipher.current, limit)
        if not rows:
            return None, 0
        resealed = []
        for row in rows:
            try:
                plain = cipher.decrypt(column.purpose, row["sealed"])
            except UnreadableIdentifierError as exc:
                raise IdentifierKeyError(
                    f"{column.table} row {row['id']}: {column.name} does not decrypt ({exc});"
                    " is the key it was sealed under in RESPITE_ID_KEY_PREVIOUS?"
                ) from None
            resealed.append(cipher.encrypt(column.purpose, plain))
        status = await conn.execute(
            _update(column), [r["id"] for r in rows], [r["sealed"] for r in rows], resealed
        )
    return rows[-1]["id"], int(status.split()[-1])


async def rotate(
    conn: Conn, cipher: IdentifierCipher, *, batch: int = DEFAULT_BATCH
) -> list[Rotated]:
    """Re-encrypt every stored identifier that is not under the cipher's current key."""
    await check_keys(conn, cipher)
    done = []
    for column in COLUMNS:
        after: int | None = 0
        rows = 0
        while after is not None:
            after, count = await rotate_batch(conn, cipher, column, after, batch)
            rows += count
        done.append(Rotated(column, rows))
    return done
