"""Every key respite makes from its one secret key: a separate key for each purpose.

HKDF-SHA256 (RFC 5869) over ``RESPITE_SECRET_KEY``, the purpose as its ``info``: the MAC key
of hold tokens is not the one of a list's cursors, nor the key of identifier hashes, and
learning one of them tells nothing of the others or of the secret key. The secret key itself
keys nothing directly.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from typing import Final

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = [
    "CONTACT_PHONE_HASH",
    "IDENTIFIER_ENCRYPTION",
    "IDENTIFIER_HASH",
    "ONE_TIME_CODE",
    "PAGE_CSRF",
    "derive_key",
    "one_time_code",
    "signing_purpose",
]

IDENTIFIER_HASH: Final = "identifier-hash"
"""Keyed hashes of personal identifiers (phone logins, national ID numbers)."""
CONTACT_PHONE_HASH: Final = "contact-phone-hash"
"""Keyed hashes of emergency contacts' numbers, to find an elder's bookings by one: a key of
its own, so that they cannot be matched against the hashes of phone logins."""
IDENTIFIER_ENCRYPTION: Final = "identifier-encryption"
"""The development key of stored identifiers, when ``RESPITE_ID_KEY`` is not set."""
ONE_TIME_CODE: Final = "one-time-code"
"""The key one-time codes are derived under (``one_time_code``): never stored."""
PAGE_CSRF: Final = "page-csrf"
"""The MAC key of the pages' CSRF tokens."""
KEY_BYTES: Final = 32


def signing_purpose(purpose: str) -> str:
    """The key purpose of the signed tokens of ``purpose`` (``hold``, ``page:bookings`` ...)."""
    return f"signing:{purpose}"


# Signers are made on every request: derive each key once per process.
@functools.lru_cache(maxsize=128)
def derive_key(secret_key: str, purpose: str) -> bytes:
    """The 32-byte key of ``purpose``, the same for the same secret key every time."""
    hkdf = HKDF(
        algorithm=hashes.SHA256(),
        length=KEY_BYTES,
        salt=None,
        info=b"respite/" + purpose.encode(),
    )
    return hkdf.derive(secret_key.encode())


def one_time_code(secret_key: str, salt: bytes, digits: int) -> str:
    """The one-time code of a row's random ``salt`` (``respite.codes``): ``digits`` decimal
    digits of its HMAC-SHA256 under the one-time-code key. Derived when it is sent and when it
    is checked, so the code itself is never stored."""
    mac = hmac.new(derive_key(secret_key, ONE_TIME_CODE), salt, hashlib.sha256).digest()
    return f"{int.from_bytes(mac[:8], 'big') % 10**digits:0{digits}d}"
