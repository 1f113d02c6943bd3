"""Rotating the identifier key: every stored identifier re-encrypted, old values readable during
and after, the old key alone reading nothing rotated, the key id stored with each value, and a
key that is not the one the database knows refused before it seals anything."""

from __future__ import annotations

import asyncio
import base64
import os
from typing import Any

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from respite.crypto import IdentifierCipher, UnreadableIdentifierError, cipher_for
from respite.db import connect
from respite.id_keys import COLUMNS, Column, IdentifierKeyError, check_keys, rotate, rotate_batch
from respite.settings import Settings
from tests import builders

OLD = base64.b64encode(os.urandom(32)).decode()
NEW = base64.b64encode(os.urandom(32)).decode()
BEFORE = Settings(id_key=OLD)
DURING = Settings(id_key=NEW, id_key_id=2, id_key_previous=OLD)
AFTER = Settings(id_key=NEW, id_key_id=2)
NATIONAL_IDS = COLUMNS[0]
Stored = list[tuple[Column, int, int, bytes]]


def _legacy(purpose: str, plain: str) -> bytes:
    """A value as sealed before key ids (migration 0010): 1 || nonce || ciphertext."""
    nonce = os.urandom(12)
    return (
        b"\x01"
        + nonce
        + AESGCM(base64.b64decode(OLD)).encrypt(nonce, plain.encode(), purpose.encode())
    )


async def _elders(db: Any, count: int) -> dict[int, tuple[str, str]]:
    """Elders with a national ID and a phone sealed under the old key (the first one's
    national ID as written before key ids); their plain values by id."""
    cipher = cipher_for(BEFORE)
    plain: dict[int, tuple[str, str]] = {}
    for n in range(count):
        rid = await builders.recipient(db, level=None)
        national_id, phone = f"1101051949123100{n:02d}", f"+86138001380{n:02d}"
        sealed_id = (
            _legacy("national_id", national_id)
            if n == 0
            else cipher.encrypt("national_id", national_id)
        )
        await db.execute(
            "UPDATE care_recipients SET national_id_enc = $2, emergency_contact_phone_enc = $3"
            " WHERE id = $1",
            rid,
            sealed_id,
            cipher.encrypt("emergency_contact_phone", phone),
        )
        plain[rid] = (national_id, phone)
    return plain


async def _referrals(db: Any, count: int) -> dict[int, str]:
    hospital = await builders.hospital(db)
    author = await builders.principal(db, "hospital", hospital_id=hospital)
    elder = await builders.recipient(db, hospital_id=hospital, level=None)
    plain: dict[int, str] = {}
    for n in range(count):
        phone = f"+86139001390{n:02d}"
        rid = await db.fetchval(
            "INSERT INTO referrals (hospital_id, care_recipient_id, kind, discharge_date, nights,"
            " contact_name, contact_phone_enc, created_by) VALUES ($1, $2, 'respite',"
            " '2030-01-10', 7, 'Dr Chen', $3, $4) RETURNING id",
            hospital,
            elder,
            cipher_for(BEFORE).encrypt("emergency_contact_phone", phone),
            author,
        )
        plain[rid] = phone
    return plain


async def _stored(db: Any) -> Stored:
    """(column, row id, stored key id, value) of every sealed identifier."""
    found = []
    for column in COLUMNS:
        rows = await db.fetch(
            f"SELECT id, {column.name}_key_id AS key_id, {column.name}_enc AS sealed"
            f" FROM {column.table} WHERE {column.name}_enc IS NOT NULL ORDER BY id"
        )
        found += [(column, r["id"], r["key_id"], r["sealed"]) for r in rows]
    return found


def _reads_all(
    cipher: IdentifierCipher,
    stored: Stored,
    elders: dict[int, tuple[str, str]],
    referrals: dict[int, str],
) -> None:
    for column, row_id, _, sealed in stored:
        if column.table == "referrals":
            expected = referrals[row_id]
        else:
            expected = elders[row_id][0 if column.name == "national_id" else 1]
        assert cipher.decrypt(column.purpose, sealed) == expected


