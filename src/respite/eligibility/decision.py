"""The eligibility decision: pure functions of a policy, a person, a bed, a stay and the date.

Every rule is checked and reported, so one answer lists all the grounds of refusal at once.
An assessment must be valid on every night of the stay: one that lapses mid-stay refuses the
stay, because care beyond the last valid night would rest on an expired assessment.
"""

from collections.abc import Sequence
from datetime import date, timedelta

import msgspec

from respite.eligibility.model import (
    CAPABILITIES,
    BedProfile,
    CareRecipient,
    CurrentAssessment,
    Decision,
    PeriodUse,
    Reason,
    Stay,
    age_on,
    merge_stays,
)
from respite.eligibility.policy import Policy
from respite.eligibility.quota import nights_used_by_period
from respite.eligibility.reasons import PRESSURE_CARE_MISSING, Given, reason
from respite.geo import haversine_m


def programme_decision(
    policy: Policy,
    person: CareRecipient,
    assessment: CurrentAssessment | None,
    stay: Stay,
    used: Sequence[Stay],
    today: date,
) -> Decision:
    """Whether the person qualifies for the policy's programme for this stay, bed aside."""
    age = age_on(person.birth_date, stay.check_in)
    periods = _periods(policy, assessment, stay, used)
    reasons = [
        *_timing(stay, today),
        *_assessment_validity(policy, assessment, stay),
        *_level(policy, person, assessment, age),
        *_age(policy, age, stay),
        *_consecutive(policy, stay, used),
        *_quota(periods, _extra_nights(policy, assessment)),
        *_home_location(policy, person),
    ]
    return Decision(
        eligible=all(r.ok for r in reasons),
        policy_code=policy.code,
        level=None if assessment is None else assessment.level,
        age_at_check_in=age,
        reasons=reasons,
        periods=periods,
    )


def decide(
    policy: Policy,
    person: CareRecipient,
    assessment: CurrentAssessment | None,
    bed: BedProfile,
    stay: Stay,
    used: Sequence[Stay],
    today: date,
) -> Decision:
    """The programme decision plus the rules of this bed: kind, sex, capabilities, radius."""
    programme = programme_decision(policy, person, assessment, stay, used, today)
    reasons = [
        *_programme_match(policy, bed),
        *programme.reasons,
        *_sex_rule(person, bed),
        *_capabilities(policy, person, bed),
        *_service_radius(policy, person, bed),
    ]
    return msgspec.structs.replace(programme, eligible=all(r.ok for r in reasons), reasons=reasons)


def _timing(stay: Stay, today: date) -> list[Reason]:
    if stay.check_in >= today:
        return []
    figures = {"check_in": stay.check_in, "today": today}
    return [reason("check_in_in_past", figures)]


def _assessment_validity(
    policy: Policy, assessment: CurrentAssessment | None, stay: Stay
) -> list[Reason]:
    if assessment is None:
        return [reason("no_assessment")]
    # The policy may accept assessments for less time than the assessor granted.
    policy_limit = assessment.assessed_on + timedelta(days=policy.assessment_valid_days - 1)
    valid_until = min(assessment.valid_until, policy_limit)
    figures: dict[str, Given] = {"check_in": stay.check_in}
    if assessment.assessed_on > stay.check_in:
        figures["assessed_on"] = assessment.assessed_on
        return [reason("assessment_after_check_in", figures)]
    figures["valid_until"] = valid_until
    if valid_until < stay.check_in:
        return [reason("assessment_expired_before_check_in", figures)]
    if valid_until < stay.last_night:
        figures["nights_covered"] = (valid_until - stay.check_in).days + 1
        figures["nights"] = stay.nights
        return [reason("assessment_expires_during_stay", figures)]
    return []


def _level(
    policy: Policy, person: CareRecipient, assessment: CurrentAssessment | None, age: int
) -> list[Reason]:
    # Without an assessment there is no level to judge; no_assessment already refuses.
    if assessment is None:
        return []
    figures: dict[str, Given] = {
        "level": assessment.level,
        "eligible_levels": list(policy.eligible_levels),
    }
    if assessment.level in policy.eligible_levels:
        return [reason("level_eligible", figures, ok=True)]
    route_age = policy.home.alternative_min_age_living_alone if policy.home else None
    if route_age is not None and age >= route_age and person.living_situation == "alone":
        figures |= {"age": age, "min_age": route_age}
        return [reason("eligible_via_alternative_route", figures, ok=True)]
    return [reason("level_not_eligible", figures)]


def _age(policy: Policy, age: int, stay: Stay) -> list[Reason]:
    if policy.min_age is None or age >= policy.min_age:
        return []
    figures: dict[str, Given] = {
        "age": age,
        "min_age": policy.min_age,
        "check_in": stay.check_in,
    }
    return [reason("age_below_minimum", figures)]


