"""Where a search looks, from what it was given: a place's name resolved in the gazetteer, a
point checked against the deployment's area, and the providers nearest an unserved home.

Runs on the search's own connection, before and after the page is read; the gazetteer is a
small table, so each step is one indexed query.
"""

from __future__ import annotations

import msgspec

from respite.availability.model import MAX_RADIUS_KM, AvailabilityQuery, Point
from respite.availability.plan import bounding_box
from respite.availability.policies import PolicyCache
from respite.availability.queries import SELECT_NEAREST_HOME_PROVIDERS
from respite.availability.where import NEAREST_PROVIDERS, NearestProvider, outside_area, swapped
from respite.db import Conn
from respite.errors import FieldError, InvalidInputError
from respite.places.model import Place
from respite.places.service import find_place

__all__ = ["locate", "nearest_home_providers"]

# A street's reach is a few hundred metres; a search by its name looks at least this far.
MIN_PLACE_RADIUS_M = 1000.0


async def locate(
    conn: Conn, query: AvailabilityQuery, system: str, cache: PolicyCache
) -> tuple[AvailabilityQuery, Place | None]:
    """The query with ``near`` (and an anonymous home-care search's home) set from its place,
    and that place; or the query as it is once its points are found inside the deployment's
    area. Raises UnknownPlaceError, AmbiguousPlaceError, or InvalidInputError naming a point
    outside the area (or one written ``lon,lat``)."""
    if query.place is None:
        if query.checks_area:
            await _check_points(conn, query, system, cache)
        return query, None
    place = await find_place(conn, query.place)
    point = Point(place.lat, place.lon)
    radius = query.radius_m
    if query.radius_from_place:
        radius = min(max(float(place.radius_m), MIN_PLACE_RADIUS_M), MAX_RADIUS_KM * 1000)
    home = query.home
    if home is None and query.kind == "home" and query.care_recipient_id is None:
        home = point
    return msgspec.structs.replace(query, near=point, radius_m=radius, home=home), place


async def _check_points(
    conn: Conn, query: AvailabilityQuery, system: str, cache: PolicyCache
) -> None:
    points = [("near", query.near)]
    if query.home is not None and query.home != query.near:
        points.append(("home", query.home))
    if all(p is None for _, p in points):
        return
    bounds = await cache.bounds(conn)
    if bounds is None:  # no gazetteer: nothing says where the deployment is
        return
    errors = [
        FieldError(field, swapped(f"{p.lat},{p.lon}", bounds) or outside_area(bounds, system))
        for field, p in points
        if p is not None and not bounds.holds(p.lat, p.lon)
    ]
    if errors:
        raise InvalidInputError(errors)


async def nearest_home_providers(conn: Conn, home: Point) -> list[NearestProvider]:
    """The home-care providers nearest ``home`` whose service radius stops short of it."""
    lon_min, lat_min, lon_max, lat_max = bounding_box(home, MAX_RADIUS_KM * 1000)
    box = ((lon_max, lat_max), (lon_min, lat_min))
    rows = await conn.fetch(
        SELECT_NEAREST_HOME_PROVIDERS, home.lat, home.lon, box, NEAREST_PROVIDERS
    )
    return [
        NearestProvider(
            facility_id=r["id"],
            name=r["name"],
            district=r["district"],
            distance_m=round(r["distance_m"]),
            service_radius_m=r["service_radius_m"],
        )
        for r in rows
    ]
