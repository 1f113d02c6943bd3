"""The search's page cursors: ``respite.paging`` cursors bound to the search that issued them.

A cursor carries where the last page ended (the sort key and facility id) and the search's
fingerprint. A cursor that was edited, forged, truncated, or issued for a different search (or
another list) is refused with a 422 naming ``cursor``: it can neither probe other searches nor
push the database off the keyset path.
"""

from __future__ import annotations

import math

import msgspec

from respite import paging
from respite.availability.model import PageKey
from respite.settings import Settings

__all__ = ["AVAILABILITY_PAGES", "decode_cursor", "encode_cursor"]

AVAILABILITY_PAGES = "page:availability"
"""The purpose of the search's cursors: another list's never works here."""


class _Position(msgspec.Struct, frozen=True, array_like=True, forbid_unknown_fields=True):
    fingerprint: str
    key: float
    facility_id: int


def encode_cursor(settings: Settings, fingerprint: str, after: PageKey) -> str:
    position = _Position(fingerprint, after.key, after.facility_id)
    return paging.encode(settings, AVAILABILITY_PAGES, position)


def decode_cursor(settings: Settings, token: str, fingerprint: str) -> PageKey:
    """The page key in ``token``, or the refusal if it is not a cursor of this search."""
    position = paging.decode(settings, AVAILABILITY_PAGES, token, _Position)
    if position.fingerprint != fingerprint or not math.isfinite(position.key):
        raise paging.refusal()
    return PageKey(position.key, position.facility_id)
