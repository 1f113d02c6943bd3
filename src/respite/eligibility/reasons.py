"""Reason codes, and the catalog messages that explain them (``reason.<code>``).

Codes are stable API; messages may be reworded. A code ``prefix:detail`` (such as
``needs_capability_missing:oxygen``) uses the message of its exact code if there is one,
else that of its prefix. A reason's ``figures`` keep codes and ISO dates for programs; its
``message`` says the same figures in words: dates as dates, codes as the catalog's words.
"""

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Final

from respite.eligibility.model import CAPABILITIES, Figure, Reason
from respite.i18n import CATALOG, t

CAPABILITY_MISSING: Final = "needs_capability_missing"
"""The prefix of the codes ``needs_capability_missing:<capability>``; a policy's override rules
may name it to mean every capability."""
PRESSURE_CARE_MISSING: Final = f"{CAPABILITY_MISSING}:pressure_care"
# Every code a decision can carry, one per missing capability included.
CODES: Final = (
    "check_in_in_past",
    "programme_mismatch",
    "no_assessment",
    "assessment_after_check_in",
    "assessment_expired_before_check_in",
    "assessment_expires_during_stay",
    "level_eligible",
    "level_not_eligible",
    "eligible_via_alternative_route",
    "age_below_minimum",
    "stay_exceeds_consecutive_limit",
    "within_quota",
    "quota_exhausted",
    "quota_extended_by_approval",
    "home_location_missing",
    "within_service_radius",
    "outside_service_radius",
    "sex_rule",
    PRESSURE_CARE_MISSING,
    *(f"{CAPABILITY_MISSING}:{capability}" for capability in CAPABILITIES),
)
# Codes that only explain a rule that passed (``ok``): they never refuse.
_PASSING: Final = frozenset(
    {
        "level_eligible",
        "eligible_via_alternative_route",
        "within_quota",
        "quota_extended_by_approval",
        "within_service_radius",
    }
)
REFUSAL_CODES: Final = tuple(code for code in CODES if code not in _PASSING)
"""Every code that refuses: the only ones an override may name."""

Given = Figure | date | Sequence[str] | Sequence[int]
"""A figure as the decision knows it: a date, or a list of codes or levels, is one too."""
# Figures that hold codes, and the catalog group of the words for them.
_WORDS: Final = {
    "capability": "eligibility.capability",
    "needs": "eligibility.need",
    "sex": "eligibility.sex",
    "bed_sex_rule": "eligibility.sex",
    "policy_programme": "eligibility.programme",
    "bed_kind": "eligibility.programme",
}


def message_key(code: str) -> str:
    """The catalog key of the message of ``code`` (its own, else its prefix's)."""
    own = f"reason.{code}"
    return own if own in CATALOG else f"reason.{code.partition(':')[0]}"


def reason(code: str, figures: Mapping[str, Given] | None = None, *, ok: bool = False) -> Reason:
    given = dict(figures or {})
    key = message_key(code)
    # Figures may say more than the message does (a quota's period, the nights used).
    words = {name: _words(name, given[name]) for name in CATALOG[key].figures}
    return Reason(
        code=code,
        ok=ok,
        message=t(key, **words),
        figures={name: _figure(value) for name, value in given.items()},
    )


def _figure(value: Given) -> Figure:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (str, int, float)):
        return value
    return ", ".join(str(item) for item in value)


def _words(name: str, value: Given) -> object:
    group = _WORDS.get(name)
    if group is None:
        return list(value) if isinstance(value, Sequence) and not isinstance(value, str) else value
    if isinstance(value, str):
        return t(f"{group}.{value}")
    assert not isinstance(value, (date, int, float)), name
    return [t(f"{group}.{item}") for item in value]
