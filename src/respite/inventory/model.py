"""Facilities, beds and blocks: the Structs of requests and answers, and the pure rules.

Only the standard library, msgspec and the pure vocabulary of ``respite.eligibility``.

Who may change what on a facility: an admin creates facilities and may change every field;
staff of the facility may change only ``STAFF_FACILITY_FIELDS``: its phone number, the
service radius of its home-care beds, and what its profile says in the facility's own words
(visiting hours, what the price includes, its description). The name, operator, address,
district, community and coordinates stay with the admin: together they decide where families
find the facility and which homes are within its radius, so they are vetted together, and so
are the policy codes and the active flag.
"""

from __future__ import annotations

import functools
import zoneinfo
from collections.abc import Iterable
from datetime import date, datetime
from typing import Annotated, Any, Literal, TypeVar

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

from respite.eligibility import (
    CAPABILITIES,
    Capability,
    Latitude,
    Longitude,
)
from respite.eligibility.model import DEFAULT_TIMEZONE, BedKind, BedSexRule, CareStage
from respite.eligibility.policy import PolicyCode
from respite.i18n import InvalidField, Text, t
from respite.vocabulary import (
    BedId,
    BlockId,
    CheckIn,
    CheckOut,
    CreatedAt,
    CurrencyCode,
    FacilityId,
    NightlyPrice,
    PrincipalId,
    UpdatedAt,
)

__all__ = [
    "MAX_BLOCK_NIGHTS",
    "MAX_PAGE",
    "MAX_PRICE",
    "STAFF_FACILITY_FIELDS",
    "Bed",
    "BedChanges",
    "Block",
    "BlockChanges",
    "BlockReason",
    "BlockTerms",
    "Capabilities",
    "Facility",
    "FacilityChanges",
    "FieldProblem",
    "Label",
    "NewBed",
    "NewBlock",
    "NewFacility",
    "NightRange",
    "Price",
    "block_terms_problem",
    "changed_terms",
    "given_fields",
    "nights_outside",
    "ordered_capabilities",
    "patched",
]

# A block claims one ledger row per night: bound it so one request cannot write without end.
MAX_BLOCK_NIGHTS = 366
MAX_PAGE = 500

# What each field means, said once for the request, the change and the answer.
_NAME = Meta(description="The facility's name, as families see it.")
_OPERATOR = Meta(description="Who runs the facility.")
_ADDRESS = Meta(description="The facility's address.")
_DISTRICT = Meta(description="The district (区) it is in, e.g. 长宁区.")
_COMMUNITY = Meta(description="The street or community (街道/社区) it is in.")
_LAT = Meta(
    description="The facility's latitude "
    "(decimal degrees, in the coordinate system RESPITE_COORDINATE_SYSTEM names)."
)
_LON = Meta(
    description="The facility's longitude "
    "(decimal degrees, in the coordinate system RESPITE_COORDINATE_SYSTEM names)."
)
_PHONE = Meta(description="The facility's public desk number (not a person's).")
_TIMEZONE = Meta(description="IANA time zone whose calendar dates its stays: its today.")
_RADIUS = Meta(description="How far from the facility, in metres, its home-care beds reach.")
_RESPITE_POLICY = Meta(description="The eligibility policy of its respite beds.")
_HOME_POLICY = Meta(description="The eligibility policy of its home-care beds.")
_FACILITY_ACTIVE = Meta(description="False: hidden from searches, takes no new bookings.")
_BED_ACTIVE = Meta(description="False: not offered or bookable until active again.")
_BLOCK_REASON = Meta(description="Why the bed is out of service.")
FacilityName = Annotated[str, Meta(min_length=1, max_length=200), _NAME]
Operator = Annotated[str, Meta(max_length=200), _OPERATOR]
Address = Annotated[str, Meta(max_length=300), _ADDRESS]
AreaName = Annotated[str, Meta(max_length=100)]
FacilityPhone = Annotated[
    str, Meta(max_length=32, pattern=r"^(?:\+?[0-9][0-9 ()-]{3,28}[0-9])?$"), _PHONE
]
Timezone = Annotated[str, Meta(min_length=1, max_length=64), _TIMEZONE]
Currency = Annotated[
    str, Meta(pattern=r"^[A-Z]{3}$", description="ISO 4217 code of its prices' currency.")
]
ServiceRadius = Annotated[int, Meta(ge=0, le=200_000), _RADIUS]
Label = Annotated[
    str,
    Meta(min_length=1, max_length=40, description="The bed's label, unique in the facility."),
]
# Minor units per night; the bound keeps a year's total far inside a bigint.
MAX_PRICE = 100_000_000
Price = Annotated[
    int,
    Meta(ge=0, le=MAX_PRICE, description="The price of one night in fen (1 yuan = 100 fen)."),
]
# Each known capability at most once: a longer list can only repeat one.
Capabilities = Annotated[
    list[Capability],
    Meta(max_length=len(CAPABILITIES), description="The care the bed is equipped for."),
]
BlockReason = Literal["maintenance", "cleaning", "isolation", "other"]
Note = Annotated[
    str, Meta(max_length=500, description="A note for staff; needed when the reason is other.")
]
VisitingHours = Annotated[
    str,
    Meta(max_length=200, description="When visitors may come, in the facility's own words."),
]
PriceIncludes = Annotated[
    str,
    Meta(
        max_length=500,
        description="What the nightly price includes (meals, care, laundry...), in the "
        "facility's own words.",
    ),
]
Description = Annotated[
    str,
    Meta(
        max_length=1000,
        description="The care and services the facility offers, in its own words.",
    ),
]

