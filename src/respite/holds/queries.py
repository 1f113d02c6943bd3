"""SQL of reading holds back: the beds they hold and those beds' facilities."""

from __future__ import annotations

__all__ = ["SELECT_HELD_BEDS"]

# The beds of a page of holds with their facilities' contacts, in one round trip.
SELECT_HELD_BEDS = """
SELECT b.id, b.label, b.kind, b.nightly_price, f.id AS facility_id, f.name, f.address, f.phone
FROM beds b JOIN facilities f ON f.id = b.facility_id
WHERE b.id = any($1::bigint[])
"""
