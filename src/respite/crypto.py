"""Encryption of stored personal identifiers (national ID numbers, emergency contact phones,
the mobile numbers notifications are sent to by SMS).

AES-256-GCM with a random 96-bit nonce per value. A stored value is ``2 || key id (2 bytes,
big-endian) || nonce || ciphertext+tag``: it names the key that sealed it, so a service keeps
reading values sealed under the previous key while ``respite rotate-id-key`` re-encrypts them
under the newest (``respite.id_keys``). Values written before key ids (version 1: ``1 ||
nonce || ciphertext+tag``) are under key 1. Each value is bound to what it is (``purpose``, as
associated data with the header), so a national ID cannot be copied into the phone column and
read back as a phone. The keys come from ``RESPITE_ID_KEY`` (id ``RESPITE_ID_KEY_ID``) and
``RESPITE_ID_KEY_PREVIOUS``; without them a key derived from ``secret_key`` is used, which is
acceptable for development only (``respite serve`` refuses it in production).

Plain identifiers are never logged: no function here logs, and errors never carry a value.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Mapping
from typing import Final, Literal

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from respite.keys import IDENTIFIER_ENCRYPTION, derive_key
from respite.settings import Settings

__all__ = [
    "IdentifierCipher",
    "Purpose",
    "UnreadableIdentifierError",
    "cipher_for",
    "key_id_of",
]

Purpose = Literal["national_id", "emergency_contact_phone", "notification_phone", "key_check"]
_LEGACY: Final = 1
_VERSION: Final = 2
_NONCE_BYTES: Final = 12
_LEGACY_KEY_ID: Final = 1
_HEADER_BYTES: Final = 3  # version, key id
_CHECK: Final = b"respite identifier key check"


class UnreadableIdentifierError(Exception):
    """A stored identifier does not decrypt: wrong key, wrong purpose, or altered bytes."""


def key_id_of(stored: bytes) -> int:
    """The id of the key that sealed ``stored`` (``identifier_key_id`` in SQL says the same)."""
    if stored[:1] == bytes([_LEGACY]):
        return _LEGACY_KEY_ID
    if stored[:1] == bytes([_VERSION]) and len(stored) > _HEADER_BYTES:
        return int.from_bytes(stored[1:_HEADER_BYTES], "big")
    raise UnreadableIdentifierError("unknown identifier format")


class IdentifierCipher:
    """Seals under the current key; opens whatever a key of the ring sealed, by its id."""

    def __init__(self, keys: Mapping[int, bytes], *, current: int) -> None:
        if current not in keys:
            raise ValueError("the current identifier key must be one of the keys")
        for key_id, key in keys.items():
            if not 1 <= key_id <= 0xFFFF:
                raise ValueError("an identifier key id is between 1 and 65535")
            if len(key) != 32:
                raise ValueError("the identifier key must be 32 bytes")
        self._aeads = {key_id: AESGCM(key) for key_id, key in keys.items()}
        self.current = current

    @property
    def key_ids(self) -> tuple[int, ...]:
        """The ids of the keys this cipher opens, newest first."""
        return tuple(sorted(self._aeads, reverse=True))

    def encrypt(self, purpose: Purpose, plain: str) -> bytes:
        return self._seal(self.current, purpose, plain.encode())

    def decrypt(self, purpose: Purpose, stored: bytes) -> str:
        return self._open(purpose, stored).decode()

    def check_value(self, key_id: int) -> bytes:
        """A value only the key ``key_id`` opens: recorded once, it tells a later start whether
        the key configured under that id is still the same key."""
        return self._seal(key_id, "key_check", _CHECK)

    def opens_check(self, key_id: int, check_value: bytes) -> bool:
        try:
            return key_id_of(check_value) == key_id and (
                self._open("key_check", check_value) == _CHECK
            )
        except UnreadableIdentifierError:
            return False

    def _seal(self, key_id: int, purpose: Purpose, plain: bytes) -> bytes:
        header = bytes([_VERSION]) + key_id.to_bytes(2, "big")
        nonce = secrets.token_bytes(_NONCE_BYTES)
        return header + nonce + self._aeads[key_id].encrypt(nonce, plain, header + purpose.encode())

    def _open(self, purpose: Purpose, stored: bytes) -> bytes:
        key_id = key_id_of(stored)
        aead = self._aeads.get(key_id)
        if aead is None:
            raise UnreadableIdentifierError(f"sealed under identifier key {key_id}, not configured")
        if stored[0] == _LEGACY:
            body, associated = stored[1:], purpose.encode()
        else:
            body, associated = stored[_HEADER_BYTES:], stored[:_HEADER_BYTES] + purpose.encode()
        nonce, sealed = body[:_NONCE_BYTES], body[_NONCE_BYTES:]
        try:
            return aead.decrypt(nonce, sealed, associated)
        except InvalidTag:
            raise UnreadableIdentifierError("the identifier does not decrypt") from None


def cipher_for(settings: Settings) -> IdentifierCipher:
    if settings.id_key is None:
        # Development only: anyone who knows secret_key can read the identifiers.
        key = derive_key(settings.secret_key, IDENTIFIER_ENCRYPTION)
        return IdentifierCipher({settings.id_key_id: key}, current=settings.id_key_id)
    # The settings pattern guarantees 32 bytes of valid base64.
    keys = {settings.id_key_id: base64.b64decode(settings.id_key, validate=True)}
    if settings.id_key_previous is not None:
        keys[settings.id_key_id - 1] = base64.b64decode(settings.id_key_previous, validate=True)
    return IdentifierCipher(keys, current=settings.id_key_id)
