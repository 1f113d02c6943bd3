"""Care recipients and their assessments: request and answer Structs, and the pure rules.

Only the standard library, msgspec and the pure cores of eligibility and auth are imported.
Personal identifiers (national ID, emergency contact phone) arrive in full and leave only as
their last four characters.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Final, Literal

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

from respite.auth.model import Phone
from respite.eligibility.assessment import Adjustment, AssessmentScores
from respite.eligibility.model import (
    NEEDS,
    Latitude,
    Level,
    LivingSituation,
    Longitude,
    MentalScore,
    MobilityScore,
    Need,
    PerceptionSocialScore,
    PressureStage,
    RiskEvents,
    SelfCareScore,
    Sex,
    TotalScore,
    coordinates_together,
)
from respite.eligibility.policy import PolicyCode
from respite.i18n import InvalidField, Text, t
from respite.params import MAX_ID, Id
from respite.vocabulary import AssessmentId, CareRecipientId, CreatedAt, UpdatedAt

__all__ = [
    "CARE_FIELDS",
    "EARLIEST_BIRTH_DATE",
    "MAX_ID",
    "MAX_PAGE",
    "MAX_VALID_DAYS",
    "AssessmentRecord",
    "AssessmentSummary",
    "AssessmentView",
    "CareRecipientPatch",
    "CareRecipientUpdate",
    "CareRecipientView",
    "Id",
    "NationalId",
    "NewAssessment",
    "NewCareRecipient",
    "Owner",
    "OwnerKind",
    "PolicyUsed",
    "RecipientDetails",
    "RecipientListing",
    "apply_patch",
    "date_problem",
    "last4",
    "normalise_national_id",
    "owner_only_changes",
]

MAX_PAGE: Final = 200
# What each field of an elder means, said once for the request, the change and the answer.
_NAME = Meta(description="The elder's full name.")
_SEX = Meta(description="The elder's sex, for rooms with a sex rule.")
_BIRTH_DATE = Meta(description="Date of birth (YYYY-MM-DD).")
_ADDRESS = Meta(description="Home address, as written on letters.")
_HOME_LAT = Meta(
    description="Latitude of the home "
    "(decimal degrees, in the coordinate system RESPITE_COORDINATE_SYSTEM names), with home_lon."
)
_HOME_LON = Meta(
    description="Longitude of the home "
    "(decimal degrees, in the coordinate system RESPITE_COORDINATE_SYSTEM names), with home_lat."
)
_LIVING = Meta(description="Who the elder lives with: alone, with_family or other.")
_NEEDS = Meta(description="Care needs (codes); each needs beds equipped for it.")
_PRESSURE = Meta(description="Stage (0-4) of the worst pressure injury; 0: none.")
_CONTACT_NAME = Meta(description="Emergency contact's name.")
_CONTACT_PHONE = Meta(description="Emergency contact's phone; stored encrypted, shown as 4 digits.")
_NATIONAL_ID = Meta(
    description="National ID number; stored encrypted, shown back only as its last 4 characters."
)
PersonName = Annotated[str, Meta(min_length=1, max_length=100), _NAME]
ContactName = Annotated[str, Meta(max_length=100), _CONTACT_NAME]
Address = Annotated[str, Meta(max_length=300), _ADDRESS]
# National ID numbers differ by country (CN: 17 digits and a check character); accept letters,
# digits, spaces and hyphens, and compare them normalised (see normalise_national_id).
NationalId = Annotated[
    str,
    Meta(min_length=4, max_length=40, pattern=r"^[0-9A-Za-z][0-9A-Za-z -]*[0-9A-Za-z]$"),
    _NATIONAL_ID,
]
Needs = Annotated[list[Need], Meta(max_length=len(NEEDS)), _NEEDS]
Assessor = Annotated[
    str, Meta(min_length=1, max_length=100, description="Who assessed: the assessor's name.")
]
Organisation = Annotated[
    str, Meta(min_length=1, max_length=200, description="The assessing organisation.")
]
ElderSex = Annotated[Sex, _SEX]
BirthDate = Annotated[date, _BIRTH_DATE]
HomeLat = Annotated[Latitude, _HOME_LAT]
HomeLon = Annotated[Longitude, _HOME_LON]
Living = Annotated[LivingSituation, _LIVING]
PressureInjury = Annotated[PressureStage, _PRESSURE]
ContactPhone = Annotated[Phone, _CONTACT_PHONE]
AssessedOn = Annotated[date, Meta(description="The day of the assessment (YYYY-MM-DD).")]
ValidUntil = Annotated[
    date, Meta(description="The last day the assessment is valid on (YYYY-MM-DD), inclusive.")
]
ExtensionApproved = Annotated[
    bool, Meta(description="The assessor approved extra nights where the policy allows it.")
]
OwnerKind = Literal["family", "hospital", "facility"]

# The longest validity a policy may grant (eligibility's ValidDays).
MAX_VALID_DAYS: Final = 3660
# Nobody alive was born earlier; also keeps ages within the engine's 0–150.
EARLIEST_BIRTH_DATE: Final = date(1880, 1, 1)
_ID_NOISE: Final = re.compile(r"[ -]")


def normalise_national_id(value: str) -> str:
    """The form that is hashed and stored: no spaces or hyphens, letters upper case."""
    return _ID_NOISE.sub("", value).upper()


def last4(value: str) -> str:
    return value[-4:]


def date_problem(day: date, today: date, *, not_before: date | None = None) -> Text | None:
    """Why ``day`` cannot be a birth or assessment date, or None if it can."""
    if day > today:
        return t("recipient.date_in_future", day=day)
    if not_before is not None and day < not_before:
        return t("recipient.date_too_early", earliest=not_before)
    return None


def _check_person(name: str | UnsetType, needs: list[Need] | UnsetType) -> None:
    if isinstance(name, str) and not name.strip():
        raise InvalidField("name", t("recipient.not_blank"))
    if isinstance(needs, list) and len(set(needs)) != len(needs):
        raise InvalidField("needs", t("recipient.needs_repeated"))


def _check_location(lat: float | UnsetType | None, lon: float | UnsetType | None) -> None:
    """Both given or both left out, both numbers or both null: never half a location."""
    # The field named is the one the request gave alone, or the one it left null.
    if (lat is UNSET) != (lon is UNSET):
        named = "home_lon" if lat is UNSET else "home_lat"
    elif (lat is None) != (lon is None):
        named = "home_lat" if lat is None else "home_lon"
    else:
        return
    raise InvalidField(named, coordinates_together("home"))


class NewCareRecipient(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """An elder to register: who they are, where they live and the care they need."""

    name: PersonName
    sex: ElderSex
    birth_date: BirthDate
    home_address: Address = ""
    home_lat: HomeLat | None = None
    home_lon: HomeLon | None = None
    living_situation: Living = "with_family"
    needs: Needs = []
    pressure_injury_stage: PressureInjury = 0
    emergency_contact_name: ContactName = ""
    emergency_contact_phone: ContactPhone | None = None
    national_id: NationalId | None = None

    def __post_init__(self) -> None:
        _check_person(self.name, self.needs)
        _check_location(self.home_lat, self.home_lon)


class CareRecipientPatch(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Only the fields given change; ``null`` clears an optional field."""

    name: PersonName | UnsetType = UNSET
    sex: ElderSex | UnsetType = UNSET
    birth_date: BirthDate | UnsetType = UNSET
    home_address: Address | UnsetType = UNSET
    home_lat: HomeLat | UnsetType | None = UNSET
    home_lon: HomeLon | UnsetType | None = UNSET
    living_situation: Living | UnsetType = UNSET
    needs: Needs | UnsetType = UNSET
    pressure_injury_stage: PressureInjury | UnsetType = UNSET
    emergency_contact_name: ContactName | UnsetType = UNSET
    emergency_contact_phone: ContactPhone | UnsetType | None = UNSET
    national_id: NationalId | UnsetType | None = UNSET

    def __post_init__(self) -> None:
        _check_person(self.name, self.needs)
        _check_location(self.home_lat, self.home_lon)
        if all(getattr(self, name) is UNSET for name in self.__struct_fields__):
            raise InvalidField("$", t("recipient.nothing_to_change"))


