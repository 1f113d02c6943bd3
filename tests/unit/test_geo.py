"""Great-circle distances against known figures."""

from math import pi

import pytest

from respite.geo import EARTH_RADIUS_M, haversine_m

BEIJING = (39.9042, 116.4074)
SHANGHAI = (31.2304, 121.4737)


@pytest.mark.parametrize(
    ("start", "end", "metres", "tolerance"),
    [
        ((0.0, 0.0), (0.0, 0.0), 0.0, 0.0),
        ((0.0, 0.0), (1.0, 0.0), 111_195.0, 1.0),
        ((39.0, 116.4), (40.0, 116.4), 111_195.0, 1.0),
        ((60.0, 10.0), (60.0, 11.0), 55_597.0, 1.0),
        (BEIJING, SHANGHAI, 1_067_000.0, 10_670.0),
        ((0.0, 0.0), (0.0, 180.0), pi * EARTH_RADIUS_M, 1e-6),
        ((0.0, 179.5), (0.0, -179.5), 111_195.0, 1.0),
    ],
)
def test_known_distances(
    start: tuple[float, float], end: tuple[float, float], metres: float, tolerance: float
) -> None:
    assert haversine_m(*start, *end) == pytest.approx(metres, abs=tolerance)


def test_distance_is_symmetric() -> None:
    assert haversine_m(*BEIJING, *SHANGHAI) == haversine_m(*SHANGHAI, *BEIJING)
