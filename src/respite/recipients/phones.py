"""Emergency contacts' numbers as staff find them: one keyed hash for every spelling.

A number is hashed in E.164 (``+8613800138000``) when ``phonenumbers`` reads it as a valid
number (written without a country code: of ``RESPITE_PHONE_REGION``), else as its digits with
a leading ``+`` kept. So ``+86 138 0013 8000``, ``138-0013-8000`` and ``13800138000`` hash
alike, and a search by any of them finds the one stored. The hash is keyed by a key of its
own (``keys.CONTACT_PHONE_HASH``): the table alone tells no number, and a guess has to go
through the service, which answers only staff, within their facility.

Rows sealed before the hash existed (``sql/0015``) are hashed by ``backfill_phone_hashes``,
which ``respite migrate``, ``serve`` and ``dev`` run after migrating.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from typing import Final

from respite.auth.logins import canonical_phone
from respite.crypto import IdentifierCipher, UnreadableIdentifierError
from respite.db import Conn
from respite.keys import CONTACT_PHONE_HASH, derive_key
from respite.recipients import queries as q
from respite.settings import Settings

__all__ = ["backfill_phone_hashes", "contact_phone_hash", "phone_key"]

log = logging.getLogger("respite.recipients.phones")

BACKFILL_BATCH: Final = 500
_NOISE: Final = re.compile(r"[^0-9+]")


def phone_key(text: str, region: str) -> str:
    """The one form every spelling of a number is hashed in."""
    plain = _NOISE.sub("", text)
    plain = plain[:1] + plain[1:].replace("+", "")
    return canonical_phone(plain, region) or plain


def contact_phone_hash(settings: Settings, text: str) -> bytes:
    key = derive_key(settings.secret_key, CONTACT_PHONE_HASH)
    return hmac.new(key, phone_key(text, settings.phone_region).encode(), hashlib.sha256).digest()


async def backfill_phone_hashes(
    conn: Conn, settings: Settings, cipher: IdentifierCipher, *, batch: int = BACKFILL_BATCH
) -> int:
    """Hash every stored emergency contact number that has no hash yet; how many were hashed.

    A row is written only if it still holds the number read (compare and set), so an edit made
    meanwhile keeps its own hash. A number no configured key opens is left for a later run."""
    after, hashed = 0, 0
    while True:
        async with conn.transaction():
            rows = await conn.fetch(q.SELECT_UNHASHED_PHONES, after, batch)
            if not rows:
                return hashed
            ids, sealed, hashes = [], [], []
            for row in rows:
                try:
                    plain = cipher.decrypt("emergency_contact_phone", row["sealed"])
                except UnreadableIdentifierError:
                    log.warning("care recipient %s: phone unreadable, not hashed", row["id"])
                    continue
                ids.append(row["id"])
                sealed.append(row["sealed"])
                hashes.append(contact_phone_hash(settings, plain))
            status = await conn.execute(q.SET_PHONE_HASHES, ids, sealed, hashes)
        hashed += int(status.split()[-1])
        after = rows[-1]["id"]