def _consecutive(policy: Policy, stay: Stay, used: Sequence[Stay]) -> list[Reason]:
    """Back-to-back and overlapping stays form one run, so splitting a stay cannot dodge this."""
    limit = policy.max_consecutive_nights
    if limit is None:
        return []
    run = next(r for r in merge_stays([*used, stay]) if r.check_in <= stay.check_in < r.check_out)
    if run.nights <= limit:
        return []
    figures: dict[str, Given] = {
        "nights": run.nights,
        "limit": limit,
        "run_start": run.check_in,
        "run_end": run.check_out,
    }
    return [reason("stay_exceeds_consecutive_limit", figures)]


def _extra_nights(policy: Policy, assessment: CurrentAssessment | None) -> int:
    if assessment is None or not assessment.extension_approved:
        return 0
    return policy.extra_nights_with_approval or 0


def _periods(
    policy: Policy, assessment: CurrentAssessment | None, stay: Stay, used: Sequence[Stay]
) -> list[PeriodUse]:
    if policy.quota is None:
        return []
    extra = _extra_nights(policy, assessment)
    return nights_used_by_period(
        policy.quota, used, stay, certification=assessment, extra_nights=extra
    )


def _quota(periods: list[PeriodUse], extra: int) -> list[Reason]:
    reasons = [_period_reason(period) for period in periods]
    # Mention an approval only where the base limit alone would have refused: it explains
    # the raised limit, whether or not the stay then fits.
    needed = [p for p in periods if extra and p.used + p.requested > p.limit - extra]
    if needed:
        figures = {"base_limit": needed[0].limit - extra, "extra_nights": extra}
        reasons.append(reason("quota_extended_by_approval", figures, ok=True))
    return reasons


def _period_reason(period: PeriodUse) -> Reason:
    figures: dict[str, Given] = {
        "period": period.period,
        "period_start": period.start,
        "period_last_day": period.end - timedelta(days=1),
        "limit": period.limit,
        "used": period.used,
        "requested": period.requested,
        "nights_left": period.left,
    }
    if period.exceeded:
        return reason("quota_exhausted", figures)
    return reason("within_quota", figures, ok=True)


def _home_location(policy: Policy, person: CareRecipient) -> list[Reason]:
    if policy.home is None or not policy.home.require_within_radius:
        return []
    if person.home_lat is not None:
        return []
    return [reason("home_location_missing")]


def _programme_match(policy: Policy, bed: BedProfile) -> list[Reason]:
    if policy.programme == bed.kind:
        return []
    figures = {"policy_programme": policy.programme, "bed_kind": bed.kind}
    return [reason("programme_mismatch", figures)]


def _sex_rule(person: CareRecipient, bed: BedProfile) -> list[Reason]:
    if bed.sex_rule in ("any", person.sex):
        return []
    return [reason("sex_rule", {"bed_sex_rule": bed.sex_rule, "sex": person.sex})]


def _capabilities(policy: Policy, person: CareRecipient, bed: BedProfile) -> list[Reason]:
    """One reason per missing capability, naming every need that requires it."""
    needs_by_capability: dict[str, list[str]] = {}
    for need in sorted(person.needs):
        for capability in policy.needs_capabilities.get(need, ()):
            needs_by_capability.setdefault(capability, []).append(need)
    reasons = [
        reason(
            f"needs_capability_missing:{capability}",
            {"capability": capability, "needs": needs_by_capability[capability]},
        )
        for capability in CAPABILITIES
        if capability in needs_by_capability and capability not in bed.capabilities
    ]
    if person.pressure_injury_stage > bed.pressure_care_stage:
        figures = {
            "required_stage": person.pressure_injury_stage,
            "bed_stage": bed.pressure_care_stage,
        }
        reasons.append(reason(PRESSURE_CARE_MISSING, figures))
    return reasons


def _service_radius(policy: Policy, person: CareRecipient, bed: BedProfile) -> list[Reason]:
    # A missing home location is reported by the programme decision; a respite bed under a
    # home policy by programme_mismatch.
    if policy.home is None or not policy.home.require_within_radius or bed.kind != "home":
        return []
    if person.home_lat is None or person.home_lon is None:
        return []
    # BedProfile refuses a home bed without a location and radius.
    assert bed.facility_lat is not None
    assert bed.facility_lon is not None
    assert bed.service_radius_m is not None
    distance = haversine_m(person.home_lat, person.home_lon, bed.facility_lat, bed.facility_lon)
    figures = {"distance_m": round(distance), "radius_m": round(bed.service_radius_m)}
    if distance <= bed.service_radius_m:
        return [reason("within_service_radius", figures, ok=True)]
    return [reason("outside_service_radius", figures)]
