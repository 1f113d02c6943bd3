"""Use cases of the gazetteer: import the operator's file; find a place by what a person typed.

``find_place`` and ``gazetteer_bounds`` run on the caller's connection: search resolves a
name in the same round of queries that reads its beds.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

import asyncpg
import msgspec

from respite import audit
from respite.auth.model import Principal
from respite.db import Conn
from respite.params import MAX_ID
from respite.places import queries
from respite.places.errors import AmbiguousPlaceError, GazetteerRejectedError, UnknownPlaceError
from respite.places.model import (
    Bounds,
    Place,
    PlaceEntry,
    PlaceKind,
    name_key,
    read_gazetteer,
)

if TYPE_CHECKING:
    from respite.deps import Deps

__all__ = [
    "PlacesImported",
    "find_place",
    "gazetteer_bounds",
    "import_places",
    "place_at",
    "replace_places",
]


class PlacesImported(msgspec.Struct, frozen=True, kw_only=True):
    """How many places of each kind the gazetteer now holds."""

    counts: dict[PlaceKind, int]


async def import_places(deps: Deps, principal: Principal | None, data: bytes) -> PlacesImported:
    """Replace the gazetteer by the file's places, all or none: raises
    GazetteerRejectedError listing every problem. ``principal`` None is the operator on the
    command line (``respite places import``)."""
    entries, problems = read_gazetteer(data, deps.settings.coordinate_system)
    if problems:
        raise GazetteerRejectedError(problems)
    async with deps.pool.acquire() as conn, conn.transaction():
        counts = await replace_places(conn, entries)
        await audit.record(conn, principal, "import", "gazetteer", None, after=counts)
    return PlacesImported(counts=counts)


async def replace_places(conn: Conn, entries: list[PlaceEntry]) -> dict[PlaceKind, int]:
    """All at once: the gazetteer becomes exactly ``entries`` (checked by
    ``read_gazetteer``); how many of each kind."""
    # Parents first: the table refers to itself.
    order: dict[PlaceKind, int] = {"district": 0, "street": 1, "community": 2}
    ordered = sorted(entries, key=lambda e: (order[e.kind], e.id))
    records = [
        (e.id, e.kind, e.name, e.name_en, name_key(e.name), name_key(e.name_en), *_point(e))
        for e in ordered
    ]
    async with conn.transaction():  # a savepoint inside the caller's, if it has one
        await conn.execute(queries.LOCK_PLACES)
        await conn.execute(queries.DELETE_PLACES)
        await conn.copy_records_to_table(
            "places", columns=list(queries.PLACE_COLUMNS), records=records
        )
    return dict(Counter(e.kind for e in ordered))


def _point(entry: PlaceEntry) -> tuple[int | None, float, float, int]:
    return entry.parent, entry.lat, entry.lon, entry.reach_m


async def find_place(conn: Conn, given: str) -> Place:
    """The one place ``given`` names: its id, or its name in Chinese or in English (with or
    without 区/街道/District ...). Raises UnknownPlaceError with near matches, or
    AmbiguousPlaceError with every candidate."""
    text = given.strip()
    if text.isascii() and text.isdigit():
        place_id = int(text)
        row = (
            await conn.fetchrow(queries.SELECT_PLACE_BY_ID, place_id)
            if place_id <= MAX_ID
            else None
        )
        if row is None:
            raise UnknownPlaceError(text, [])
        return _place(row)
    key = name_key(text)
    found = [_place(r) for r in await conn.fetch(queries.SELECT_PLACES_BY_KEY, key)] if key else []
    if len(found) == 1:
        return found[0]
    if found:
        raise AmbiguousPlaceError(text, found)
    near = [_place(r) for r in await conn.fetch(queries.SELECT_NEAR_MATCHES, key)] if key else []
    raise UnknownPlaceError(text, near)


async def place_at(conn: Conn, lat: float, lon: float) -> Place | None:
    """The most local place that reaches the point (a home's street or community), or None
    outside every place."""
    row = await conn.fetchrow(queries.SELECT_PLACE_AT, lat, lon)
    return None if row is None else _place(row)


async def gazetteer_bounds(conn: Conn) -> Bounds | None:
    """The box the deployment covers, or None while its gazetteer is empty."""
    row = await conn.fetchrow(queries.SELECT_BOUNDS)
    if row is None or row["south"] is None:
        return None
    return Bounds(row["south"], row["north"], row["west"], row["east"])


def _place(row: asyncpg.Record) -> Place:
    return Place(
        id=row["id"],
        kind=row["kind"],
        name=row["name"],
        name_en=row["name_en"],
        district=row["district"],
        lat=row["lat"],
        lon=row["lon"],
        radius_m=row["radius_m"],
    )
