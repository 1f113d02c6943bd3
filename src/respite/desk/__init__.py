"""The desk: what staff of a facility need to reach people.

A day's arrivals and departures, bookings and elders found by the elder's name or phone, an
elder's emergency contact revealed in full (audited), and the referring ward's contact of the
referrals placed with the facility. The use cases are imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from respite.exports import on_first_use

if TYPE_CHECKING:
    from respite.desk.contact import placed_referrals, reveal_emergency_contact
    from respite.desk.elders import find_elders
    from respite.desk.service import (
        booking_origin,
        elder_names_in_period,
        elder_stays,
        find_bookings,
        stays_on_day,
    )


__all__ = [
    "booking_origin",
    "elder_names_in_period",
    "elder_stays",
    "find_bookings",
    "find_elders",
    "placed_referrals",
    "reveal_emergency_contact",
    "stays_on_day",
]
__getattr__ = on_first_use(
    __name__,
    {
        "respite.desk.contact": ("placed_referrals", "reveal_emergency_contact"),
        "respite.desk.elders": ("find_elders",),
        "respite.desk.service": (
            "booking_origin",
            "elder_names_in_period",
            "elder_stays",
            "find_bookings",
            "stays_on_day",
        ),
    },
)
