"""What a facility offers once holds are known, the shifted stays, and why facilities are hidden."""

from collections.abc import Sequence
from datetime import date, timedelta

import msgspec
import pytest

from respite.availability.explain import BedType, FacilitySite, bed_refusals, summarise
from respite.availability.model import (
    ExcludedFacility,
    FacilityBeds,
    FreeBed,
    HoldLike,
    PolicyRef,
)
from respite.availability.offers import (
    AlternativeRow,
    HoldsView,
    PageRow,
    best_alternative,
    offer,
    shifted,
)
from respite.availability.searcher import Searcher
from respite.eligibility import PRESETS, CareRecipient, Reason, Stay
from respite.i18n import t

D = date(2026, 6, 1)
STAY = Stay(check_in=D, check_out=D + timedelta(days=3))
POLICY = PolicyRef(code="cn-respite", version=1)


class _Hold(msgspec.Struct, frozen=True):
    bed_id: int
    check_in: date
    check_out: date


def free_bed(bed_id: int, price: int = 100) -> FreeBed:
    return FreeBed(
        bed_id=bed_id,
        label=f"B{bed_id}",
        sex_rule="any",
        capabilities=[],
        pressure_care_stage=0,
        nightly_price=price,
        total_price=price * 3,
    )


def row(*bed_ids: int, facility_id: int = 1) -> PageRow:
    return PageRow(
        facility_id=facility_id,
        name="F",
        currency="CNY",
        distance_m=1234.567,
        policy_code="cn-respite",
        beds=[free_bed(b, 100 + b) for b in bed_ids],
        sort_distance=1234.567,
        price_from=50,
        today=D,
    )


def holds(*held: tuple[int, date, date], unknown: bool = False) -> HoldsView:
    live: dict[int, Sequence[HoldLike]] = {1: [_Hold(*h) for h in held]}
    return HoldsView(live, unknown)


def test_beds_held_by_others_are_not_offered() -> None:
    found = offer(row(1, 2, 3), POLICY, holds((2, D + timedelta(2), D + timedelta(9))), STAY)
    assert found is not None
    assert [b.bed_id for b in found.beds] == [1, 3]
    assert (found.free_beds, found.held_beds) == (2, 1)
    assert found.distance_km == 1.23 and found.price_from == 50


def test_a_hold_that_ends_when_the_stay_starts_takes_nothing() -> None:
    found = offer(row(1), POLICY, holds((1, D - timedelta(4), D)), STAY)
    assert found is not None and found.free_beds == 1


def test_a_facility_whose_free_beds_are_all_held_offers_nothing() -> None:
    assert offer(row(1), POLICY, holds((1, D, D + timedelta(1))), STAY) is None


def test_unknown_holds_mark_every_bed_possibly_held() -> None:
    found = offer(row(1, 2), POLICY, holds(unknown=True), STAY)
    assert found is not None
    assert [b.possibly_held for b in found.beds] == [True, True]


def alternatives(*shifts_free: tuple[int, int]) -> dict[int, AlternativeRow]:
    return {
        shift: AlternativeRow(
            facility_id=1,
            name="F",
            currency="CNY",
            distance_m=None,
            policy_code="cn-respite",
            beds=[free_bed(bed_id)],
            shift=shift,
        )
        for shift, bed_id in shifts_free
    }


ORDER = [0, 1, -1, 2, -2, 3, -3]


def test_the_nearest_shift_wins_later_before_earlier() -> None:
    found = best_alternative(
        alternatives((-1, 5), (1, 6), (3, 7)), ORDER, STAY, POLICY, holds(), set(ORDER)
    )
    assert found is not None
    assert (found.shift_days, found.check_in, found.check_out) == (
        1,
        D + timedelta(1),
        D + timedelta(4),
    )
    assert found.beds[0].bed_id == 6


def test_a_held_or_unqualifying_shift_is_passed_over() -> None:
    options = alternatives((1, 6), (-1, 5), (2, 7))
    held = holds((6, D + timedelta(3), D + timedelta(4)))
    found = best_alternative(options, ORDER, STAY, POLICY, held, {2, -2})
    assert found is not None and found.shift_days == 2


def test_free_for_the_exact_stay_is_no_alternative() -> None:
    assert best_alternative(alternatives((0, 1), (1, 2)), ORDER, STAY, POLICY, holds(), {1}) is None
    assert best_alternative({}, ORDER, STAY, POLICY, holds(), set(ORDER)) is None


def test_shifted_keeps_the_length() -> None:
    assert shifted(STAY, -2) == Stay(check_in=D - timedelta(2), check_out=D + timedelta(1))


def searcher(sex_known: bool = True, **person: object) -> Searcher:
    base = CareRecipient(sex="male", birth_date=date(1940, 1, 1), living_situation="alone")
    return Searcher(
        person=msgspec.structs.replace(base, **person),
        assessment=None,
        used=[],
        sex_known=sex_known,
        recipient=False,
    )


SITE = FacilitySite(lat=31.23, lon=121.47, service_radius_m=3000)


def codes(reasons: list[Reason]) -> list[str]:
    return [r.code for r in reasons]


def test_the_closest_bed_type_explains_the_exclusion() -> None:
    types = [
        BedType(sex_rule="female", capabilities=[], pressure_care_stage=0),
        BedType(sex_rule="any", capabilities=["wheelchair"], pressure_care_stage=0),
    ]
    person = searcher(needs=frozenset({"oxygen", "wheelchair"}))
    reasons = bed_refusals(PRESETS["cn-respite"], person, "respite", SITE, types, STAY, D)
    assert codes(reasons) == ["needs_capability_missing:oxygen"]
    assert all(not r.ok for r in reasons)