async def test_a_rotation_re_encrypts_every_row_and_old_rows_read_during_and_after(db: Any) -> None:
    elders, referrals = await _elders(db, 5), await _referrals(db, 3)
    await check_keys(db, cipher_for(BEFORE))  # the service ran on the old key: it is key 1
    stored = await _stored(db)
    assert {key_id for *_, key_id, _ in stored} == {1}  # the key id is stored with each value
    assert len(stored) == 5 + 5 + 3
    touched = await db.fetchval("SELECT max(updated_at) FROM referrals")

    during = cipher_for(DURING)
    after, count = await rotate_batch(db, during, NATIONAL_IDS, 0, 2)
    assert count == 2 and after == min(elders) + 1
    halfway = await _stored(db)
    key_ids = [key_id for column, _, key_id, _ in halfway if column == NATIONAL_IDS]
    assert key_ids == [2, 2, 1, 1, 1]
    # Mid-rotation a service with both keys reads old and new values alike.
    _reads_all(during, halfway, elders, referrals)

    done = {r.column.name: r.rows for r in await rotate(db, during, batch=2)}
    assert done == {
        "national_id": 3,
        "emergency_contact_phone": 5,
        "contact_phone": 3,
        "sms_phone": 0,  # tests/integration/test_notifications_phones.py rotates those
        "phone": 0,  # one-time codes' numbers, by the same statements (none here)
    }
    rotated = await _stored(db)
    assert {key_id for *_, key_id, _ in rotated} == {2}
    _reads_all(during, rotated, elders, referrals)
    _reads_all(cipher_for(AFTER), rotated, elders, referrals)  # the old key can go
    for column, _, _, sealed in rotated:
        with pytest.raises(UnreadableIdentifierError):
            cipher_for(BEFORE).decrypt(column.purpose, sealed)
        with pytest.raises(UnreadableIdentifierError):  # nor as if it were key 2
            IdentifierCipher({2: base64.b64decode(OLD)}, current=2).decrypt(column.purpose, sealed)
    assert await db.fetchval("SELECT max(updated_at) FROM referrals") == touched

    again = await rotate(db, during, batch=2)
    assert [r.rows for r in again] == [0] * len(COLUMNS)
    assert await _stored(db) == rotated


async def test_a_value_edited_while_its_batch_runs_is_never_undone(
    db: Any, database_url: str
) -> None:
    elders = await _elders(db, 2)
    first = min(elders)
    during = cipher_for(DURING)
    await check_keys(db, during)
    edited = during.encrypt("national_id", "110105194912310099")
    editor = await connect(database_url)
    try:
        # The service changes the national ID and has not committed when the batch reads.
        edit = editor.transaction()
        await edit.start()
        await editor.execute(
            "UPDATE care_recipients SET national_id_enc = $2 WHERE id = $1", first, edited
        )
        batch = asyncio.create_task(rotate_batch(db, during, NATIONAL_IDS, 0, 10))
        await _blocked(editor)
        await edit.commit()
        _, count = await batch
    finally:
        await editor.close()
    assert count == 1  # the other elder; the edited one was left as the service wrote it
    assert (
        await db.fetchval("SELECT national_id_enc FROM care_recipients WHERE id = $1", first)
        == edited
    )


async def _blocked(editor: Any) -> None:
    """Until a session waits for the editor's row lock."""
    for _ in range(200):
        if await editor.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE $1 = ANY (pg_blocking_pids(pid))",
            editor.get_server_pid(),
        ):
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the batch never waited for the edited row")


async def test_a_key_that_is_not_the_one_known_under_its_id_is_refused(db: Any) -> None:
    await check_keys(db, cipher_for(BEFORE))
    # A new key put in RESPITE_ID_KEY without the next id would seal under key 1.
    with pytest.raises(IdentifierKeyError, match="configured as key 1"):
        await check_keys(db, cipher_for(Settings(id_key=NEW)))
    await check_keys(db, cipher_for(DURING))
    assert await db.fetchval("SELECT array_agg(id ORDER BY id) FROM identifier_keys") == [1, 2]
    # Back to the old key once key 2 is known: new values would go under a retired key.
    with pytest.raises(IdentifierKeyError, match="already knows key 2"):
        await check_keys(db, cipher_for(BEFORE))


async def test_a_first_key_that_does_not_open_the_values_stored_under_its_id_is_refused(
    db: Any,
) -> None:
    """Values sealed before key ids are under key 1: key 1 must be the key that sealed them."""
    await _elders(db, 1)
    with pytest.raises(IdentifierKeyError, match="configured as key 1"):
        await check_keys(db, cipher_for(Settings(id_key=NEW)))
    assert await db.fetchval("SELECT count(*) FROM identifier_keys") == 0
    await check_keys(db, cipher_for(BEFORE))
    assert await db.fetchval("SELECT count(*) FROM identifier_keys") == 1


async def test_a_value_under_a_key_not_configured_stops_the_rotation_naming_the_row(
    db: Any,
) -> None:
    elders = await _elders(db, 1)
    await check_keys(db, cipher_for(BEFORE))
    with pytest.raises(IdentifierKeyError, match=f"care_recipients row {min(elders)}"):
        await rotate(db, cipher_for(AFTER))
    assert {key_id for *_, key_id, _ in await _stored(db)} == {1}
