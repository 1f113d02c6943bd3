"""What a family and a hospital need to know about a facility: its profile, and the contact
every booking, referral and hold carries (pure).

A profile is readable by every signed-in caller: it holds only what the facility shows the
public (its desk phone, not a person's), never its policy codes, coordinates or staff-only
settings. Capabilities and kinds are said in the caller's language from the catalog; visiting
hours, what the price includes and the description are the facility's own words, as its
staff wrote them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated

from msgspec import Meta, Struct

from respite.eligibility import CAPABILITIES, Programme
from respite.i18n import Text, t

__all__ = [
    "BedKindWords",
    "CapabilityWords",
    "FacilityContact",
    "FacilityProfile",
    "PriceRange",
    "capability_words",
    "kind_words",
    "price_range",
]

Fen = Annotated[int, Meta(ge=0, description="Minor units of the currency (fen for CNY).")]


class FacilityContact(Struct, frozen=True, kw_only=True):
    """Where the stay is and whom to call: the facility's name, address and desk phone."""

    id: Annotated[int, Meta(description="The facility's id.")]
    name: Annotated[str, Meta(description="The facility's name.")]
    address: Annotated[str, Meta(description="Its street address; empty if not recorded.")]
    phone: Annotated[
        str, Meta(description="Its public desk number, in full; empty if not recorded.")
    ]


class CapabilityWords(Struct, frozen=True, kw_only=True):
    """One thing the facility's beds can do for an elder: its code and its words."""

    code: Annotated[
        str,
        Meta(
            description="A bed capability (see the search's capability filter), or "
            "`pressure_care` for pressure-injury care up to the stage its words name."
        ),
    ]
    name: Text


class BedKindWords(Struct, frozen=True, kw_only=True):
    """A kind of bed the facility offers: its code and its words."""

    kind: Annotated[Programme, Meta(description="`respite` or `home`.")]
    name: Text


class PriceRange(Struct, frozen=True, kw_only=True):
    """The nightly prices of the facility's bookable beds, cheapest and dearest."""

    min_nightly_price: Fen
    max_nightly_price: Fen
    currency: Annotated[str, Meta(description="ISO 4217 code of the prices.")]
    words: Text


class FacilityProfile(Struct, frozen=True, kw_only=True):
    """A facility as families and hospitals see it."""

    id: Annotated[int, Meta(description="The facility's id.")]
    name: Annotated[str, Meta(description="The facility's name.")]
    address: Annotated[str, Meta(description="Its street address; empty if not recorded.")]
    phone: Annotated[str, Meta(description="The facility's public desk number, in full.")]
    district: Annotated[str, Meta(description="The district it is in.")]
    community: Annotated[str, Meta(description="The street or community (街道/社区) it is in.")]
    active: Annotated[bool, Meta(description="False: it takes no new bookings for now.")]
    kinds: Annotated[
        list[BedKindWords], Meta(description="The kinds of bed it offers now, in words.")
    ]
    capabilities: Annotated[
        list[CapabilityWords],
        Meta(description="What at least one of its bookable beds can do for an elder, in words."),
    ]
    visiting_hours: Annotated[
        str, Meta(description="When visitors may come, in the facility's own words.")
    ]
    price_includes: Annotated[
        str, Meta(description="What the nightly price includes, in the facility's own words.")
    ]
    description: Annotated[
        str, Meta(description="The care and services it offers, in its own words.")
    ]
    price: Annotated[
        PriceRange | None,
        Meta(description="Null while the facility has no bookable bed."),
    ]


def kind_words(kinds: Iterable[str]) -> list[BedKindWords]:
    present = set(kinds)
    ordered: tuple[Programme, ...] = ("respite", "home")
    return [
        BedKindWords(kind=k, name=t(f"facility_profile.kind.{k}")) for k in ordered if k in present
    ]


def capability_words(
    capabilities: Iterable[str], pressure_care_stage: int
) -> list[CapabilityWords]:
    """In the canonical order of ``eligibility.CAPABILITIES``, pressure-injury care last."""
    present = set(capabilities)
    words = [
        CapabilityWords(code=c, name=t(f"facility_profile.capability.{c}"))
        for c in CAPABILITIES
        if c in present
    ]
    if pressure_care_stage > 0:
        stage = t("facility_profile.capability.pressure_care", stage=pressure_care_stage)
        words.append(CapabilityWords(code="pressure_care", name=stage))
    return words


def price_range(low: int | None, high: int | None, currency: str) -> PriceRange | None:
    if low is None or high is None:
        return None
    if low == high:
        words = t("facility_profile.price.single", price=low)
    else:
        words = t("facility_profile.price.range", low=low, high=high)
    return PriceRange(min_nightly_price=low, max_nightly_price=high, currency=currency, words=words)
