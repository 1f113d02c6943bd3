"""Eligibility: assessments, policies and the pure decision; the use cases that apply them.

The pure vocabulary is imported here; the use cases (``service``, ``policies``) only on first
use, so that importing the vocabulary, or ``respite.problems`` importing this package's
errors, never pulls in the database layer.
"""

from typing import TYPE_CHECKING

from respite.eligibility.assessment import Adjustment as Adjustment
from respite.eligibility.assessment import AdjustmentCode as AdjustmentCode
from respite.eligibility.assessment import AdjustmentOutcome as AdjustmentOutcome
from respite.eligibility.assessment import AssessmentScores as AssessmentScores
from respite.eligibility.assessment import LevelResult as LevelResult
from respite.eligibility.assessment import assess as assess
from respite.eligibility.assessment import level_for_total as level_for_total
from respite.eligibility.decision import decide as decide
from respite.eligibility.decision import programme_decision as programme_decision
from respite.eligibility.model import CAPABILITIES as CAPABILITIES
from respite.eligibility.model import NEEDS as NEEDS
from respite.eligibility.model import Age as Age
from respite.eligibility.model import BedProfile as BedProfile
from respite.eligibility.model import Capability as Capability
from respite.eligibility.model import CareRecipient as CareRecipient
from respite.eligibility.model import CurrentAssessment as CurrentAssessment
from respite.eligibility.model import Decision as Decision
from respite.eligibility.model import Latitude as Latitude
from respite.eligibility.model import Level as Level
from respite.eligibility.model import LivingSituation as LivingSituation
from respite.eligibility.model import Longitude as Longitude
from respite.eligibility.model import MentalScore as MentalScore
from respite.eligibility.model import MobilityScore as MobilityScore
from respite.eligibility.model import Need as Need
from respite.eligibility.model import NightCount as NightCount
from respite.eligibility.model import PerceptionSocialScore as PerceptionSocialScore
from respite.eligibility.model import PeriodUse as PeriodUse
from respite.eligibility.model import PressureStage as PressureStage
from respite.eligibility.model import Programme as Programme
from respite.eligibility.model import RadiusMetres as RadiusMetres
from respite.eligibility.model import Reason as Reason
from respite.eligibility.model import SelfCareScore as SelfCareScore
from respite.eligibility.model import Sex as Sex
from respite.eligibility.model import SexRule as SexRule
from respite.eligibility.model import Stay as Stay
from respite.eligibility.model import TotalScore as TotalScore
from respite.eligibility.model import age_on as age_on
from respite.eligibility.policy import CalendarYear as CalendarYear
from respite.eligibility.policy import FinancialYear as FinancialYear
from respite.eligibility.policy import HalfCertification as HalfCertification
from respite.eligibility.policy import HomeRules as HomeRules
from respite.eligibility.policy import InvalidPolicyError as InvalidPolicyError
from respite.eligibility.policy import MalformedPolicyError as MalformedPolicyError
from respite.eligibility.policy import Month as Month
from respite.eligibility.policy import Policy as Policy
from respite.eligibility.policy import PolicyPublication as PolicyPublication
from respite.eligibility.policy import Quota as Quota
from respite.eligibility.policy import Rolling365 as Rolling365
from respite.eligibility.policy import decode_policy as decode_policy
from respite.eligibility.policy import decode_publication as decode_publication
from respite.eligibility.presets import DEFAULT_NEEDS_CAPABILITIES as DEFAULT_NEEDS_CAPABILITIES
from respite.eligibility.presets import PRESETS as PRESETS
from respite.eligibility.quota import nights_used_by_period as nights_used_by_period
from respite.eligibility.reasons import CODES
from respite.exports import on_first_use

REASON_CODES = CODES

if TYPE_CHECKING:
    from respite.eligibility.policies import get_policy, list_policies, publish_policy
    from respite.eligibility.service import check_bed, check_eligibility

# The use cases; the vocabulary above is re-exported for the other domains' convenience.
__all__ = ["check_bed", "check_eligibility", "get_policy", "list_policies", "publish_policy"]
__getattr__ = on_first_use(
    __name__,
    {
        "respite.eligibility.policies": ("get_policy", "list_policies", "publish_policy"),
        "respite.eligibility.service": ("check_bed", "check_eligibility"),
    },
)