def test_person_level_rules_never_explain_a_facility() -> None:
    # No assessment, a made-up birth date: only bed-level reasons are kept.
    types = [BedType(sex_rule="any", capabilities=[], pressure_care_stage=1)]
    person = searcher(pressure_injury_stage=3)
    reasons = bed_refusals(PRESETS["cn-respite"], person, "respite", SITE, types, STAY, D)
    assert codes(reasons) == ["needs_capability_missing:pressure_care"]


def test_an_unknown_sex_excludes_nobody_by_sex() -> None:
    types = [BedType(sex_rule="female", capabilities=[], pressure_care_stage=0)]
    known = bed_refusals(PRESETS["cn-respite"], searcher(), "respite", SITE, types, STAY, D)
    unknown = bed_refusals(
        PRESETS["cn-respite"], searcher(sex_known=False), "respite", SITE, types, STAY, D
    )
    assert codes(known) == ["sex_rule"] and unknown == []


def test_a_home_outside_the_service_radius_is_explained() -> None:
    types = [BedType(sex_rule="any", capabilities=[], pressure_care_stage=0)]
    far = searcher(home_lat=31.33, home_lon=121.47)
    reasons = bed_refusals(PRESETS["cn-home-bed"], far, "home", SITE, types, STAY, D)
    assert codes(reasons) == ["outside_service_radius"]
    assert reasons[0].figures["radius_m"] == 3000


def excluded(km: float | None, *reason_codes: str) -> ExcludedFacility:
    reasons = [
        Reason(code=c, ok=False, message=t("reason.no_assessment"), figures={})
        for c in reason_codes
    ]
    return ExcludedFacility(facility_id=1, name="F", distance_km=km, policy=POLICY, reasons=reasons)


def offered(km: float) -> FacilityBeds:
    return FacilityBeds(
        facility_id=9,
        name="G",
        distance_km=km,
        currency="CNY",
        policy=POLICY,
        price_from=1,
        free_beds=1,
        held_beds=0,
        beds=[],
    )


@pytest.mark.parametrize(
    ("hidden", "shown", "sentence"),
    [
        (
            [excluded(1.0, "needs_capability_missing:oxygen")] * 2,
            [offered(4.2)],
            "The nearest facility with a matching free bed is 4.2 km away; "
            "the 2 closer ones lack oxygen.",
        ),
        (
            [excluded(1.0, "sex_rule")],
            [offered(2.0)],
            "The nearest facility with a matching free bed is 2.0 km away; "
            "the closer one has free beds only for residents of the other sex.",
        ),
        (
            [excluded(1.0, "outside_service_radius"), excluded(3.0, "sex_rule")],
            [],
            "No facility in range has a matching free bed; the 2 with free beds do not serve "
            "the home's location (1 of 2); have free beds only for residents of the other sex "
            "(1 of 2).",
        ),
        (
            [
                excluded(
                    1.0, "needs_capability_missing:bariatric", "needs_capability_missing:oxygen"
                ),
                excluded(2.0, "needs_capability_missing:oxygen", "sex_rule"),
                excluded(3.0, "needs_capability_missing:oxygen"),
            ],
            [offered(3.5)],
            "The nearest facility with a matching free bed is 3.5 km away; the 3 closer ones "
            "lack oxygen and bariatric (1 of 3); have free beds only for residents of the other "
            "sex (1 of 3).",
        ),
        (
            [excluded(0.5, "needs_capability_missing:pressure_care")],
            [offered(1.0)],
            "The nearest facility with a matching free bed is 1.0 km away; the closer one lacks "
            "pressure-injury care at the stage needed.",
        ),
        ([excluded(5.0, "needs_capability_missing:oxygen")], [offered(4.2)], None),
        ([excluded(None, "sex_rule")], [offered(4.2)], None),
        ([], [offered(4.2)], None),
    ],
)
def test_summary(
    hidden: list[ExcludedFacility], shown: list[FacilityBeds], sentence: str | None
) -> None:
    said = summarise(hidden, shown)
    assert (said.in_("en") if said is not None else None) == sentence


@pytest.mark.parametrize(
    ("hidden", "shown", "sentence"),
    [
        (
            [excluded(1.0, "needs_capability_missing:oxygen")] * 2,
            [offered(4.2)],
            "有合适空闲床位的最近机构距离 4.2 公里；更近的 2 家机构不提供吸氧。",
        ),
        (
            [excluded(0.5, "sex_rule")],
            [offered(0.8)],
            "有合适空闲床位的最近机构距离 800 米；更近的 1 家机构只有供异性入住的空闲床位。",
        ),
        (
            [excluded(1.0, "outside_service_radius"), excluded(3.0, "sex_rule")],
            [],
            "范围内没有合适的空闲床位；有空闲床位的 2 家机构服务范围不包括住址所在地"
            "（2 家中有 1 家）；只有供异性入住的空闲床位（2 家中有 1 家）。",
        ),
        (
            [
                excluded(
                    1.0, "needs_capability_missing:oxygen", "needs_capability_missing:low_bed"
                ),
                excluded(2.0, "needs_capability_missing:oxygen"),
            ],
            [offered(3.5)],
            "有合适空闲床位的最近机构距离 3.5 公里；更近的 2 家机构不提供吸氧和低位床（2 家中有 1 家）。",
        ),
    ],
)
def test_summary_in_chinese(
    hidden: list[ExcludedFacility], shown: list[FacilityBeds], sentence: str
) -> None:
    said = summarise(hidden, shown)
    assert said is not None and said.in_("zh-CN") == sentence
