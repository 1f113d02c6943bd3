"""Where a search looks, said back (pure): the coordinate system, the place a name resolved
to, why a ``lat,lon`` was refused, and the home-care providers nearest a home none serves."""

from __future__ import annotations

import math
from typing import Annotated, Final

from msgspec import Meta, Struct

from respite.i18n import Text, t
from respite.places.model import Bounds

__all__ = ["NEAREST_PROVIDERS", "NearestProvider", "outside_area", "swapped"]

# How many providers an empty home-care answer names: enough to choose, few enough to read.
NEAREST_PROVIDERS: Final = 3


class NearestProvider(Struct, frozen=True, kw_only=True):
    """A home-care provider near a home it does not serve: the home is past its radius."""

    facility_id: Annotated[int, Meta(description="The provider (a facility).")]
    name: Annotated[str, Meta(description="Its name.")]
    district: Annotated[str, Meta(description="Its district.")]
    distance_m: Annotated[int, Meta(description="From the home to the provider, in metres.")]
    service_radius_m: Annotated[int, Meta(description="How far from it it serves homes, in m.")]
    outside_service_radius: Annotated[
        bool, Meta(description="Always true here: the home is past its service radius.")
    ] = True


def _numbers(text: str) -> tuple[float, float] | None:
    parts = text.split(",")
    if len(parts) != 2:
        return None
    try:
        first, second = float(parts[0]), float(parts[1])
    except ValueError:
        return None
    if not (math.isfinite(first) and math.isfinite(second)):
        return None
    return first, second


def swapped(text: str, bounds: Bounds | None = None) -> Text | None:
    """Why ``text`` reads as ``lon,lat``: a latitude past 90 whose swap is a point, or (given
    the deployment's bounds) a point outside them whose swap is inside. None otherwise."""
    numbers = _numbers(text)
    if numbers is None:
        return None
    first, second = numbers
    impossible = abs(first) > 90 and abs(second) <= 90 and abs(first) <= 180
    misplaced = (
        bounds is not None and not bounds.holds(first, second) and bounds.holds(second, first)
    )
    if impossible or misplaced:
        return t("places.lon_lat_swapped", example=f"{second:g},{first:g}")
    return None


def outside_area(bounds: Bounds, system: str) -> Text:
    return t(
        "places.outside_area",
        south=f"{bounds.south:.2f}",
        north=f"{bounds.north:.2f}",
        west=f"{bounds.west:.2f}",
        east=f"{bounds.east:.2f}",
        system=system,
    )
