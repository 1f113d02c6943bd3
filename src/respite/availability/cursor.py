"""Page cursors: opaque to clients, signed, and bound to the search that issued them.

A cursor carries where the last page ended (the sort key and facility id) and the search's
fingerprint, signed by ``respite.signing`` under the service's secret key. A cursor that was
edited, forged, truncated, or issued for a different search is refused with a 422 naming
``cursor``: it can neither probe other searches nor push the database off the keyset path.
"""

from __future__ import annotations

import math

import msgspec

from respite.availability.model import PageKey
from respite.errors import InvalidInputError
from respite.signing import Signer

__all__ = ["MAX_CURSOR_LENGTH", "decode_cursor", "encode_cursor"]

MAX_CURSOR_LENGTH = 512
_VERSION = 1
PURPOSE = "cursor"


class _Payload(msgspec.Struct, frozen=True, array_like=True, forbid_unknown_fields=True):
    version: int
    fingerprint: str
    key: float
    facility_id: int


def encode_cursor(secret_key: str, fingerprint: str, after: PageKey) -> str:
    payload = msgspec.json.encode(_Payload(_VERSION, fingerprint, after.key, after.facility_id))
    return Signer(secret_key, PURPOSE).sign(payload)


def decode_cursor(secret_key: str, token: str, fingerprint: str) -> PageKey:
    """The page key in ``token``, or InvalidInputError if it is not a cursor of this search."""
    refused = InvalidInputError.one("cursor", "not a cursor issued for this search")
    payload = None
    if len(token) <= MAX_CURSOR_LENGTH:
        payload = Signer(secret_key, PURPOSE).verify(token)
    if payload is None:
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
