"""Why a facility in range offers nothing to this person, in the eligibility engine's words.

Pure. The search filters beds in SQL by what the engine would refuse (sex rule, capabilities,
pressure care, home radius); for the few facilities it excludes that way, the engine itself
is asked once per distinct bed profile, so that the reasons carry the engine's codes and
messages (``needs_capability_missing:oxygen``) and can never drift from a real decision.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Final

import msgspec

from respite.availability.model import ExcludedFacility, FacilityBeds
from respite.availability.searcher import Searcher
from respite.eligibility.decision import decide
from respite.eligibility.model import (
    BedProfile,
    Capability,
    Programme,
    Reason,
    SexRule,
    Stay,
)
from respite.eligibility.policy import Policy
from respite.i18n import Text, t

__all__ = ["BED_CODES", "BedType", "FacilitySite", "bed_refusals", "summarise"]

# Reasons that depend on the bed rather than on the person: only these can exclude one facility
# and not another. Person-level refusals are reported once for the whole search instead.
BED_CODES: Final = ("sex_rule", "needs_capability_missing", "outside_service_radius")


class BedType(msgspec.Struct, frozen=True, kw_only=True):
    sex_rule: SexRule
    capabilities: list[Capability]
    pressure_care_stage: int


class FacilitySite(msgspec.Struct, frozen=True, kw_only=True):
    lat: float
    lon: float
    service_radius_m: int


def _is_bed_level(reason: Reason, searcher: Searcher) -> bool:
    if reason.ok or not reason.code.startswith(BED_CODES):
        return False
    return reason.code != "sex_rule" or searcher.sex_known


def bed_refusals(
    policy: Policy,
    searcher: Searcher,
    kind: Programme,
    site: FacilitySite,
    bed_types: Sequence[BedType],
    stay: Stay,
    today: date,
) -> list[Reason]:
    """The bed-level refusals of the bed type that comes closest (fewest refusals)."""
    best: list[Reason] | None = None
    for bed_type in bed_types:
        profile = BedProfile(
            kind=kind,
            sex_rule=bed_type.sex_rule,
            capabilities=frozenset(bed_type.capabilities),
            pressure_care_stage=bed_type.pressure_care_stage,
            facility_lat=site.lat,
            facility_lon=site.lon,
            service_radius_m=float(site.service_radius_m),
        )
        # The nights used only matter to person-level rules, which are dropped here.
        decision = decide(policy, searcher.person, searcher.assessment, profile, stay, (), today)
        refusals = [r for r in decision.reasons if _is_bed_level(r, searcher)]
        if best is None or len(refusals) < len(best):
            best = refusals
    return best or []


# code: the message said of one facility, and of several
_PHRASES: Final = {
    "sex_rule": ("availability.summary.sex_rule_one", "availability.summary.sex_rule_many"),
    "outside_service_radius": (
        "availability.summary.outside_radius_one",
        "availability.summary.outside_radius_many",
    ),
}
_CAPABILITY_PREFIX: Final = "needs_capability_missing:"


def _capability(code: str) -> Text:
    return t(f"availability.capability.{code.removeprefix(_CAPABILITY_PREFIX)}")


def _what(counts: dict[str, int], n: int) -> Text | None:
    """What the ``n`` facilities have against them, e.g. "lack oxygen and wheelchair access
    (2 of 3); do not serve the home's location"."""
    ordered = sorted(counts, key=lambda code: (-counts[code], code))
    clauses, shared = [], [c for c in ordered if c.startswith(_CAPABILITY_PREFIX)]
    if shared:
        lack = "availability.summary.lacks" if n == 1 else "availability.summary.lack"
        clauses.append(t(lack, capabilities=[_part(_capability(c), counts[c], n) for c in shared]))
    for code in ordered:
        if code in _PHRASES:
            clauses.append(_part(t(_PHRASES[code][0 if n == 1 else 1]), counts[code], n))
    if not clauses:
        return None
    what = clauses[-1]
    for clause in reversed(clauses[:-1]):
        what = t("availability.summary.then", first=clause, rest=what)
    return what


def _part(text: Text, count: int, n: int) -> Text:
    return text if count == n else t("availability.summary.some", what=text, count=count, n=n)


def summarise(excluded: Sequence[ExcludedFacility], offered: Sequence[FacilityBeds]) -> Text | None:
    """One sentence a family can act on, when eligibility hid facilities nearer than what is
    offered: "The nearest facility with a matching free bed is 4.2 km away; the 2 closer ones
    lack oxygen." Facilities without a distance are not compared."""
    nearest = next((f.distance_km for f in offered if f.distance_km is not None), None)
    closer = [
        e
        for e in excluded
        if e.distance_km is not None and (nearest is None or e.distance_km < nearest)
    ]
    if not closer:
        return None
    counts: dict[str, int] = {}
    for facility in closer:
        for code in dict.fromkeys(r.code for r in facility.reasons):
            counts[code] = counts.get(code, 0) + 1
    n = len(closer)
    what = _what(counts, n)
    if what is None:
        return None
    if nearest is None:
        if n == 1:
            return t("availability.summary.none_one", what=what)
        return t("availability.summary.none_many", n=n, what=what)
    distance = nearest * 1000  # metres
    if n == 1:
        return t("availability.summary.nearest_one", distance=distance, what=what)
    return t("availability.summary.nearest_many", distance=distance, n=n, what=what)