CARE_FIELDS: Final = frozenset({"needs", "pressure_injury_stage"})
"""What staff who see an elder they do not own may change (``recipients.service`` has the
whole table); every other field of a patch, one added later included, is the owner's."""


def owner_only_changes(patch: CareRecipientPatch) -> list[str]:
    """The fields ``patch`` gives that only the elder's owner may change, in field order.

    A field given counts even with the value it has: whether it would change is not told
    to someone who may not change it (it would let them test a guessed national ID)."""
    return [
        name
        for name in CareRecipientPatch.__struct_fields__
        if name not in CARE_FIELDS and getattr(patch, name) is not UNSET
    ]


class CareRecipientUpdate(Struct, frozen=True, kw_only=True):
    care_recipient_id: int
    changes: CareRecipientPatch


class RecipientListing(Struct, frozen=True, kw_only=True):
    cursor: str | None = None
    """The ``next_cursor`` of the previous page."""
    limit: int = 50


class RecipientDetails(Struct, frozen=True, kw_only=True):
    """The fields of a care recipient that are stored as they are (identifiers aside)."""

    name: str
    sex: Sex
    birth_date: date
    home_address: str
    home_lat: float | None
    home_lon: float | None
    living_situation: LivingSituation
    needs: list[Need]
    pressure_injury_stage: int
    emergency_contact_name: str


