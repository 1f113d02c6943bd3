"""Policy documents: one programme's eligibility rules and stay limits, as decodable data."""

import re
from datetime import date
from typing import Annotated, Final, TypeVar

import msgspec
from msgspec import Meta, Struct

from respite.eligibility.model import (
    CAPABILITIES,
    Age,
    Capability,
    Level,
    MonthNumber,
    Need,
    NightCount,
    Programme,
    ValidDays,
)
from respite.eligibility.priority import DEFAULT_PRIORITIES, PriorityGroup
from respite.eligibility.reasons import CAPABILITY_MISSING, REFUSAL_CODES
from respite.field_errors import from_msgspec
from respite.i18n import InvalidField, Text, t

PolicyCode = Annotated[
    str, Meta(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$", description="A policy's code, e.g. cn-respite.")
]
Jurisdiction = Annotated[
    str, Meta(pattern=r"^[A-Z]{2}$", description="Where it applies: ISO 3166 country code.")
]
PolicyName = Annotated[
    str, Meta(min_length=1, max_length=200, description="The policy's name in words.")
]
_NIGHTS = Meta(description="Nights allowed in each period.")
# Levels 0-4, each at most once (checked below, with "at least one"). A list, not a tuple:
# Litestar documents an Annotated tuple's items as "integer or anything" (oneOf with an empty
# schema), which every integer matches twice.
EligibleLevels = Annotated[list[Level], Meta(max_length=5)]
# Each known capability at most once.
NeededCapabilities = Annotated[tuple[Capability, ...], Meta(max_length=len(CAPABILITIES))]
# Reason codes, each at most once: there are a few dozen (capabilities included). A set, not
# a tuple: Litestar documents a constrained tuple's items as "a string or anything".
OverrideCodes = Annotated[frozenset[str], Meta(max_length=64)]


class _Quota(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, tag_field="period"):
    pass


class CalendarYear(_Quota, frozen=True, tag="calendar_year"):
    """At most ``nights`` in each calendar year."""

    nights: Annotated[NightCount, _NIGHTS]


class FinancialYear(_Quota, frozen=True, tag="financial_year"):
    """At most ``nights`` in each financial year, which starts in ``start_month``."""

    nights: Annotated[NightCount, _NIGHTS]
    start_month: Annotated[MonthNumber, Meta(description="The year's first month, 1-12.")]


class Rolling365(_Quota, frozen=True, tag="rolling_365"):
    """At most ``nights`` in any 365 consecutive days, not only in a window ending today."""

    nights: Annotated[NightCount, _NIGHTS]


class Month(_Quota, frozen=True, tag="month"):
    """At most ``nights`` in each calendar month."""

    nights: Annotated[NightCount, _NIGHTS]


class HalfCertification(_Quota, frozen=True, tag="half_certification"):
    """At most half the days of the certification period (JP short stay).

    The period is the assessment's own ``[assessed_on, valid_until]``, so the limit follows
    the certification rather than a calendar: 183 days of validity allow 91 nights.
    """


Quota = CalendarYear | FinancialYear | Rolling365 | Month | HalfCertification


class HomeRules(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Extra rules for home-care beds."""

    require_within_radius: Annotated[
        bool, Meta(description="The home must be within the facility's service radius.")
    ] = True
    alternative_min_age_living_alone: (
        Annotated[
            Age, Meta(description="Age at check-in from which living alone qualifies at any level.")
        ]
        | None
    ) = None


# The override rules of every policy that does not state its own (DESIGN.md §3):
# a written reason may stand in for paperwork and for limits on how much care is funded, never
# for what keeps the elder safe in this very bed, which staff must acknowledge rule by rule.
DEFAULT_WITH_REASON: Final[tuple[str, ...]] = (
    "no_assessment",
    "assessment_expired_before_check_in",
    "assessment_expires_during_stay",
    "quota_exhausted",
    "stay_exceeds_consecutive_limit",
    "age_below_minimum",
)
DEFAULT_WITH_ACKNOWLEDGEMENT: Final[tuple[str, ...]] = ("sex_rule", CAPABILITY_MISSING)
_RULE_CODES: Final = frozenset((*REFUSAL_CODES, CAPABILITY_MISSING))


class OverrideRules(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Which grounds of refusal staff of a facility (or an admin) may override at the desk.

    A code in ``with_reason`` is overridden by naming it with a written reason; one in
    ``with_acknowledgement`` only by naming it with ``acknowledged: true`` as well. A code in
    neither list is never overridable. A code ``prefix:detail`` follows its own entry if it has
    one, else its prefix's: ``needs_capability_missing`` stands for every missing capability.
    Each list names each code at most once, so neither is longer than the list of codes.
    """

    with_reason: Annotated[
        OverrideCodes, Meta(description="Codes overridden by naming them with a reason.")
    ] = frozenset(DEFAULT_WITH_REASON)
    with_acknowledgement: Annotated[
        OverrideCodes,
        Meta(description="Codes overridden only with acknowledged: true as well."),
    ] = frozenset(DEFAULT_WITH_ACKNOWLEDGEMENT)

    def __post_init__(self) -> None:
        for name, codes in (
            ("with_reason", self.with_reason),
            ("with_acknowledgement", self.with_acknowledgement),
        ):
            unknown = [code for code in codes if code not in _RULE_CODES]
            if unknown:
                raise InvalidField(name, t("eligibility.not_a_refusal_code", code=repr(unknown[0])))
        both = sorted(self.with_reason & self.with_acknowledgement)
        if both:
            raise InvalidField(
                "with_acknowledgement", t("eligibility.code_in_both_lists", code=repr(both[0]))
            )


class Policy(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Eligibility rules of one programme in one jurisdiction.

    ``level_scale`` documents how the jurisdiction's own grades map onto levels 0–4, so that a
    reviewer can check the mapping against ``eligible_levels``; it is informative only.
    """

    code: PolicyCode
    name: PolicyName
    jurisdiction: Jurisdiction
    programme: Annotated[Programme, Meta(description="The kind of bed it is for: respite or home.")]
    eligible_levels: Annotated[EligibleLevels, Meta(description="The care levels that qualify.")]
    min_age: Annotated[Age, Meta(description="Minimum age at check-in (null: none).")] | None
    assessment_valid_days: Annotated[
        ValidDays, Meta(description="How many days an assessment stays valid.")
    ]
    max_consecutive_nights: (
        Annotated[NightCount, Meta(description="Longest run of consecutive nights (null: none).")]
        | None
    )
    quota: Annotated[Quota, Meta(description="Nights allowed per period (null: no quota).")] | None
    needs_capabilities: Annotated[
        dict[Need, NeededCapabilities],
        Meta(description="For each care need, the bed capabilities it requires."),
    ]
    stack_raises: Annotated[
        bool,
        Meta(description="Whether the dementia and care-risk raises of the level add up."),
    ] = False
    home: Annotated[HomeRules, Meta(description="Extra rules of home-care beds.")] | None = None
    extra_nights_with_approval: (
        Annotated[
            NightCount,
            Meta(description="Nights an assessor's approved extension adds to the quota."),
        ]
        | None
    ) = None
    level_scale: Annotated[
        dict[str, Level],
        Meta(description="The jurisdiction's own grades and the level 0-4 each maps to."),
    ] = {}
    notes: Annotated[str, Meta(description="Sources and remarks, in free text.")] = ""
    # Documents stored before this field existed (every preset's version 1 among them) decode
    # with the default rules, so a booking judged under them follows the same rules.
    overridable: Annotated[
        OverrideRules, Meta(description="Which refusals staff may override at the desk.")
    ] = OverrideRules()
    # Likewise: a document without groups keeps the default order of the waiting list.
    # A list, not a tuple, for the reference's sake (see EligibleLevels).
    waiting_priorities: Annotated[
        list[PriorityGroup],
        Meta(
            max_length=10,
            description="The waiting list's priority groups, first served first; entries in "
            "no group come after them, each group and the rest by the time they joined.",
        ),
    ] = msgspec.field(default_factory=lambda: list(DEFAULT_PRIORITIES))

    def __post_init__(self) -> None:
        if not self.eligible_levels:
            raise InvalidField("eligible_levels", t("eligibility.levels_required"))
        if len(set(self.eligible_levels)) != len(self.eligible_levels):
            raise InvalidField("eligible_levels", t("eligibility.levels_repeated"))
        if self.home is not None and self.programme != "home":
            raise InvalidField("home", t("eligibility.home_rules_need_home"))
        if self.extra_nights_with_approval is not None and self.quota is None:
            raise InvalidField("extra_nights_with_approval", t("eligibility.extension_needs_quota"))
        codes = [group.code for group in self.waiting_priorities]
        if len(set(codes)) != len(codes):
            raise InvalidField("waiting_priorities", t("eligibility.priority_codes_repeated"))


class PolicyPublication(Policy, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A new version of a policy as an admin publishes it: the document and when it applies."""

    effective_from: Annotated[
        date, Meta(description="The first day the version applies (YYYY-MM-DD).")
    ]

    def document(self) -> Policy:
        fields = msgspec.structs.asdict(self)
        del fields["effective_from"]
        return Policy(**fields)


class InvalidPolicyError(Exception):
    """A policy document that does not decode.

    ``field`` is a path in the notation of problem details (``quota.nights``,
    ``eligible_levels[1]``), or ``$`` for the document as a whole.
    """

    def __init__(self, field: str, reason: str, message: Text | None = None) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason
        self.message = message or t("input.invalid")
        """What is wrong, from the catalog (``reason`` is the decoder's English)."""


class MalformedPolicyError(InvalidPolicyError):
    """The input is not JSON at all, so no field can be named."""


# msgspec ends a message with " - at `$.path`" (or " - at `key` in `$.path`" for a bad map key)
# and names a missing or unknown field only in the message itself; our own __post_init__
# checks name their field as "field: reason".
_AT: Final = re.compile(r"^(?P<reason>.*?) - at `(?:key` in `)?\$(?P<path>[^`]*)`$", re.DOTALL)
_NAMED_FIELD: Final = re.compile(r"^Object (?:contains unknown|missing required) field `(.+)`$")
_OWN_FIELD: Final = re.compile(r"^(?P<name>[a-z_][a-z0-9_]*): (?P<reason>.+)$", re.DOTALL)

_Document = TypeVar("_Document", Policy, PolicyPublication)


def decode_policy(raw: bytes) -> Policy:
    """Decode a policy document strictly, or raise InvalidPolicyError naming the wrong field."""
    return _decode(raw, Policy)


def decode_publication(raw: bytes) -> PolicyPublication:
    """Decode a policy document with its ``effective_from``, like ``decode_policy``."""
    return _decode(raw, PolicyPublication)


def _decode(raw: bytes, document: type[_Document]) -> _Document:
    try:
        return msgspec.json.decode(raw, type=document)
    except msgspec.ValidationError as exc:
        field, reason = _locate(str(exc))
        raise InvalidPolicyError(field, reason, from_msgspec(exc, document).message) from exc
    except msgspec.DecodeError as exc:
        raise MalformedPolicyError("$", str(exc)) from exc


def _locate(message: str) -> tuple[str, str]:
    at = _AT.match(message)
    path, reason = (at["path"].lstrip("."), at["reason"]) if at else ("", message)
    named = _NAMED_FIELD.match(reason) or _OWN_FIELD.match(reason)
    if named:
        path = f"{path}.{named[1]}" if path else named[1]
        if named.re is _OWN_FIELD:
            reason = named["reason"]
    return path or "$", reason
