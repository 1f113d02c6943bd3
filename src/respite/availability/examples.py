"""Examples the API reference shows for the search: a week in May 2027 near an elder's home in
Changning, Shanghai. Built from the Structs themselves, so they keep their shape."""

from __future__ import annotations

from datetime import date

from respite.availability.model import (
    AvailabilityPage,
    ExcludedFacility,
    FacilityBeds,
    FreeBed,
    PolicyRef,
)
from respite.eligibility.reasons import reason
from respite.i18n import t
from respite.reference import example

__all__ = ["CHECK_IN", "CHECK_OUT", "FOUND", "NEAR"]

CHECK_IN = example("A Saturday in May 2027", "2027-05-01")
CHECK_OUT = example("A week later", "2027-05-08")
NEAR = example("Xinhua Road, Changning District, Shanghai", "31.2077,121.4260")
_RESPITE = PolicyRef(code="cn-respite", version=1)
# The words the service itself writes for this refusal.
_OXYGEN = reason("needs_capability_missing:oxygen", {"capability": "oxygen", "needs": "oxygen"})

_OXYGEN_WORD = t("availability.capability.oxygen")

FOUND = example(
    "Two beds free 1.3 km away; a closer facility lacks oxygen",
    AvailabilityPage(
        check_in=date(2027, 5, 1),
        check_out=date(2027, 5, 8),
        nights=7,
        kind="respite",
        sort="distance",
        facilities=[
            FacilityBeds(
                facility_id=17,
                name="长宁区新华路街道综合为老服务中心",
                distance_km=1.3,
                currency="CNY",
                policy=_RESPITE,
                price_from=26000,
                free_beds=2,
                held_beds=1,
                beds=[
                    FreeBed(
                        bed_id=315,
                        label="3F-15",
                        sex_rule="any",
                        capabilities=["oxygen", "wheelchair"],
                        pressure_care_stage=2,
                        nightly_price=26000,
                        total_price=182000,
                    ),
                    FreeBed(
                        bed_id=312,
                        label="3F-12",
                        sex_rule="female",
                        capabilities=["oxygen", "low_bed"],
                        pressure_care_stage=2,
                        nightly_price=28000,
                        total_price=196000,
                    ),
                ],
            )
        ],
        excluded=[
            ExcludedFacility(
                facility_id=9,
                name="长宁区天山路街道长者照护之家",
                distance_km=0.6,
                policy=_RESPITE,
                reasons=[_OXYGEN],
            )
        ],
        summary=t(
            "availability.summary.nearest_one",
            distance=1300,
            what=t(
                "availability.summary.lacks", capabilities=[t("availability.capability.oxygen")]
            ),
        ),
    ),
)
