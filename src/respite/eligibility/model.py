"""The shared vocabulary of eligibility: codes, constraint aliases and the input Structs.

Only the standard library, msgspec and the message catalog: this is the pure core other
domains import from.
"""

from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Literal, get_args

from msgspec import Meta, Struct

from respite.i18n import InvalidField, Text, t

Sex = Literal["female", "male"]
SexRule = Literal["female", "male", "any"]
Programme = Literal["respite", "home"]
LivingSituation = Literal["alone", "with_family", "other"]

Capability = Literal[
    "dementia_secure",
    "oxygen",
    "tube_feeding",
    "catheter_care",
    "tracheostomy_suction",
    "wheelchair",
    "bariatric",
    "isolation",
    "low_bed",
]
Need = Literal[
    "dementia",
    "wandering",
    "oxygen",
    "tube_feeding",
    "urinary_catheter",
    "tracheostomy",
    "wheelchair",
    "bariatric",
    "infectious_isolation",
    "fall_risk",
]
CAPABILITIES: tuple[str, ...] = get_args(Capability)
NEEDS: tuple[str, ...] = get_args(Need)

_IN_SYSTEM = (
    "in decimal degrees, in the deployment's coordinate system (RESPITE_COORDINATE_SYSTEM:"
    " GCJ-02, as maps in mainland China show, unless set to WGS-84; the API description"
    " names it)"
)
Latitude = Annotated[float, Meta(ge=-90, le=90, description=f"Latitude {_IN_SYSTEM}.")]
Longitude = Annotated[float, Meta(ge=-180, le=180, description=f"Longitude {_IN_SYSTEM}.")]
RadiusMetres = Annotated[float, Meta(gt=0)]
PressureStage = Annotated[int, Meta(ge=0, le=4)]
Level = Annotated[
    int,
    Meta(
        ge=0,
        le=4,
        description="Care level of GB/T 42195-2022: 0 intact, 1 mildly, 2 moderately, "
        "3 severely impaired, 4 ability completely lost.",
    ),
]
Age = Annotated[int, Meta(ge=0, le=150)]
NightCount = Annotated[int, Meta(ge=1, le=366)]
ValidDays = Annotated[int, Meta(ge=1, le=3660)]
MonthNumber = Annotated[int, Meta(ge=1, le=12)]
SelfCareScore = Annotated[int, Meta(ge=0, le=32, description="Self-care score, 0-32.")]
MobilityScore = Annotated[int, Meta(ge=0, le=15, description="Basic mobility score, 0-15.")]
MentalScore = Annotated[int, Meta(ge=0, le=28, description="Mental state score, 0-28.")]
PerceptionSocialScore = Annotated[
    int, Meta(ge=0, le=15, description="Perception and social participation score, 0-15.")
]
TotalScore = Annotated[int, Meta(ge=0, le=90, description="Total score, 0-90.")]
# Care-risk events in 30 days; bounded so that no input overflows the stored smallint.
RiskEvents = Annotated[
    int,
    Meta(
        ge=0,
        le=999,
        description="Care-risk events (fall, choking, self-harm, wandering) in the last 30 days.",
    ),
]

# A float annotation takes ints too (they stay ints in JSON). Not ``int | float | str``: that is
# documented as oneOf integer/number, which every integer matches twice, breaking the schema.
Figure = float | str


BedSexRule = Annotated[
    SexRule, Meta(description="Whom the bed's room takes: female, male, or any.")
]
BedCapabilities = Annotated[
    list[Capability], Meta(description="The care the bed is equipped for (capability codes).")
]
CareStage = Annotated[
    int,
    Meta(
        ge=0,
        le=4,
        description="The highest pressure-injury stage (0-4) the bed's staff can care for.",
    ),
]
BedKind = Annotated[
    Programme,
    Meta(
        description="respite: a short-stay bed in a facility; home: a registered home-care bed "
        "the facility sets up in the elder's home."
    ),
]

# The timezone of a facility that names none, and of decisions made without a facility (the
# programmes' default policies, the policy listing): the one place that default is kept.
DEFAULT_TIMEZONE = "Asia/Shanghai"


def earliest_date_on_earth(now: datetime) -> date:
    """Today in the last timezone to reach it (UTC−12): an earlier date is past everywhere."""
    return (now.astimezone(UTC) - timedelta(hours=12)).date()


def latest_date_on_earth(now: datetime) -> date:
    """Today in the first timezone to reach it (UTC+14): no later date is 'today' anywhere."""
    return (now.astimezone(UTC) + timedelta(hours=14)).date()


MAX_STAY_NIGHTS = 366
# Stays are judged within these dates: the engine counts periods a year either side of a stay,
# which must stay within the calendar Python can represent.
EARLIEST_STAY_DATE = date(2000, 1, 1)
LATEST_STAY_DATE = date(2100, 1, 1)


def coordinates_together(place: str) -> Text:
    """Why ``<place>_lat`` without ``<place>_lon`` (or the other way round) is refused."""
    return t("eligibility.coordinates_together", latitude=f"{place}_lat", longitude=f"{place}_lon")


def check_stay_dates(check_in: date, check_out: date) -> None:
    """The rules every requested stay obeys, as field-named errors for request Structs."""
    if not EARLIEST_STAY_DATE <= check_in < LATEST_STAY_DATE:
        raise InvalidField(
            "check_in",
            t("eligibility.check_in_range", earliest=EARLIEST_STAY_DATE, latest=LATEST_STAY_DATE),
        )
    if check_out <= check_in:
        raise InvalidField("check_out", t("eligibility.check_out_after_check_in"))
    if (check_out - check_in).days > MAX_STAY_NIGHTS:
        raise InvalidField("check_out", t("eligibility.stay_too_long", nights=MAX_STAY_NIGHTS))