STAFF_FACILITY_FIELDS = frozenset(
    {"phone", "service_radius_m", "visiting_hours", "price_includes", "description"}
)
# Links and aliases that zoneinfo lists but that name no real place's rules.
_NOT_PLACES = frozenset({"localtime", "Factory", "posixrules"})
_CONTROL = frozenset(chr(c) for c in (*range(0x20), 0x7F))
_NOTE_CONTROL = _CONTROL - {"\n", "\t"}


@functools.cache
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones()) - _NOT_PLACES


def _text_problem(field: str, value: object, *, trimmed: bool, allowed: str = "") -> None:
    """Raise for control characters (and, if ``trimmed``, surrounding spaces) in a text."""
    if not isinstance(value, str):
        return
    control = _NOTE_CONTROL if allowed else _CONTROL
    if any(ch in control for ch in value):
        raise InvalidField(field, t("inventory.control_characters"))
    if trimmed and value != value.strip():
        raise InvalidField(field, t("inventory.surrounding_spaces"))


def _check_texts(struct: Struct, trimmed: frozenset[str], notes: frozenset[str]) -> None:
    for name in struct.__struct_fields__:
        value = getattr(struct, name)
        _text_problem(name, value, trimmed=name in trimmed, allowed="\n\t" if name in notes else "")


def _check_timezone(value: object) -> None:
    if isinstance(value, str) and value not in _time_zones():
        raise InvalidField("timezone", t("inventory.timezone", value=repr(value)))


def given_fields(changes: Struct) -> list[str]:
    """The fields a PATCH body names, in declaration order."""
    return [f for f in changes.__struct_fields__ if getattr(changes, f) is not UNSET]


def _require_some(changes: Struct) -> None:
    if not given_fields(changes):
        raise InvalidField("$", t("inventory.nothing_to_change"))


S = TypeVar("S", bound=Struct)


def patched(current: S, changes: Struct) -> S:
    """``current`` with every field that ``changes`` names replaced."""
    values: dict[str, Any] = {f: getattr(changes, f) for f in given_fields(changes)}
    if "capabilities" in values:
        values["capabilities"] = ordered_capabilities(values["capabilities"])
    return msgspec.structs.replace(current, **values)


def ordered_capabilities(capabilities: Iterable[str]) -> list[str]:
    """Capabilities in the canonical order of ``eligibility.CAPABILITIES``, each once."""
    present = set(capabilities)
    return [c for c in CAPABILITIES if c in present]


# Facilities ------------------------------------------------------------------------------------


class Facility(Struct, frozen=True, kw_only=True):
    """A place with beds: its address and location, its calendar and its policies."""

    id: FacilityId
    name: Annotated[str, _NAME]
    operator: Annotated[str, _OPERATOR]
    address: Annotated[str, _ADDRESS]
    district: Annotated[str, _DISTRICT]
    community: Annotated[str, _COMMUNITY]
    lat: Annotated[float, _LAT]
    lon: Annotated[float, _LON]
    phone: Annotated[str, _PHONE]
    timezone: Annotated[str, _TIMEZONE]
    currency: CurrencyCode
    service_radius_m: Annotated[int, _RADIUS]
    respite_policy_code: Annotated[str, _RESPITE_POLICY]
    home_policy_code: Annotated[str, _HOME_POLICY]
    active: Annotated[bool, _FACILITY_ACTIVE]
    visiting_hours: VisitingHours
    price_includes: PriceIncludes
    description: Description
    created_at: CreatedAt
    updated_at: UpdatedAt


