"""Page cursors: opaque to clients, signed, and bound to the search that issued them.

A cursor carries where the last page ended (the sort key and facility id) and the search's
fingerprint, signed with HMAC-SHA256 under the service's secret key. A cursor that was edited,
forged, truncated, or issued for a different search is refused with a 422 naming ``cursor``:
it can neither probe other searches nor push the database off the keyset path.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import math

import msgspec

from respite.availability.model import PageKey
from respite.errors import InvalidInputError

__all__ = ["MAX_CURSOR_LENGTH", "decode_cursor", "encode_cursor"]

MAX_CURSOR_LENGTH = 512
_VERSION = 1
_SIGNATURE_BYTES = 16


class _Payload(msgspec.Struct, frozen=True, array_like=True, forbid_unknown_fields=True):
    version: int
    fingerprint: str
    key: float
    facility_id: int


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(secret_key: str, payload: bytes) -> bytes:
    # "cursor:" keeps these signatures apart from any other use of the same key.
    digest = hmac.new(secret_key.encode(), b"cursor:" + payload, hashlib.sha256).digest()
    return digest[:_SIGNATURE_BYTES]


def encode_cursor(secret_key: str, fingerprint: str, after: PageKey) -> str:
    payload = msgspec.json.encode(_Payload(_VERSION, fingerprint, after.key, after.facility_id))
    return f"{_b64(payload)}.{_b64(_sign(secret_key, payload))}"


def decode_cursor(secret_key: str, token: str, fingerprint: str) -> PageKey:
    """The page key in ``token``, or InvalidInputError if it is not a cursor of this search."""
    refused = InvalidInputError.one("cursor", "not a cursor issued for this search")
    if len(token) > MAX_CURSOR_LENGTH or token.count(".") != 1:
        raise refused
    body, signature = token.split(".")
    try:
        payload, given = _unb64(body), _unb64(signature)
    except (binascii.Error, ValueError):
        raise refused from None
    if not hmac.compare_digest(given, _sign(secret_key, payload)):
        raise refused
    try:
        decoded = msgspec.json.decode(payload, type=_Payload)
    except msgspec.MsgspecError:
        raise refused from None
    if decoded.version != _VERSION or decoded.fingerprint != fingerprint:
        raise refused
    if not math.isfinite(decoded.key):
        raise refused
    return PageKey(decoded.key, decoded.facility_id)
