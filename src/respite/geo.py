"""Distances on the Earth's surface, for service radii and "near here" searches."""

from math import asin, cos, radians, sin, sqrt

__all__ = ["EARTH_RADIUS_M", "haversine_m"]

# IUGG mean Earth radius. A sphere errs by up to ~0.5% against the ellipsoid, far below the
# precision of a home address geocode or of a service radius drawn by a care provider.
EARTH_RADIUS_M = 6_371_008.8


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres between two points given in decimal degrees."""
    phi1, phi2 = radians(lat1), radians(lat2)
    half_dphi = (phi2 - phi1) / 2
    half_dlambda = radians(lon2 - lon1) / 2
    h = sin(half_dphi) ** 2 + cos(phi1) * cos(phi2) * sin(half_dlambda) ** 2
    # min() guards asin against rounding just above 1 for antipodal points.
    return 2 * EARTH_RADIUS_M * asin(min(1.0, sqrt(h)))
