"""Care recipients and their assessments: request and answer Structs, and the pure rules.

Only the standard library, msgspec and the pure cores of eligibility and auth are imported.
Personal identifiers (national ID, emergency contact phone) arrive in full and leave only as
their last four characters.
"""

from __future__ import annotations

import re
from datetime import date, datetime
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
    Need,
    PressureStage,
    Sex,
    coordinates_together,
)
from respite.eligibility.policy import PolicyCode
from respite.i18n import InvalidField, Text, t
from respite.params import MAX_ID, Id

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
PersonName = Annotated[str, Meta(min_length=1, max_length=100)]
ContactName = Annotated[str, Meta(max_length=100)]
Address = Annotated[str, Meta(max_length=300)]
# National ID numbers differ by country (CN: 17 digits and a check character); accept letters,
# digits, spaces and hyphens, and compare them normalised (see normalise_national_id).
NationalId = Annotated[
    str, Meta(min_length=4, max_length=40, pattern=r"^[0-9A-Za-z][0-9A-Za-z -]*[0-9A-Za-z]$")
]
Needs = Annotated[list[Need], Meta(max_length=len(NEEDS))]
Assessor = Annotated[str, Meta(min_length=1, max_length=100)]
Organisation = Annotated[str, Meta(min_length=1, max_length=200)]
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
    name: PersonName
    sex: Sex
    birth_date: date
    home_address: Address = ""
    home_lat: Latitude | None = None
    home_lon: Longitude | None = None
    living_situation: LivingSituation = "with_family"
    needs: Needs = []
    pressure_injury_stage: PressureStage = 0
    emergency_contact_name: ContactName = ""
    emergency_contact_phone: Phone | None = None
    national_id: NationalId | None = None
    """Optional; stored encrypted, shown back only as its last four characters."""

    def __post_init__(self) -> None:
        _check_person(self.name, self.needs)
        _check_location(self.home_lat, self.home_lon)


class CareRecipientPatch(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Only the fields given change; ``null`` clears an optional field."""

    name: PersonName | UnsetType = UNSET
    sex: Sex | UnsetType = UNSET
    birth_date: date | UnsetType = UNSET
    home_address: Address | UnsetType = UNSET
    home_lat: Latitude | UnsetType | None = UNSET
    home_lon: Longitude | UnsetType | None = UNSET
    living_situation: LivingSituation | UnsetType = UNSET
    needs: Needs | UnsetType = UNSET
    pressure_injury_stage: PressureStage | UnsetType = UNSET
    emergency_contact_name: ContactName | UnsetType = UNSET
    emergency_contact_phone: Phone | UnsetType | None = UNSET
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

    kind: OwnerKind
    id: int


class AssessmentSummary(Struct, frozen=True, kw_only=True):
    id: int
    level: Level
    assessed_on: date
    valid_until: date


class CareRecipientView(Struct, frozen=True, kw_only=True):
    id: int
    owner: Owner
    name: str
    sex: Sex
    birth_date: date
    home_address: str
    home_lat: Latitude | None
    home_lon: Longitude | None
    living_situation: LivingSituation
    needs: list[Need]
    pressure_injury_stage: int
    emergency_contact_name: str
    emergency_contact_phone_last4: str | None
    national_id_last4: str | None
    latest_assessment: AssessmentSummary | None
    created_at: datetime
    updated_at: datetime


class NewAssessment(AssessmentScores, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Scores under GB/T 42195-2022 and who assessed, when, and until when it is valid."""

    assessor: Assessor
    organisation: Organisation
    assessed_on: date
    valid_until: date | None = None
    """Last valid day; default: ``assessed_on`` plus the policy's assessment_valid_days."""
    extension_approved: bool = False
    """The assessor approved extra nights where the policy allows it (AU respite)."""
    policy_code: PolicyCode = "cn-respite"
    """Whose rule decides whether the two raises stack; its version in force on assessed_on."""

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
    code: str
    version: int


class AssessmentView(Struct, frozen=True, kw_only=True):
    id: int
    care_recipient_id: int
    scheme: str
    self_care: int | None
    mobility: int | None
    mental: int | None
    perception_social: int | None
    total: int
    coma: bool
    dementia_or_mental_disorder: bool
    risk_events_30d: int
    extension_approved: bool
    base_level: Level
    level: Level
    adjustments: list[Adjustment]
    """Every adjustment considered, in order, with whether it changed the level."""
    assessor: str
    organisation: str
    assessed_on: date
    valid_until: date
    policy: PolicyUsed | None
    created_at: datetime
