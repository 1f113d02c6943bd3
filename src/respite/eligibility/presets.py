"""The policy presets of DESIGN.md §5: public rules written down as data to review, not law.

Each preset's ``level_scale`` states how that jurisdiction's grades map onto levels 0–4 and its
``notes`` state the choices made where the sources differ. A mapping may merge two grades into
one level only when both sides of the merge are eligible or both are not.
"""

from typing import Final

from respite.eligibility.model import Capability, Need
from respite.eligibility.policy import (
    CalendarYear,
    FinancialYear,
    HalfCertification,
    HomeRules,
    Policy,
)

# DESIGN.md §5: the bed capability each care need requires (pressure injuries compare stages).
DEFAULT_NEEDS_CAPABILITIES: Final[dict[Need, tuple[Capability, ...]]] = {
    "dementia": ("dementia_secure",),
    "wandering": ("dementia_secure",),
    "oxygen": ("oxygen",),
    "tube_feeding": ("tube_feeding",),
    "urinary_catheter": ("catheter_care",),
    "tracheostomy": ("tracheostomy_suction",),
    "wheelchair": ("wheelchair",),
    "bariatric": ("bariatric",),
    "infectious_isolation": ("isolation",),
    "fall_risk": ("low_bed",),
}

GB_T_42195_LEVELS: Final[dict[str, int]] = {
    "能力完好 intact (90)": 0,
    "轻度受损 mildly impaired (66-89)": 1,
    "中度受损 moderately impaired (46-65)": 2,
    "重度受损 severely impaired (30-45)": 3,
    "完全丧失 completely lost (0-29)": 4,
}

CN_RESPITE: Final = Policy(
    code="cn-respite",
    name="CN community respite stay (短期托养)",
    jurisdiction="CN",
    programme="respite",
    eligible_levels=[1, 2, 3, 4],
    min_age=60,
    assessment_valid_days=365,
    max_consecutive_nights=30,
    quota=CalendarYear(nights=60),
    needs_capabilities=DEFAULT_NEEDS_CAPABILITIES,
    level_scale=GB_T_42195_LEVELS,
    notes="Default policy. GB/T 42195-2022 levels are used as they are; yearly reassessment.",
)

CN_HOME_BED: Final = Policy(
    code="cn-home-bed",
    name="CN home-care bed (家庭养老床位)",
    jurisdiction="CN",
    programme="home",
    eligible_levels=[2, 3, 4],
    min_age=60,
    assessment_valid_days=365,
    max_consecutive_nights=None,
    quota=None,
    needs_capabilities=DEFAULT_NEEDS_CAPABILITIES,
    home=HomeRules(require_within_radius=True, alternative_min_age_living_alone=80),
    level_scale=GB_T_42195_LEVELS,
    notes=(
        "Stays run for contract months, so no consecutive limit and no quota. Age 80 or more "
        "and living alone qualifies below level 2, but a valid assessment is still required: "
        "the care plan and the bed's capabilities are chosen from it."
    ),
)

JP_SHORT_STAY: Final = Policy(
    code="jp-short-stay",
    name="JP short-stay care (短期入所生活介護)",
    jurisdiction="JP",
    programme="respite",
    eligible_levels=[1, 2, 3, 4],
    min_age=40,
    assessment_valid_days=1461,
    max_consecutive_nights=30,
    quota=HalfCertification(),
    needs_capabilities=DEFAULT_NEEDS_CAPABILITIES,
    level_scale={
        "非該当 not certified": 0,
        "要支援1": 1,
        "要支援2": 1,
        "要介護1": 2,
        "要介護2": 2,
        "要介護3": 3,
        "要介護4": 4,
        "要介護5": 4,
    },
    notes=(
        "要支援1 to 要介護5 are all eligible (要支援 use the preventive variant of the "
        "service), so merging pairs of grades into one level loses nothing. Long-term care "
        "insurance covers people from 40 (specified diseases) and 65. A certification is "
        "valid for at most 48 months; its own valid_until governs. JP counts days of use "
        "including arrival and departure days; 30 nights follows DESIGN §5 and is to review."
    ),
)

DE_KURZZEITPFLEGE: Final = Policy(
    code="de-kurzzeitpflege",
    name="DE Kurzzeitpflege (§ 42 SGB XI)",
    jurisdiction="DE",
    programme="respite",
    eligible_levels=[2, 3, 4],
    min_age=None,
    assessment_valid_days=3650,
    max_consecutive_nights=None,
    quota=CalendarYear(nights=56),
    needs_capabilities=DEFAULT_NEEDS_CAPABILITIES,
    level_scale={
        "kein Pflegegrad": 0,
        "Pflegegrad 1": 1,
        "Pflegegrad 2": 2,
        "Pflegegrad 3": 3,
        "Pflegegrad 4": 4,
        "Pflegegrad 5": 4,
    },
    notes=(
        "Pflegegrad 2-5 are eligible, so Pflegegrad 1 keeps its own level and 4 and 5 share "
        "level 4. 8 weeks = 56 nights per calendar year. A Pflegegrad is normally not "
        "time-limited: 3650 days stands for 'until reassessed'. No age limit."
    ),
)

AU_RESIDENTIAL_RESPITE: Final = Policy(
    code="au-residential-respite",
    name="AU residential respite care",
    jurisdiction="AU",
    programme="respite",
    eligible_levels=[1, 2, 3, 4],
    min_age=None,
    assessment_valid_days=365,
    max_consecutive_nights=None,
    quota=FinancialYear(nights=63, start_month=7),
    needs_capabilities=DEFAULT_NEEDS_CAPABILITIES,
    extra_nights_with_approval=21,
    level_scale={
        "not approved for residential respite": 0,
        "approved for residential respite": 1,
    },
    notes=(
        "Eligibility is an assessor's approval, yes or no: an approved person is recorded at "
        "level 1 or above, so any higher level from a fuller assessment also qualifies. 63 "
        "nights per financial year from 1 July, 21 more when the assessor approves an "
        "extension. Age is left to the approval (65+, 50+ for First Nations people). The "
        "365-day validity of an approval is an assumption to review."
    ),
)

PRESETS: Final[dict[str, Policy]] = {
    policy.code: policy
    for policy in (
        CN_RESPITE,
        CN_HOME_BED,
        JP_SHORT_STAY,
        DE_KURZZEITPFLEGE,
        AU_RESIDENTIAL_RESPITE,
    )
}
