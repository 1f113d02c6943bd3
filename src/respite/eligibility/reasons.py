"""Reason codes and their English and Chinese messages, in one table.

Codes are stable API; messages may be reworded. A code ``prefix:detail`` (such as
``needs_capability_missing:oxygen``) uses the message of its exact code if there is one,
else that of its prefix.
"""

from collections.abc import Mapping
from typing import Final

from respite.eligibility.model import CAPABILITIES, Figure, Reason

_MESSAGES: Final[dict[str, tuple[str, str]]] = {
    "check_in_in_past": (
        "Check-in {check_in} is before today ({today}).",
        "入住日期 {check_in} 早于今天（{today}）。",
    ),
    "programme_mismatch": (
        "The policy is for {policy_programme} beds but this is a {bed_kind} bed.",
        "该政策适用于{policy_programme}床位，而此床位为{bed_kind}床位。",
    ),
    "no_assessment": (
        "There is no assessment on record.",
        "没有能力评估记录。",
    ),
    "assessment_after_check_in": (
        "The assessment of {assessed_on} is later than check-in {check_in}.",
        "评估日期 {assessed_on} 晚于入住日期 {check_in}。",
    ),
    "assessment_expired_before_check_in": (
        "The assessment was valid until {valid_until}, before check-in {check_in}.",
        "评估有效期至 {valid_until}，早于入住日期 {check_in}。",
    ),
    "assessment_expires_during_stay": (
        "The assessment is valid until {valid_until}: {nights_covered} of {nights} nights.",
        "评估有效期至 {valid_until}，只覆盖 {nights} 晚中的 {nights_covered} 晚。",
    ),
    "level_eligible": (
        "Level {level} is eligible (eligible levels: {eligible_levels}).",
        "能力等级 {level} 符合条件（符合条件的等级：{eligible_levels}）。",
    ),
    "level_not_eligible": (
        "Level {level} is not eligible (eligible levels: {eligible_levels}).",
        "能力等级 {level} 不符合条件（符合条件的等级：{eligible_levels}）。",
    ),
    "eligible_via_alternative_route": (
        "Level {level} is not eligible, but aged {age} (at least {min_age}) and living alone "
        "qualifies.",
        "能力等级 {level} 不符合条件，但 {age} 岁（不低于 {min_age} 岁）独居老人符合条件。",
    ),
    "age_below_minimum": (
        "Aged {age} at check-in {check_in}; the minimum age is {min_age}.",
        "入住日期 {check_in} 时年龄为 {age} 岁，低于最低年龄 {min_age} 岁。",
    ),
    "stay_exceeds_consecutive_limit": (
        "This makes {nights} consecutive nights ({run_start} to {run_end}); the limit is {limit}.",
        "连续入住 {nights} 晚（{run_start} 至 {run_end}），超过上限 {limit} 晚。",
    ),
    "within_quota": (
        "{requested} nights requested, {nights_left} of {limit} left for {period_start} to "
        "{period_last_day}.",
        "申请 {requested} 晚，{period_start} 至 {period_last_day} 期间 {limit} 晚中还剩 "
        "{nights_left} 晚。",
    ),
    "quota_exhausted": (
        "{requested} nights requested but only {nights_left} of {limit} left for {period_start} "
        "to {period_last_day} ({used} used).",
        "申请 {requested} 晚，但 {period_start} 至 {period_last_day} 期间 {limit} 晚中已用 {used} "
        "晚，仅剩 {nights_left} 晚。",
    ),
    "quota_extended_by_approval": (
        "An approved extension adds {extra_nights} nights to the limit of {base_limit}.",
        "经批准延长，在 {base_limit} 晚的上限之外增加 {extra_nights} 晚。",
    ),
    "home_location_missing": (
        "The home location is missing, so the service radius cannot be checked.",
        "缺少住址位置，无法核对服务半径。",
    ),
    "within_service_radius": (
        "Home is {distance_m} m from the facility, within its {radius_m} m service radius.",
        "住址距机构 {distance_m} 米，在 {radius_m} 米服务半径内。",
    ),
    "outside_service_radius": (
        "Home is {distance_m} m from the facility, outside its {radius_m} m service radius.",
        "住址距机构 {distance_m} 米，超出 {radius_m} 米服务半径。",
    ),
    "sex_rule": (
        "The bed is for {bed_sex_rule} residents only; the person is {sex}.",
        "该床位仅限{bed_sex_rule}，申请人为{sex}。",
    ),
    "needs_capability_missing": (
        "The bed lacks {capability}, required for: {needs}.",
        "该床位缺少{capability}条件，照护需求（{needs}）需要该条件。",
    ),
    "needs_capability_missing:pressure_care": (
        "A stage {required_stage} pressure injury needs care the bed offers only up to stage "
        "{bed_stage}.",
        "需护理 {required_stage} 期压力性损伤，而该床位仅能护理至 {bed_stage} 期。",
    ),
}

# Codes shown inside Chinese messages are translated; figures themselves keep the codes.
_ZH_TERMS: Final[dict[str, str]] = {
    "female": "女性",
    "male": "男性",
    "respite": "短期托养",
    "home": "家庭养老",
    "dementia_secure": "认知症安全单元",
    "oxygen": "供氧",
    "tube_feeding": "管饲",
    "catheter_care": "导尿管护理",
    "tracheostomy_suction": "气管切开吸痰",
    "wheelchair": "无障碍轮椅通行",
    "bariatric": "肥胖专用",
    "isolation": "隔离房间",
    "low_bed": "低位床",
    "dementia": "认知症",
    "wandering": "游走",
    "urinary_catheter": "留置导尿管",
    "tracheostomy": "气管切开",
    "infectious_isolation": "感染隔离",
    "fall_risk": "跌倒风险",
}

CAPABILITY_MISSING: Final = "needs_capability_missing"
"""The prefix of the codes ``needs_capability_missing:<capability>``; a policy's override rules
may name it to mean every capability."""
# Every code a decision can carry, one per missing capability included.
CODES: Final = tuple(code for code in _MESSAGES if code != CAPABILITY_MISSING) + tuple(
    f"{CAPABILITY_MISSING}:{capability}" for capability in CAPABILITIES
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


def reason(code: str, figures: Mapping[str, Figure] | None = None, *, ok: bool = False) -> Reason:
    shown = dict(figures or {})
    template_en, template_zh = _MESSAGES.get(code) or _MESSAGES[code.partition(":")[0]]
    return Reason(
        code=code,
        ok=ok,
        message_en=template_en.format(**shown),
        message_zh=template_zh.format(**{name: _zh(value) for name, value in shown.items()}),
        figures=shown,
    )


def _zh(value: Figure) -> Figure:
    if not isinstance(value, str):
        return value
    return "、".join(_ZH_TERMS.get(part, part) for part in value.split(", "))
