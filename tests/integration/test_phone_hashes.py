"""Emergency phones stored before their search hash existed get it after migrating."""

from __future__ import annotations

from typing import Any

from respite.crypto import cipher_for
from respite.recipients.phones import backfill_phone_hashes, contact_phone_hash
from respite.settings import Settings
from tests import builders


async def test_the_backfill_hashes_every_number_without_one_once(
    db: Any, settings: Settings
) -> None:
    cipher = cipher_for(settings)
    spellings = ["13800138000", "+86 139-1234-5678", "+8613700137000"]
    elders = []
    for phone in spellings:
        elder = await builders.recipient(db)
        await db.execute(
            "UPDATE care_recipients SET emergency_contact_phone_enc = $2 WHERE id = $1",
            elder,
            cipher.encrypt("emergency_contact_phone", phone),
        )
        elders.append(elder)
    unreadable = await builders.recipient(db)
    await db.execute(
        "UPDATE care_recipients SET emergency_contact_phone_enc = $2 WHERE id = $1",
        unreadable,
        b"\x02\x00\x07" + bytes(40),
    )

    assert await backfill_phone_hashes(db, settings, cipher, batch=2) == 3
    hashes = await db.fetch(
        "SELECT id, emergency_contact_phone_hash AS hash FROM care_recipients"
        " WHERE id = any($1::bigint[]) ORDER BY id",
        [*elders, unreadable],
    )
    assert [row["hash"] for row in hashes] == [
        *(contact_phone_hash(settings, phone) for phone in spellings),
        None,
    ]
    assert await backfill_phone_hashes(db, settings, cipher) == 0
