"""Who made a booking, as the desk's booking page says it: from the booking account's role
and whether it came through a hold."""

from __future__ import annotations

import pytest

from respite.desk.model import BookedBy, booked_by


@pytest.mark.parametrize(
    ("role", "held", "hospital", "said"),
    [
        ("family", True, False, "family"),
        ("hospital", True, True, "hospital"),
        ("staff", True, True, "hospital"),  # staff booking a hospital's referral
        ("staff", False, False, "walk_in"),
        ("staff", True, False, "staff"),
        ("admin", False, False, "admin"),
    ],
)
def test_who_booked(role: str, held: bool, hospital: bool, said: BookedBy) -> None:
    assert booked_by(role, held=held, hospital=hospital) == said
