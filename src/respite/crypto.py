"""Encryption of stored personal identifiers (national ID numbers, emergency contact phones).

AES-256-GCM with a random 96-bit nonce per value. A stored value is ``version || nonce ||
ciphertext+tag``; the version byte leaves room to rotate keys later. Each value is bound to what
it is (``purpose``, as associated data), so a national ID cannot be copied into the phone column
and read back as a phone. The key comes from ``RESPITE_ID_KEY``; without it a key is derived
from ``secret_key``, which is acceptable for development only.

Plain identifiers are never logged: no function here logs, and errors never carry a value.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from typing import Final, Literal

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from respite.settings import Settings

__all__ = ["IdentifierCipher", "Purpose", "UnreadableIdentifierError", "cipher_for"]

Purpose = Literal["national_id", "emergency_contact_phone"]
_VERSION: Final = b"\x01"
_NONCE_BYTES: Final = 12


class UnreadableIdentifierError(Exception):
    """A stored identifier does not decrypt: wrong key, wrong purpose, or altered bytes."""


class IdentifierCipher:
    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("the identifier key must be 32 bytes")
        self._aead = AESGCM(key)

    def encrypt(self, purpose: Purpose, plain: str) -> bytes:
        nonce = secrets.token_bytes(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plain.encode(), purpose.encode())
        return _VERSION + nonce + sealed

    def decrypt(self, purpose: Purpose, stored: bytes) -> str:
        if stored[:1] != _VERSION:
            raise UnreadableIdentifierError("unknown identifier format")
        nonce, sealed = stored[1 : 1 + _NONCE_BYTES], stored[1 + _NONCE_BYTES :]
        try:
            return self._aead.decrypt(nonce, sealed, purpose.encode()).decode()
        except InvalidTag:
            raise UnreadableIdentifierError("the identifier does not decrypt") from None


def cipher_for(settings: Settings) -> IdentifierCipher:
    if settings.id_key is not None:
        # The settings pattern guarantees 32 bytes of valid base64.
        return IdentifierCipher(base64.b64decode(settings.id_key, validate=True))
    # Development only: anyone who knows secret_key can read the identifiers.
    derived = hashlib.sha256(b"respite identifier key\x00" + settings.secret_key.encode())
    return IdentifierCipher(derived.digest())
