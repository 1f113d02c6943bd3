"""Eligibility: assessments, policies and the pure decision; the use cases that apply them.

The pure vocabulary is imported here; the use cases (``service``, ``policies``) only on first
use, so that importing the vocabulary, or ``respite.problems`` importing this package's
errors, never pulls in the database layer.
"""

import importlib
from typing import TYPE_CHECKING

from respite.eligibility.assessment import (
    Adjustment,
    AdjustmentCode,
    AdjustmentOutcome,
    AssessmentScores,
    LevelResult,
    assess,
    level_for_total,
)
from respite.eligibility.decision import decide, programme_decision
from respite.eligibility.model import (
    CAPABILITIES,
    NEEDS,
    Age,
    BedProfile,
    Capability,
    CareRecipient,
    CurrentAssessment,
    Decision,
    Latitude,
    Level,
    LivingSituation,
    Longitude,
    MentalScore,
    MobilityScore,
    Need,
    NightCount,
    PerceptionSocialScore,
    PeriodUse,
    PressureStage,
    Programme,
    RadiusMetres,
    Reason,
    SelfCareScore,
    Sex,
    SexRule,
    Stay,
    TotalScore,
    age_on,
)
from respite.eligibility.policy import (
    CalendarYear,
    FinancialYear,
    HalfCertification,
    HomeRules,
    InvalidPolicyError,
    MalformedPolicyError,
    Month,
    Policy,
    PolicyPublication,
    Quota,
    Rolling365,
    decode_policy,
    decode_publication,
)
from respite.eligibility.presets import DEFAULT_NEEDS_CAPABILITIES, PRESETS
from respite.eligibility.quota import nights_used_by_period
from respite.eligibility.reasons import CODES as REASON_CODES

if TYPE_CHECKING:
    from respite.eligibility.policies import get_policy, list_policies, publish_policy
    from respite.eligibility.service import check_bed, check_eligibility

_USE_CASES = {
    "check_bed": "respite.eligibility.service",
    "check_eligibility": "respite.eligibility.service",
    "get_policy": "respite.eligibility.policies",
    "list_policies": "respite.eligibility.policies",
    "publish_policy": "respite.eligibility.policies",
}

__all__ = [
    "CAPABILITIES",
    "DEFAULT_NEEDS_CAPABILITIES",
    "NEEDS",
    "PRESETS",
    "REASON_CODES",
    "Adjustment",
    "AdjustmentCode",
    "AdjustmentOutcome",
    "Age",
    "AssessmentScores",
    "BedProfile",
    "CalendarYear",
    "Capability",
    "CareRecipient",
    "CurrentAssessment",
    "Decision",
    "FinancialYear",
    "HalfCertification",
    "HomeRules",
    "InvalidPolicyError",
    "Latitude",
    "Level",
    "LevelResult",
    "LivingSituation",
    "Longitude",
    "MalformedPolicyError",
    "MentalScore",
    "MobilityScore",
    "Month",
    "Need",
    "NightCount",
    "PerceptionSocialScore",
    "PeriodUse",
    "Policy",
    "PolicyPublication",
    "PressureStage",
    "Programme",
    "Quota",
    "RadiusMetres",
    "Reason",
    "Rolling365",
    "SelfCareScore",
    "Sex",
    "SexRule",
    "Stay",
    "TotalScore",
    "age_on",
    "assess",
    "check_bed",
    "check_eligibility",
    "decide",
    "decode_policy",
    "decode_publication",
    "get_policy",
    "level_for_total",
    "list_policies",
    "nights_used_by_period",
    "programme_decision",
    "publish_policy",
]


def __getattr__(name: str) -> object:
    module = _USE_CASES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
