"""The SMS number of a principal's notification settings is a sealed identifier like the
others: `respite rotate-id-key` re-encrypts it under the new key, and the worker reads it
during and after the rotation."""

from __future__ import annotations

import base64
import os
from typing import Any

from respite.crypto import cipher_for
from respite.id_keys import COLUMNS, rotate
from respite.settings import Settings
from tests import builders

OLD = base64.b64encode(os.urandom(32)).decode()
NEW = base64.b64encode(os.urandom(32)).decode()
BEFORE = Settings(id_key=OLD)
DURING = Settings(id_key=NEW, id_key_id=2, id_key_previous=OLD)
AFTER = Settings(id_key=NEW, id_key_id=2)
MOBILE = "+8613912345678"


async def test_a_rotation_re_encrypts_the_sms_numbers(db: Any) -> None:
    [column] = [c for c in COLUMNS if c.table == "notification_settings"]
    principal = await builders.principal(db, "family")
    await db.execute(
        "INSERT INTO notification_settings (principal_id, email_enabled, sms_enabled,"
        " sms_phone_enc, sms_phone_last4, language, updated_at)"
        " VALUES ($1, false, true, $2, '5678', 'en', now())",
        principal,
        cipher_for(BEFORE).encrypt("notification_phone", MOBILE),
    )
    assert await db.fetchval("SELECT sms_phone_key_id FROM notification_settings") == 1
    done = {r.column.name: r.rows for r in await rotate(db, cipher_for(DURING))}
    assert done[column.name] == 1
    sealed = await db.fetchval("SELECT sms_phone_enc FROM notification_settings")
    assert await db.fetchval("SELECT sms_phone_key_id FROM notification_settings") == 2
    assert cipher_for(AFTER).decrypt("notification_phone", sealed) == MOBILE
