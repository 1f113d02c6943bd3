"""Elder ability assessment scoring after GB/T 42195-2022: domain scores to a care level 0–4."""

from typing import Annotated, Final, Literal

from msgspec import Meta, Struct

from respite.eligibility.model import (
    Level,
    MentalScore,
    MobilityScore,
    PerceptionSocialScore,
    RiskEvents,
    SelfCareScore,
    TotalScore,
)
from respite.i18n import InvalidField, t

AdjustmentCode = Literal["coma", "dementia_or_mental_disorder", "risk_events"]
# applied: the level changed; capped: the level was already 4; not_stacked: a raise was
# already applied and the policy allows only one.
AdjustmentOutcome = Literal["applied", "capped", "not_stacked"]

MAX_LEVEL: Final = 4
RISK_EVENTS_FOR_RAISE: Final = 2
_DOMAINS: Final = ("self_care", "mobility", "mental", "perception_social")
# Lowest total of levels 0..3; anything below the last is level 4.
_LEVEL_FLOORS: Final = ((90, 0), (66, 1), (46, 2), (30, 3))


class AssessmentScores(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Either the four domain scores or only ``total``; both is allowed if they agree."""

    self_care: SelfCareScore | None = None
    mobility: MobilityScore | None = None
    mental: MentalScore | None = None
    perception_social: PerceptionSocialScore | None = None
    total: (
        Annotated[TotalScore, Meta(description="Total score 0-90; or give the four domain scores.")]
        | None
    ) = None
    coma: Annotated[bool, Meta(description="In a coma: level 4 directly.")] = False
    dementia_or_mental_disorder: Annotated[
        bool, Meta(description="A diagnosed dementia or other mental disorder: one level up.")
    ] = False
    risk_events_30d: Annotated[
        RiskEvents, Meta(description="Care-risk events in 30 days; two or more: one level up.")
    ] = 0

    def __post_init__(self) -> None:
        missing = [name for name in _DOMAINS if getattr(self, name) is None]
        if missing and len(missing) < len(_DOMAINS):
            raise InvalidField(
                missing[0], t("eligibility.domain_scores_all_or_none", missing=", ".join(missing))
            )
        domain_sum = self._domain_sum()
        if domain_sum is None and self.total is None:
            raise InvalidField("total", t("eligibility.scores_or_total"))
        if domain_sum is not None and self.total is not None and domain_sum != self.total:
            raise InvalidField(
                "total", t("eligibility.total_not_sum", total=self.total, sum=domain_sum)
            )

    def _domain_sum(self) -> int | None:
        scores = (self.self_care, self.mobility, self.mental, self.perception_social)
        if any(score is None for score in scores):
            return None
        return sum(score for score in scores if score is not None)

    @property
    def score_total(self) -> int:
        domain_sum = self._domain_sum()
        if domain_sum is not None:
            return domain_sum
        # __post_init__ guarantees total is present when a domain is missing.
        assert self.total is not None
        return self.total


class Adjustment(Struct, frozen=True, kw_only=True):
    """One adjustment of the level after the total score, and what it did."""

    code: Annotated[AdjustmentCode, Meta(description="Which adjustment.")]
    outcome: Annotated[
        AdjustmentOutcome,
        Meta(
            description="applied: the level changed; capped: it was already 4; not_stacked: "
            "the policy allows one raise and one was applied."
        ),
    ]
    level_before: Annotated[Level, Meta(description="The level before this adjustment.")]
    level_after: Annotated[Level, Meta(description="The level after it.")]


class LevelResult(Struct, frozen=True, kw_only=True):
    total: int
    base_level: Level
    level: Level
    adjustments: list[Adjustment]


def level_for_total(total: int) -> Level:
    for floor, level in _LEVEL_FLOORS:
        if total >= floor:
            return level
    return MAX_LEVEL


def assess(scores: AssessmentScores, *, stack_raises: bool) -> LevelResult:
    """Base level from the total, then coma, dementia and risk-event adjustments in that order.

    Every flag that is set yields one Adjustment, so the result explains why a flag did not
    change the level as well as when it did.
    """
    base = level_for_total(scores.score_total)
    level = base
    adjustments: list[Adjustment] = []
    if scores.coma:
        adjustments.append(_adjustment("coma", level, MAX_LEVEL))
        level = MAX_LEVEL
    raises: tuple[tuple[AdjustmentCode, bool], ...] = (
        ("dementia_or_mental_disorder", scores.dementia_or_mental_disorder),
        ("risk_events", scores.risk_events_30d >= RISK_EVENTS_FOR_RAISE),
    )
    raised = False
    for code, present in raises:
        if not present:
            continue
        if raised and not stack_raises:
            adjustments.append(
                Adjustment(code=code, outcome="not_stacked", level_before=level, level_after=level)
            )
            continue
        adjustments.append(_adjustment(code, level, min(level + 1, MAX_LEVEL)))
        raised = raised or level < MAX_LEVEL
        level = min(level + 1, MAX_LEVEL)
    return LevelResult(
        total=scores.score_total, base_level=base, level=level, adjustments=adjustments
    )


def _adjustment(code: AdjustmentCode, before: Level, after: Level) -> Adjustment:
    outcome: AdjustmentOutcome = "applied" if after != before else "capped"
    return Adjustment(code=code, outcome=outcome, level_before=before, level_after=after)
