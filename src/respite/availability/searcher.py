"""Who is searching, as the eligibility engine sees them, and what that asks of beds (pure).

A care recipient comes with their own sex, needs, home and assessment, and the programme's
person-level rules (level, age, quota, assessment validity) are judged once per policy, not
per bed. An anonymous search makes up a person from the query's sex, needs and pressure
stage: only bed-level rules ever apply to it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import msgspec

from respite.availability import plan
from respite.availability.model import AvailabilityQuery, Point, PolicyRef, PolicyRefusal
from respite.availability.offers import shifted
from respite.eligibility.decision import programme_decision
from respite.eligibility.model import CareRecipient, CurrentAssessment, Stay
from respite.eligibility.store import StoredPolicy
from respite.errors import InvalidInputError
from respite.i18n import t

__all__ = [
    "Searcher",
    "anonymous",
    "filters",
    "home_of",
    "judge_programmes",
    "policy_ref",
    "qualifying_shifts",
    "resolve_where",
]

# A made-up birth date for anonymous searches: only bed-level rules are judged for them.
_ANONYMOUS_BIRTH = date(1900, 1, 1)


class Searcher(msgspec.Struct, frozen=True, kw_only=True):
    """The person as the engine sees them. For an anonymous search ``sex_known`` is False when
    no sex was given, and sex rules then exclude nobody."""

    person: CareRecipient
    assessment: CurrentAssessment | None
    used: list[Stay]
    sex_known: bool
    recipient: bool


def anonymous(query: AvailabilityQuery) -> Searcher:
    home = query.home
    person = CareRecipient(
        sex=query.sex or "female",
        birth_date=_ANONYMOUS_BIRTH,
        living_situation="with_family",
        needs=query.needs,
        pressure_injury_stage=query.pressure_stage,
        home_lat=home.lat if home else None,
        home_lon=home.lon if home else None,
    )
    return Searcher(
        person=person, assessment=None, used=[], sex_known=query.sex is not None, recipient=False
    )


def home_of(person: CareRecipient) -> Point | None:
    if person.home_lat is None or person.home_lon is None:
        return None
    return Point(person.home_lat, person.home_lon)


def resolve_where(query: AvailabilityQuery, searcher: Searcher) -> AvailabilityQuery:
    """Without near or facility ids, a care recipient's search looks around their home."""
    if query.near is not None or query.facility_ids:
        return query
    home = home_of(searcher.person)
    if home is None:
        raise InvalidInputError.one("near", t("availability.no_home"))
    return msgspec.structs.replace(query, near=home)


def policy_ref(stored: StoredPolicy) -> PolicyRef:
    return PolicyRef(code=stored.policy.code, version=stored.version)


def judge_programmes(
    policies: dict[str, StoredPolicy], searcher: Searcher, stay: Stay, today: date
) -> tuple[dict[str, StoredPolicy], list[PolicyRefusal]]:
    """The policies the person qualifies under for this stay, and the refusals of the others."""
    if not searcher.recipient:
        return policies, []
    eligible, refused = {}, []
    for code, stored in policies.items():
        decision = programme_decision(
            stored.policy, searcher.person, searcher.assessment, stay, searcher.used, today
        )
        if decision.eligible:
            eligible[code] = stored
        else:
            reasons = [r for r in decision.reasons if not r.ok]
            refused.append(PolicyRefusal(policy=policy_ref(stored), reasons=reasons))
    return eligible, refused


def filters(
    query: AvailabilityQuery, searcher: Searcher, policies: dict[str, StoredPolicy]
) -> plan.Filters:
    """What beds and facilities must offer this person under these policies."""
    person = searcher.person
    return plan.filters_for(
        {code: stored.policy for code, stored in policies.items()},
        sex=person.sex if searcher.sex_known else None,
        needs=person.needs,
        min_stage=person.pressure_injury_stage,
        home=home_of(person) if query.kind == "home" else None,
        origin=query.near or home_of(person),
    )


def qualifying_shifts(
    policies: dict[str, StoredPolicy],
    searcher: Searcher,
    stay: Stay,
    shifts: Iterable[int],
    today: date,
) -> dict[str, set[int]]:
    """Per policy, the shifts of the stay the person still qualifies for (quota, assessment)."""
    qualifying: dict[str, set[int]] = {}
    for code, stored in policies.items():
        qualifying[code] = {
            shift
            for shift in shifts
            if not searcher.recipient
            or programme_decision(
                stored.policy,
                searcher.person,
                searcher.assessment,
                shifted(stay, shift),
                searcher.used,
                today,
            ).eligible
        }
    return qualifying
