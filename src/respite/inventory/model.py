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
    PressureStage,
    Programme,
    SexRule,
)
from respite.eligibility.model import DEFAULT_TIMEZONE
from respite.eligibility.policy import PolicyCode

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

FacilityName = Annotated[str, Meta(min_length=1, max_length=200)]
Operator = Annotated[str, Meta(max_length=200)]
Address = Annotated[str, Meta(max_length=300)]
AreaName = Annotated[str, Meta(max_length=100)]
FacilityPhone = Annotated[str, Meta(max_length=32, pattern=r"^(?:\+?[0-9][0-9 ()-]{3,28}[0-9])?$")]
Timezone = Annotated[str, Meta(min_length=1, max_length=64)]
Currency = Annotated[str, Meta(pattern=r"^[A-Z]{3}$")]
ServiceRadius = Annotated[int, Meta(ge=0, le=200_000)]
Label = Annotated[str, Meta(min_length=1, max_length=40)]
# Minor units per night; the bound keeps a year's total far inside a bigint.
MAX_PRICE = 100_000_000
Price = Annotated[int, Meta(ge=0, le=MAX_PRICE)]
# Each known capability at most once: a longer list can only repeat one.
Capabilities = Annotated[list[Capability], Meta(max_length=len(CAPABILITIES))]
BlockReason = Literal["maintenance", "cleaning", "isolation", "other"]
Note = Annotated[str, Meta(max_length=500)]
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
        raise ValueError(f"{field}: must not contain control characters")
    if trimmed and value != value.strip():
        raise ValueError(f"{field}: must not start or end with spaces")


def _check_texts(struct: Struct, trimmed: frozenset[str], notes: frozenset[str]) -> None:
    for name in struct.__struct_fields__:
        value = getattr(struct, name)
        _text_problem(name, value, trimmed=name in trimmed, allowed="\n\t" if name in notes else "")


def _check_timezone(value: object) -> None:
    if isinstance(value, str) and value not in _time_zones():
        raise ValueError(f"timezone: {value!r} is not an IANA time zone such as 'Asia/Shanghai'")


def given_fields(changes: Struct) -> list[str]:
    """The fields a PATCH body names, in declaration order."""
    return [f for f in changes.__struct_fields__ if getattr(changes, f) is not UNSET]


def _require_some(changes: Struct) -> None:
    if not given_fields(changes):
        raise ValueError("name at least one field to change")


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
    id: int
    name: str
    operator: str
    address: str
    district: str
    community: str
    lat: float
    lon: float
    phone: str
    """The facility's public desk number (not a person's): shown in full."""
    timezone: str
    currency: str
    service_radius_m: int
    respite_policy_code: str
    home_policy_code: str
    active: bool
    visiting_hours: VisitingHours
    price_includes: PriceIncludes
    description: Description
    created_at: datetime
    updated_at: datetime


_FACILITY_TRIMMED = frozenset(
    {"name", "operator", "address", "district", "community", "visiting_hours"}
)
# Several lines are fine in these: a price list, a paragraph about the care offered.
_FACILITY_NOTES = frozenset({"price_includes", "description"})