class Stay(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Nights ``[check_in, check_out)``: the night of ``check_out`` itself is not part of it."""

    check_in: date
    check_out: date

    def __post_init__(self) -> None:
        if self.check_out <= self.check_in:
            raise InvalidField("check_out", t("eligibility.check_out_after_check_in"))

    @property
    def nights(self) -> int:
        return (self.check_out - self.check_in).days

    @property
    def last_night(self) -> date:
        return self.check_out - timedelta(days=1)

    def each_night(self) -> Iterator[date]:
        for offset in range(self.nights):
            yield self.check_in + timedelta(days=offset)


def merge_stays(stays: Iterable[Stay]) -> list[Stay]:
    """Sorted runs of nights; overlapping and back-to-back stays join into one run.

    A night booked twice is one night used, and leaving in the morning to come back the same
    evening does not break a run of consecutive nights.
    """
    runs: list[Stay] = []
    for stay in sorted(stays, key=lambda s: s.check_in):
        if runs and stay.check_in <= runs[-1].check_out:
            if stay.check_out > runs[-1].check_out:
                runs[-1] = Stay(check_in=runs[-1].check_in, check_out=stay.check_out)
        else:
            runs.append(stay)
    return runs


def age_on(birth_date: date, day: date) -> int:
    """Completed years on ``day``; someone born on 29 February turns a year older on 1 March."""
    before_birthday = (day.month, day.day) < (birth_date.month, birth_date.day)
    return day.year - birth_date.year - before_birthday


class CareRecipient(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What eligibility needs to know about the elder; no names, no identifiers."""

    sex: Sex
    birth_date: date
    living_situation: LivingSituation
    needs: frozenset[Need] = frozenset()
    pressure_injury_stage: PressureStage = 0
    home_lat: Latitude | None = None
    home_lon: Longitude | None = None

    def __post_init__(self) -> None:
        if (self.home_lat is None) != (self.home_lon is None):
            raise InvalidField("home_lat", coordinates_together("home"))


class CurrentAssessment(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The person's latest assessment result: final level and the dates it is valid on.

    ``valid_until`` is the last day the assessment is valid (inclusive). ``extension_approved``
    records an assessor's approval of extra nights where a policy allows it (AU respite).
    """

    level: Level
    assessed_on: date
    valid_until: date
    extension_approved: bool = False

    def __post_init__(self) -> None:
        if self.valid_until < self.assessed_on:
            raise InvalidField("valid_until", t("eligibility.valid_until_before_assessed_on"))


class BedProfile(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The eligibility-relevant facts of one bed; a home bed carries its facility's location."""

    kind: Programme
    sex_rule: SexRule
    capabilities: frozenset[Capability] = frozenset()
    pressure_care_stage: PressureStage = 0
    facility_lat: Latitude | None = None
    facility_lon: Longitude | None = None
    service_radius_m: RadiusMetres | None = None

    def __post_init__(self) -> None:
        located = (self.facility_lat, self.facility_lon, self.service_radius_m)
        if self.kind == "home" and None in located:
            raise InvalidField("kind", t("eligibility.home_bed_needs_location"))
        if (self.facility_lat is None) != (self.facility_lon is None):
            raise InvalidField("facility_lat", coordinates_together("facility"))


class Reason(Struct, frozen=True, kw_only=True):
    """One line of an explained decision; ``ok`` is False for each ground of refusal."""

    code: Annotated[str, Meta(description="Stable code of the rule, e.g. age or quota.")]
    ok: Annotated[bool, Meta(description="False: this rule refuses the stay.")]
    message: Text
    """What the rule found, in words, in the language the request negotiated."""
    figures: Annotated[
        dict[str, Figure], Meta(description="The numbers behind the message, by name.")
    ]


class PeriodUse(Struct, frozen=True, kw_only=True):
    """Nights counted against a quota in one period ``[start, end)``.

    ``used`` excludes the requested stay's own nights, ``requested`` counts them, and ``left`` is
    what remained before this stay (``limit - used``, never negative).
    """

    period: Annotated[str, Meta(description="The quota period's kind, e.g. calendar_year.")]
    start: Annotated[date, Meta(description="The period's first day (YYYY-MM-DD).")]
    end: Annotated[date, Meta(description="The day after the period's last (YYYY-MM-DD).")]
    limit: Annotated[int, Meta(description="Nights the quota allows in the period.")]
    used: Annotated[int, Meta(description="Nights already used, the requested stay aside.")]
    requested: Annotated[int, Meta(description="Nights of the requested stay in the period.")]
    left: Annotated[int, Meta(description="Nights that remained before this stay.")]

    @property
    def exceeded(self) -> bool:
        return self.requested > self.left


class Decision(Struct, frozen=True, kw_only=True):
    """Whether the elder may have the stay under one policy, and every reason why."""

    eligible: Annotated[bool, Meta(description="True: no rule refuses the stay.")]
    policy_code: Annotated[str, Meta(description="The policy that decided.")]
    level: (
        Annotated[int, Meta(description="The care level the decision used (null: no assessment).")]
        | None
    )
    age_at_check_in: Annotated[int, Meta(description="The elder's age in years at check-in.")]
    reasons: Annotated[list[Reason], Meta(description="Every rule checked, with its outcome.")]
    periods: Annotated[list[PeriodUse], Meta(description="The quota periods the stay falls in.")]
