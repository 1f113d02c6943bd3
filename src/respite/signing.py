"""Signed tokens: a payload a client carries and hands back, that it can read but not forge.

The one HMAC signer of respite (hold tokens, page cursors). A token is
``<payload>.<mac>``, both URL-safe base64 without padding; the MAC is HMAC-SHA256 over the
payload, cut to 18 bytes, under a key of the purpose's own derived from the service's secret
key (``respite.keys``). The purpose keeps the uses apart: a cursor never verifies as a hold
token, nor one list's cursor as another's.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

from respite.keys import derive_key, signing_purpose

__all__ = ["Signer"]

MAC_BYTES = 18


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Signer:
    """Signs and verifies the tokens of one purpose under one secret key."""

    __slots__ = ("_key",)

    def __init__(self, secret_key: str, purpose: str) -> None:
        self._key = derive_key(secret_key, signing_purpose(purpose))

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()[:MAC_BYTES]

    def sign(self, payload: bytes) -> str:
        return f"{_b64(payload)}.{_b64(self._mac(payload))}"

    def verify(self, token: str) -> bytes | None:
        """The payload if ``token`` is one this signer made, else None (never an error)."""
        body, dot, mac_text = token.partition(".")
        if not dot or "." in mac_text:
            return None
        try:
            payload, mac = _unb64(body), _unb64(mac_text)
        except (binascii.Error, ValueError):
            return None
        if not hmac.compare_digest(mac, self._mac(payload)):
            return None
        return payload