class NewFacility(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: FacilityName
    lat: Latitude
    lon: Longitude
    operator: Operator = ""
    address: Address = ""
    district: AreaName = ""
    community: AreaName = ""
    phone: FacilityPhone = ""
    timezone: Timezone = DEFAULT_TIMEZONE
    currency: Currency = "CNY"
    service_radius_m: ServiceRadius = 0
    respite_policy_code: PolicyCode = "cn-respite"
    home_policy_code: PolicyCode = "cn-home-bed"
    active: bool = True
    visiting_hours: VisitingHours = ""
    price_includes: PriceIncludes = ""
    description: Description = ""

    def __post_init__(self) -> None:
        _check_texts(self, _FACILITY_TRIMMED, _FACILITY_NOTES)
        _check_timezone(self.timezone)


class FacilityChanges(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A PATCH of a facility: only the fields present change."""

    name: FacilityName | UnsetType = UNSET
    lat: Latitude | UnsetType = UNSET
    lon: Longitude | UnsetType = UNSET
    operator: Operator | UnsetType = UNSET
    address: Address | UnsetType = UNSET
    district: AreaName | UnsetType = UNSET
    community: AreaName | UnsetType = UNSET
    phone: FacilityPhone | UnsetType = UNSET
    timezone: Timezone | UnsetType = UNSET
    currency: Currency | UnsetType = UNSET
    service_radius_m: ServiceRadius | UnsetType = UNSET
    respite_policy_code: PolicyCode | UnsetType = UNSET
    home_policy_code: PolicyCode | UnsetType = UNSET
    active: bool | UnsetType = UNSET
    visiting_hours: VisitingHours | UnsetType = UNSET
    price_includes: PriceIncludes | UnsetType = UNSET
    description: Description | UnsetType = UNSET

    def __post_init__(self) -> None:
        _require_some(self)
        _check_texts(self, _FACILITY_TRIMMED, _FACILITY_NOTES)
        _check_timezone(self.timezone)


# Beds ------------------------------------------------------------------------------------------


class Bed(Struct, frozen=True, kw_only=True):
    id: int
    facility_id: int
    kind: Programme
    label: str
    sex_rule: SexRule
    capabilities: list[str]
    pressure_care_stage: int
    nightly_price: int
    """Minor units of the facility's currency."""
    active: bool
    retired_at: datetime | None
    created_at: datetime
    updated_at: datetime


class NewBed(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    kind: Programme
    label: Label
    sex_rule: SexRule
    nightly_price: Price
    capabilities: Capabilities = []
    pressure_care_stage: PressureStage = 0
    active: bool = True

    def __post_init__(self) -> None:
        _text_problem("label", self.label, trimmed=True)


class BedChanges(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A PATCH of a bed. The kind is fixed at creation: retire the bed and create another."""

    label: Label | UnsetType = UNSET
    sex_rule: SexRule | UnsetType = UNSET
    capabilities: Capabilities | UnsetType = UNSET
    pressure_care_stage: PressureStage | UnsetType = UNSET
    nightly_price: Price | UnsetType = UNSET
    active: bool | UnsetType = UNSET

    def __post_init__(self) -> None:
        _require_some(self)
        _text_problem("label", self.label, trimmed=True)


# Blocks ----------------------------------------------------------------------------------------


class FieldProblem(Struct, frozen=True):
    field: str
    message: str


class BlockTerms(Struct, frozen=True, kw_only=True):
    check_in: date
    check_out: date
    reason: BlockReason
    note: str


def block_terms_problem(terms: BlockTerms) -> FieldProblem | None:
    if terms.check_out <= terms.check_in:
        return FieldProblem("check_out", "must be after check_in; a block has at least one night")
    if (terms.check_out - terms.check_in).days > MAX_BLOCK_NIGHTS:
        return FieldProblem(
            "check_out",
            f"a block is at most {MAX_BLOCK_NIGHTS} nights; deactivate the bed for longer",
        )
    if terms.reason == "other" and not terms.note.strip():
        return FieldProblem("note", "say why in a note when the reason is 'other'")
    return None


class Block(Struct, frozen=True, kw_only=True):
    id: int
    bed_id: int
    facility_id: int
    check_in: date
    check_out: date
    """The block covers the nights ``[check_in, check_out)``."""
    reason: BlockReason
    note: str
    created_by: int | None
    created_at: datetime
    lifted_at: datetime | None

    @property
    def terms(self) -> BlockTerms:
        return BlockTerms(
            check_in=self.check_in, check_out=self.check_out, reason=self.reason, note=self.note
        )


class NewBlock(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    check_in: date
    check_out: date
    reason: BlockReason
    note: Note = ""

    def __post_init__(self) -> None:
        _text_problem("note", self.note, trimmed=False, allowed="\n\t")
        problem = block_terms_problem(self.terms)
        if problem is not None:
            raise ValueError(f"{problem.field}: {problem.message}")

    @property
    def terms(self) -> BlockTerms:
        return BlockTerms(
            check_in=self.check_in, check_out=self.check_out, reason=self.reason, note=self.note
        )


class BlockChanges(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A PATCH of a block: shorten or lengthen it, or change its reason or note."""

    check_in: date | UnsetType = UNSET
    check_out: date | UnsetType = UNSET
    reason: BlockReason | UnsetType = UNSET
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