_FACILITY_TRIMMED = frozenset(
    {"name", "operator", "address", "district", "community", "visiting_hours"}
)
# Several lines are fine in these: a price list, a paragraph about the care offered.
_FACILITY_NOTES = frozenset({"price_includes", "description"})


class NewFacility(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A facility to create; policy codes must name stored policies."""

    name: FacilityName
    lat: Annotated[Latitude, _LAT]
    lon: Annotated[Longitude, _LON]
    operator: Operator = ""
    address: Address = ""
    district: Annotated[AreaName, _DISTRICT] = ""
    community: Annotated[AreaName, _COMMUNITY] = ""
    phone: FacilityPhone = ""
    timezone: Timezone = DEFAULT_TIMEZONE
    currency: Currency = "CNY"
    service_radius_m: ServiceRadius = 0
    respite_policy_code: Annotated[PolicyCode, _RESPITE_POLICY] = "cn-respite"
    home_policy_code: Annotated[PolicyCode, _HOME_POLICY] = "cn-home-bed"
    active: Annotated[bool, _FACILITY_ACTIVE] = True
    visiting_hours: VisitingHours = ""
    price_includes: PriceIncludes = ""
    description: Description = ""

    def __post_init__(self) -> None:
        _check_texts(self, _FACILITY_TRIMMED, _FACILITY_NOTES)
        _check_timezone(self.timezone)


class FacilityChanges(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A PATCH of a facility: only the fields present change."""

    name: FacilityName | UnsetType = UNSET
    lat: Annotated[Latitude, _LAT] | UnsetType = UNSET
    lon: Annotated[Longitude, _LON] | UnsetType = UNSET
    operator: Operator | UnsetType = UNSET
    address: Address | UnsetType = UNSET
    district: Annotated[AreaName, _DISTRICT] | UnsetType = UNSET
    community: Annotated[AreaName, _COMMUNITY] | UnsetType = UNSET
    phone: FacilityPhone | UnsetType = UNSET
    timezone: Timezone | UnsetType = UNSET
    currency: Currency | UnsetType = UNSET
    service_radius_m: ServiceRadius | UnsetType = UNSET
    respite_policy_code: Annotated[PolicyCode, _RESPITE_POLICY] | UnsetType = UNSET
    home_policy_code: Annotated[PolicyCode, _HOME_POLICY] | UnsetType = UNSET
    active: Annotated[bool, _FACILITY_ACTIVE] | UnsetType = UNSET
    visiting_hours: VisitingHours | UnsetType = UNSET
    price_includes: PriceIncludes | UnsetType = UNSET
    description: Description | UnsetType = UNSET

    def __post_init__(self) -> None:
        _require_some(self)
        _check_texts(self, _FACILITY_TRIMMED, _FACILITY_NOTES)
        _check_timezone(self.timezone)


# Beds ------------------------------------------------------------------------------------------


class Bed(Struct, frozen=True, kw_only=True):
    """One bookable bed of a facility (a respite bed there, or a home-care bed)."""

    id: BedId
    facility_id: FacilityId
    kind: BedKind
    label: Annotated[str, Meta(description="The bed's label, unique in the facility.")]
    sex_rule: BedSexRule
    capabilities: Annotated[list[str], Meta(description="The care the bed is equipped for.")]
    pressure_care_stage: CareStage
    nightly_price: NightlyPrice
    active: Annotated[bool, _BED_ACTIVE]
    retired_at: (
        Annotated[datetime, Meta(description="When it was taken out of use for good, if so.")]
        | None
    )
    created_at: CreatedAt
    updated_at: UpdatedAt


class NewBed(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A bed to create in the facility."""

    kind: BedKind
    label: Label
    sex_rule: BedSexRule
    nightly_price: Price
    capabilities: Capabilities = []
    pressure_care_stage: CareStage = 0
    active: Annotated[bool, _BED_ACTIVE] = True

    def __post_init__(self) -> None:
        _text_problem("label", self.label, trimmed=True)


class BedChanges(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A PATCH of a bed. The kind is fixed at creation: retire the bed and create another."""

    label: Label | UnsetType = UNSET
    sex_rule: BedSexRule | UnsetType = UNSET
    capabilities: Capabilities | UnsetType = UNSET
    pressure_care_stage: CareStage | UnsetType = UNSET
    nightly_price: Price | UnsetType = UNSET
    active: Annotated[bool, _BED_ACTIVE] | UnsetType = UNSET

    def __post_init__(self) -> None:
        _require_some(self)
        _text_problem("label", self.label, trimmed=True)


# Blocks ----------------------------------------------------------------------------------------


class FieldProblem(Struct, frozen=True):
    field: str
    message: Text


class BlockTerms(Struct, frozen=True, kw_only=True):
    check_in: date
    check_out: date
    reason: BlockReason
    note: str


def block_terms_problem(terms: BlockTerms) -> FieldProblem | None:
    if terms.check_out <= terms.check_in:
        return FieldProblem("check_out", t("inventory.block_after_check_in"))
    if (terms.check_out - terms.check_in).days > MAX_BLOCK_NIGHTS:
        return FieldProblem("check_out", t("inventory.block_too_long", nights=MAX_BLOCK_NIGHTS))
    if terms.reason == "other" and not terms.note.strip():
        return FieldProblem("note", t("inventory.block_note_needed"))
    return None


class Block(Struct, frozen=True, kw_only=True):
    """A bed out of service for the nights ``[check_in, check_out)``."""

    id: BlockId
    bed_id: BedId
    facility_id: FacilityId
    check_in: Annotated[CheckIn, Meta(description="The first night blocked (YYYY-MM-DD).")]
    check_out: Annotated[CheckOut, Meta(description="The day after the last night blocked.")]
    reason: Annotated[BlockReason, _BLOCK_REASON]
    note: Annotated[str, Meta(description="A note for staff.")]
    created_by: Annotated[PrincipalId, Meta(description="Who blocked the bed.")] | None
    created_at: CreatedAt
    lifted_at: (
        Annotated[datetime, Meta(description="When it was lifted (its nights free again), if so.")]
        | None
    )

    @property
    def terms(self) -> BlockTerms:
        return BlockTerms(
            check_in=self.check_in, check_out=self.check_out, reason=self.reason, note=self.note
        )


class NewBlock(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Nights to take a bed out of service."""

    check_in: Annotated[CheckIn, Meta(description="The first night to block (YYYY-MM-DD).")]
    check_out: Annotated[CheckOut, Meta(description="The day after the last night to block.")]
    reason: Annotated[BlockReason, _BLOCK_REASON]
    note: Note = ""

    def __post_init__(self) -> None:
        _text_problem("note", self.note, trimmed=False, allowed="\n\t")
        problem = block_terms_problem(self.terms)
        if problem is not None:
            raise InvalidField(problem.field, problem.message)

    @property
    def terms(self) -> BlockTerms:
        return BlockTerms(
            check_in=self.check_in, check_out=self.check_out, reason=self.reason, note=self.note
        )


class BlockChanges(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A PATCH of a block: shorten or lengthen it, or change its reason or note."""

    check_in: Annotated[date, Meta(description="The new first night.")] | UnsetType = UNSET
    check_out: Annotated[date, Meta(description="The new day after the last night.")] | (
        UnsetType
    ) = UNSET
    reason: Annotated[BlockReason, _BLOCK_REASON] | UnsetType = UNSET
    note: Note | UnsetType = UNSET

    def __post_init__(self) -> None:
        _require_some(self)
        _text_problem("note", self.note, trimmed=False, allowed="\n\t")


def changed_terms(block: Block, changes: BlockChanges) -> BlockTerms:
    return patched(block.terms, changes)


class NightRange(Struct, frozen=True):
    """Nights ``[start, end)``; empty when ``end <= start``."""

    start: date
    end: date


def nights_outside(nights: NightRange, other: NightRange) -> list[NightRange]:
    """The runs of ``nights`` that ``other`` does not cover: none, one or two."""
    if other.end <= nights.start or nights.end <= other.start or other.end <= other.start:
        return [nights] if nights.start < nights.end else []
    runs = [NightRange(nights.start, other.start), NightRange(other.end, nights.end)]
    return [r for r in runs if r.start < r.end]