def apply_patch(details: RecipientDetails, patch: CareRecipientPatch) -> RecipientDetails:
    changes = {
        name: value
        for name in RecipientDetails.__struct_fields__
        if (value := getattr(patch, name)) is not UNSET
    }
    if "needs" in changes:
        changes["needs"] = sorted(set(changes["needs"]))
    return msgspec.structs.replace(details, **changes)


class Owner(Struct, frozen=True, kw_only=True):
    """The one tenant a care recipient belongs to."""

    kind: Annotated[OwnerKind, Meta(description="A family account, a hospital or a facility.")]
    id: Annotated[int, Meta(description="The id of that family account, hospital or facility.")]


class AssessmentSummary(Struct, frozen=True, kw_only=True):
    """The latest assessment, the one eligibility uses."""

    id: AssessmentId
    level: Level
    assessed_on: AssessedOn
    valid_until: ValidUntil


class CareRecipientView(Struct, frozen=True, kw_only=True):
    """An elder as the caller may see them: identifiers only as their last 4 characters."""

    id: CareRecipientId
    owner: Annotated[Owner, Meta(description="Whose elder this is.")]
    name: Annotated[str, _NAME]
    sex: ElderSex
    birth_date: BirthDate
    home_address: Annotated[str, _ADDRESS]
    home_lat: Annotated[float, _HOME_LAT] | None
    home_lon: Annotated[float, _HOME_LON] | None
    living_situation: Living
    needs: Annotated[list[Need], _NEEDS]
    pressure_injury_stage: Annotated[int, _PRESSURE]
    emergency_contact_name: Annotated[str, _CONTACT_NAME]
    emergency_contact_phone_last4: (
        Annotated[str, Meta(description="The last 4 digits of the emergency contact's phone.")]
        | None
    )
    national_id_last4: (
        Annotated[str, Meta(description="The last 4 characters of the national ID number.")] | None
    )
    latest_assessment: (
        Annotated[AssessmentSummary, Meta(description="The latest assessment (null: none yet).")]
        | None
    )
    created_at: CreatedAt
    updated_at: UpdatedAt


class NewAssessment(AssessmentScores, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Scores under GB/T 42195-2022 and who assessed, when, and until when it is valid."""

    assessor: Assessor
    organisation: Organisation
    assessed_on: AssessedOn
    valid_until: (
        Annotated[
            date,
            Meta(
                description="The last valid day (YYYY-MM-DD); by default assessed_on plus the "
                "policy's assessment_valid_days."
            ),
        ]
        | None
    ) = None
    extension_approved: ExtensionApproved = False
    policy_code: Annotated[
        PolicyCode,
        Meta(
            description="The policy whose rule decides whether two raises stack (its version "
            "in force on assessed_on)."
        ),
    ] = "cn-respite"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.valid_until is None:
            return
        if self.valid_until < self.assessed_on:
            raise InvalidField("valid_until", t("eligibility.valid_until_before_assessed_on"))
        if (self.valid_until - self.assessed_on).days >= MAX_VALID_DAYS:
            raise InvalidField(
                "valid_until", t("recipient.valid_until_too_late", days=MAX_VALID_DAYS)
            )


class AssessmentRecord(Struct, frozen=True, kw_only=True):
    care_recipient_id: int
    assessment: NewAssessment


class PolicyUsed(Struct, frozen=True, kw_only=True):
    """The policy version whose rules the assessment followed."""

    code: Annotated[str, Meta(description="The policy's code.")]
    version: Annotated[int, Meta(description="Its version.")]


class AssessmentView(Struct, frozen=True, kw_only=True):
    """A recorded assessment, with the level it gives and how it was reached."""

    id: AssessmentId
    care_recipient_id: CareRecipientId
    scheme: Annotated[str, Meta(description="The assessment scheme, e.g. GB/T 42195-2022.")]
    self_care: SelfCareScore | None
    mobility: MobilityScore | None
    mental: MentalScore | None
    perception_social: PerceptionSocialScore | None
    total: TotalScore
    coma: Annotated[bool, Meta(description="In a coma.")]
    dementia_or_mental_disorder: Annotated[
        bool, Meta(description="A diagnosed dementia or other mental disorder.")
    ]
    risk_events_30d: RiskEvents
    extension_approved: ExtensionApproved
    base_level: Annotated[Level, Meta(description="The level of the total score alone.")]
    level: Annotated[Level, Meta(description="The level after adjustments: the one that counts.")]
    adjustments: Annotated[
        list[Adjustment],
        Meta(description="Every adjustment considered, in order, and what it did."),
    ]
    assessor: Annotated[str, Meta(description="Who assessed.")]
    organisation: Annotated[str, Meta(description="The assessing organisation.")]
    assessed_on: AssessedOn
    valid_until: ValidUntil
    policy: Annotated[PolicyUsed, Meta(description="The policy version followed.")] | None
    created_at: CreatedAt
