"""The viewer: who looks at care recipients, when, and where staff may place an elder."""

from datetime import UTC, datetime

import pytest

from respite.auth.model import Principal
from respite.eligibility.subject import Viewer
from respite.settings import Settings

NOW = datetime(2025, 3, 1, 12, tzinfo=UTC)
STAFF_OF_7 = Principal(id=1, role="staff", name="s", facility_id=7)


@pytest.mark.parametrize(
    ("principal", "facility_id", "acts"),
    [
        (STAFF_OF_7, 7, True),
        (STAFF_OF_7, 8, False),
        (Principal(id=2, role="family", name="f"), 8, True),
        (Principal(id=3, role="hospital", name="h", hospital_id=4), 8, True),
        (Principal(id=5, role="admin", name="a"), 8, True),
    ],
)
def test_staff_place_elders_at_their_own_facility_only(
    principal: Principal, facility_id: int, acts: bool
) -> None:
    viewer = Viewer.of(principal, NOW, Settings())
    assert viewer.acts_at(facility_id) is acts


def test_the_parameters_of_the_rule_carry_the_instant_and_the_bound() -> None:
    viewer = Viewer.of(STAFF_OF_7, NOW, Settings(staff_recent_stay_days=12))
    assert viewer.params() == ("staff", 1, None, 7, NOW, 12)
