"""Use cases of eligibility: the decision for a bed, or for each programme, for one elder.

Every check loads with a fixed number of queries (the bed with its facility's policy, the elder
as the principal sees them, the nights they have used) and then calls the pure engine. The
policy applied is the version of the facility's policy in force on check-in; a booking records
that version, so publishing a new one never rewrites an old decision. "Today" is the
facility's local date; without a facility, the date in ``DEFAULT_TIMEZONE``.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated

import asyncpg
import msgspec
from msgspec import Meta

from respite.auth.model import Principal
from respite.clock import local_today
from respite.db import Conn
from respite.eligibility import queries as q
from respite.eligibility.decision import decide, programme_decision
from respite.eligibility.errors import NoPolicyInForceError
from respite.eligibility.model import (
    DEFAULT_TIMEZONE,
    BedKind,
    BedProfile,
    Decision,
    Programme,
    Stay,
    check_stay_dates,
)
from respite.eligibility.policy import Policy
from respite.eligibility.store import StoredPolicy
from respite.eligibility.subject import Subject, Viewer, load_subject, used_stays
from respite.errors import NotFoundError
from respite.i18n import InvalidField, t
from respite.vocabulary import BedId, CareRecipientId, CheckIn, CheckOut, FacilityId, NightlyPrice

if TYPE_CHECKING:
    from respite.deps import Deps

__all__ = [
    "DEFAULT_POLICY_CODES",
    "BedFacts",
    "Checked",
    "EligibilityAnswer",
    "EligibilityQuery",
    "JudgedBed",
    "PolicyApplied",
    "ProgrammeResult",
    "check_bed",
    "check_eligibility",
    "judged_bed",
]

# Without a facility, programmes are judged by the default policies of the design (§5).
DEFAULT_POLICY_CODES: dict[Programme, str] = {"respite": "cn-respite", "home": "cn-home-bed"}


class BedFacts(msgspec.Struct, frozen=True, kw_only=True):
    """The bed a decision was made for."""

    bed_id: BedId
    facility_id: FacilityId
    kind: BedKind
    nightly_price: NightlyPrice
    label: Annotated[str, Meta(description="The bed's label in its facility.")]
    timezone: Annotated[str, Meta(description="The facility's time zone: whose today counts.")]


class Checked(msgspec.Struct, frozen=True, kw_only=True):
    """A bed decision with everything it rested on, for a hold or a booking to record."""

    decision: Decision
    policy: StoredPolicy
    subject: Subject
    bed: BedFacts


class JudgedBed(msgspec.Struct, frozen=True, kw_only=True):
    """A bed with everything its decision rests on."""

    facts: BedFacts
    profile: BedProfile
    policy: StoredPolicy


def _stored_policy(row: asyncpg.Record, code: str, on: date) -> StoredPolicy:
    if row["policy_id"] is None:
        # A facility linked to a code nobody published, or published only for later dates.
        raise NoPolicyInForceError(policy_code=code, on=on)
    return StoredPolicy(
        id=row["policy_id"],
        version=row["version"],
        effective_from=row["effective_from"],
        policy=msgspec.json.decode(row["document"], type=Policy),
    )


def judged_bed(row: asyncpg.Record, check_in: date) -> JudgedBed:
    """A bed row with its facility (``lat``, ``lon``, ``service_radius_m``, ``timezone``) and
    its policy in force on ``check_in`` (``policy_id``, ``version``, ``effective_from``,
    ``document``, ``policy_code``); NoPolicyInForceError when there is none."""
    facts = BedFacts(
        bed_id=row["id"],
        facility_id=row["facility_id"],
        kind=row["kind"],
        nightly_price=row["nightly_price"],
        label=row["label"],
        timezone=row["timezone"],
    )
    profile = BedProfile(
        kind=row["kind"],
        sex_rule=row["sex_rule"],
        capabilities=frozenset(row["capabilities"]),
        pressure_care_stage=row["pressure_care_stage"],
        facility_lat=row["lat"],
        facility_lon=row["lon"],
        service_radius_m=float(row["service_radius_m"]),
    )
    policy = _stored_policy(row, row["policy_code"], check_in)
    return JudgedBed(facts=facts, profile=profile, policy=policy)


async def _load_bed(conn: Conn, bed_id: int, check_in: date) -> JudgedBed:
    row = await conn.fetchrow(q.SELECT_BED_WITH_POLICY, bed_id, check_in)
    if row is None:
        raise NotFoundError("bed", bed_id)
    return judged_bed(row, check_in)


async def _decide_bed(
    conn: Conn,
    viewer: Viewer,
    care_recipient_id: int,
    loaded: JudgedBed,
    stay: Stay,
    today: date,
    excluding_booking: int | None,
) -> Checked:
    subject = await load_subject(conn, viewer, care_recipient_id)
    used = await used_stays(
        conn, care_recipient_id, loaded.facts.kind, excluding_booking=excluding_booking
    )
    decision = decide(
        loaded.policy.policy,
        subject.person,
        subject.assessment,
        loaded.profile,
        stay,
        used,
        today,
    )
    return Checked(decision=decision, policy=loaded.policy, subject=subject, bed=loaded.facts)


async def check_bed(
    conn: Conn,
    viewer: Viewer,
    care_recipient_id: int,
    bed_id: int,
    stay: Stay,
    today: date,
    *,
    excluding_booking: int | None = None,
) -> Checked:
    """The decision for one bed under its facility's policy in force on check-in.

    Three queries. Raises NotFoundError for a care recipient the viewer does not see, or for
    an unknown, retired or inactive bed; NoPolicyInForceError when the facility's policy has no
    version in force on check-in. ``today`` is the facility's date the decision is made on.
    ``excluding_booking`` leaves a booking's own nights out of the nights used (when
    re-checking a booking being changed).
    """
    loaded = await _load_bed(conn, bed_id, stay.check_in)
    return await _decide_bed(
        conn, viewer, care_recipient_id, loaded, stay, today, excluding_booking
    )


class EligibilityQuery(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """With ``bed_id``: the decision for that bed. Without: whether the elder qualifies for each
    programme, under ``facility_id``'s policies or, without it, the default ones."""

    care_recipient_id: Annotated[CareRecipientId, Meta(description="The elder to decide for.")]
    check_in: CheckIn
    check_out: CheckOut
    bed_id: Annotated[BedId, Meta(description="Decide for this bed.")] | None = None
    facility_id: (
        Annotated[FacilityId, Meta(description="Without bed_id: use this facility's policies.")]
        | None
    ) = None

    def __post_init__(self) -> None:
        check_stay_dates(self.check_in, self.check_out)
        if self.bed_id is not None and self.facility_id is not None:
            raise InvalidField("facility_id", t("eligibility.bed_or_facility"))

    @property
    def stay(self) -> Stay:
        return Stay(check_in=self.check_in, check_out=self.check_out)


class PolicyApplied(msgspec.Struct, frozen=True, kw_only=True):
    """The policy version a decision was made under."""

    id: Annotated[int, Meta(description="The id of the policy version.")]
    code: Annotated[str, Meta(description="The policy's code.")]
    version: Annotated[int, Meta(description="Its version.")]
    effective_from: Annotated[date, Meta(description="The first day that version applies.")]

    @classmethod
    def of(cls, stored: StoredPolicy) -> PolicyApplied:
        return cls(
            id=stored.id,
            code=stored.policy.code,
            version=stored.version,
            effective_from=stored.effective_from,
        )


class ProgrammeResult(msgspec.Struct, frozen=True, kw_only=True):
    """The decision for one programme (or one bed) under one policy."""

    programme: BedKind
    policy: Annotated[PolicyApplied, Meta(description="The policy version that decided.")]
    decision: Annotated[Decision, Meta(description="The decision and every reason.")]


class EligibilityAnswer(msgspec.Struct, frozen=True, kw_only=True):
    """Whether the elder may have the stay, explained."""

    care_recipient_id: CareRecipientId
    check_in: CheckIn
    check_out: CheckOut
    today: Annotated[
        date, Meta(description="The date the decision was made on, in the facility's calendar.")
    ]
    bed: Annotated[BedFacts, Meta(description="The bed decided for, if one was named.")] | None
    results: Annotated[
        list[ProgrammeResult],
        Meta(description="One result for a bed; otherwise one per programme, respite first."),
    ]


async def check_eligibility(
    deps: Deps, principal: Principal, query: EligibilityQuery
) -> EligibilityAnswer:
    """Answer POST /v1/eligibility from one consistent snapshot of the database."""
    viewer = Viewer.of(principal, deps.clock.now(), deps.settings)
    async with (
        deps.pool.acquire() as conn,
        conn.transaction(isolation="repeatable_read", readonly=True),
    ):
        if query.bed_id is not None:
            return await _for_bed(conn, viewer, query, query.bed_id)
        return await _for_programmes(conn, viewer, query)


async def _for_bed(
    conn: Conn, viewer: Viewer, query: EligibilityQuery, bed_id: int
) -> EligibilityAnswer:
    loaded = await _load_bed(conn, bed_id, query.check_in)
    today = local_today(loaded.facts.timezone, viewer.now)
    checked = await _decide_bed(
        conn, viewer, query.care_recipient_id, loaded, query.stay, today, None
    )
    result = ProgrammeResult(
        programme=checked.bed.kind,
        policy=PolicyApplied.of(checked.policy),
        decision=checked.decision,
    )
    return _answer(query, today, checked.bed, [result])


async def _for_programmes(conn: Conn, viewer: Viewer, query: EligibilityQuery) -> EligibilityAnswer:
    """Under the policies of ``query.facility_id`` in its timezone, or without a facility
    under the default policies in the default timezone."""
    rows = await conn.fetch(
        q.SELECT_FACILITY_POLICIES,
        query.facility_id,
        query.check_in,
        DEFAULT_POLICY_CODES["respite"],
        DEFAULT_POLICY_CODES["home"],
    )
    if not rows:
        raise NotFoundError("facility", query.facility_id)
    today = local_today(rows[0]["timezone"] or DEFAULT_TIMEZONE, viewer.now)
    subject = await load_subject(conn, viewer, query.care_recipient_id)
    results = [
        await _programme_result(conn, subject, row, query.stay, today)
        for row in sorted(rows, key=lambda r: r["programme"] != "respite")
    ]
    return _answer(query, today, None, results)


async def _programme_result(
    conn: Conn, subject: Subject, row: asyncpg.Record, stay: Stay, today: date
) -> ProgrammeResult:
    stored = _stored_policy(row, row["code"], stay.check_in)
    used = await used_stays(conn, subject.care_recipient_id, row["programme"])
    decision = programme_decision(
        stored.policy, subject.person, subject.assessment, stay, used, today
    )
    return ProgrammeResult(
        programme=row["programme"], policy=PolicyApplied.of(stored), decision=decision
    )


def _answer(
    query: EligibilityQuery, today: date, bed: BedFacts | None, results: list[ProgrammeResult]
) -> EligibilityAnswer:
    return EligibilityAnswer(
        care_recipient_id=query.care_recipient_id,
        check_in=query.check_in,
        check_out=query.check_out,
        today=today,
        bed=bed,
        results=results,
    )
