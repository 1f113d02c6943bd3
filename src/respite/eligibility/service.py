"""Use cases of eligibility: the decision for a bed, or for each programme, for one elder.

Every check loads with a fixed number of queries (the bed with its facility's policy, the elder
as the principal sees them, the nights they have used) and then calls the pure engine. The
policy applied is the version of the facility's policy in force on check-in; a booking records
that version, so publishing a new one never rewrites an old decision.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import asyncpg
import msgspec
from msgspec import Meta

from respite.auth.model import Principal
from respite.db import Conn, Pool
from respite.eligibility import queries as q
from respite.eligibility.decision import decide, programme_decision
from respite.eligibility.model import BedProfile, Decision, Programme, Stay, check_stay_dates
from respite.eligibility.policy import Policy
from respite.eligibility.store import StoredPolicy
from respite.eligibility.subject import Subject, load_subject, used_stays
from respite.errors import ConflictError, NotFoundError

__all__ = [
    "DEFAULT_POLICY_CODES",
    "DEFAULT_TIMEZONE",
    "BedFacts",
    "Checked",
    "EligibilityAnswer",
    "EligibilityQuery",
    "PolicyRef",
    "ProgrammeResult",
    "check_bed",
    "check_eligibility",
    "local_today",
]

# Without a facility, programmes are judged by the default policies of DESIGN §5, in the
# timezone of the schema's default facility.
DEFAULT_POLICY_CODES: dict[Programme, str] = {"respite": "cn-respite", "home": "cn-home-bed"}
DEFAULT_TIMEZONE = "Asia/Shanghai"


class BedFacts(msgspec.Struct, frozen=True, kw_only=True):
    bed_id: int
    facility_id: int
    kind: Programme
    nightly_price: int
    label: str
    timezone: str


class Checked(msgspec.Struct, frozen=True, kw_only=True):
    """A bed decision with everything it rested on, for a hold or a booking to record."""

    decision: Decision
    policy: StoredPolicy
    subject: Subject
    bed: BedFacts


class _LoadedBed(msgspec.Struct, frozen=True, kw_only=True):
    facts: BedFacts
    profile: BedProfile
    policy: StoredPolicy


def local_today(timezone: str, now: datetime) -> date:
    """The calendar date at ``now`` in a facility's timezone (an unknown zone counts as UTC)."""
    try:
        zone: Any = ZoneInfo(timezone)
    except (KeyError, ValueError):
        zone = UTC
    return now.astimezone(zone).date()


def _stored_policy(row: asyncpg.Record, code: str, on: date) -> StoredPolicy:
    if row["policy_id"] is None:
        # A facility linked to a code nobody published, or published only for later dates:
        # the operator's data is incomplete, not the request.
        raise ConflictError(
            f"no version of policy {code!r} is in force on {on.isoformat()}",
            policy_code=code,
        )
    return StoredPolicy(
        id=row["policy_id"],
        version=row["version"],
        effective_from=row["effective_from"],
        policy=msgspec.json.decode(row["document"], type=Policy),
    )


async def _load_bed(conn: Conn, bed_id: int, check_in: date) -> _LoadedBed:
    row = await conn.fetchrow(q.SELECT_BED_WITH_POLICY, bed_id, check_in)
    if row is None:
        raise NotFoundError("bed", bed_id)
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
    return _LoadedBed(facts=facts, profile=profile, policy=policy)


async def _decide_bed(
    conn: Conn,
    principal: Principal,
    care_recipient_id: int,
    loaded: _LoadedBed,
    stay: Stay,
    today: date,
    excluding_booking: int | None,
) -> Checked:
    subject = await load_subject(conn, principal, care_recipient_id)
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
    principal: Principal,
    care_recipient_id: int,
    bed_id: int,
    stay: Stay,
    today: date,
    *,
    excluding_booking: int | None = None,
) -> Checked:
    """The decision for one bed under its facility's policy in force on check-in.

    Three queries. Raises NotFoundError for a care recipient the principal may not see, or for
    an unknown, retired or inactive bed; ConflictError when the facility's policy has no
    version in force on check-in. ``excluding_booking`` leaves a booking's own nights out of
    the nights used (when re-checking a booking being changed).
    """
    loaded = await _load_bed(conn, bed_id, stay.check_in)
    return await _decide_bed(
        conn, principal, care_recipient_id, loaded, stay, today, excluding_booking
    )


MAX_ID = 2**63 - 1
Id = Annotated[int, Meta(ge=1, le=MAX_ID)]


class EligibilityQuery(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """With ``bed_id``: the decision for that bed. Without: whether the elder qualifies for each
    programme, under ``facility_id``'s policies or, without it, the default ones."""

    care_recipient_id: Id
    check_in: date
    check_out: date
    bed_id: Id | None = None
    facility_id: Id | None = None

    def __post_init__(self) -> None:
        check_stay_dates(self.check_in, self.check_out)
        if self.bed_id is not None and self.facility_id is not None:
            raise ValueError("facility_id: give bed_id or facility_id, not both")

    @property
    def stay(self) -> Stay:
        return Stay(check_in=self.check_in, check_out=self.check_out)


class PolicyRef(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    code: str
    version: int
    effective_from: date

    @classmethod
    def of(cls, stored: StoredPolicy) -> PolicyRef:
        return cls(
            id=stored.id,
            code=stored.policy.code,
            version=stored.version,
            effective_from=stored.effective_from,
        )


class ProgrammeResult(msgspec.Struct, frozen=True, kw_only=True):
    programme: Programme
    policy: PolicyRef
    decision: Decision


class EligibilityAnswer(msgspec.Struct, frozen=True, kw_only=True):
    care_recipient_id: int
    check_in: date
    check_out: date
    today: date
    """The date the decision was made on, in the facility's timezone."""
    bed: BedFacts | None
    results: list[ProgrammeResult]
    """One result for a bed; otherwise one per programme, respite first."""


async def check_eligibility(
    pool: Pool, principal: Principal, query: EligibilityQuery, now: datetime
) -> EligibilityAnswer:
    """Answer POST /v1/eligibility from one consistent snapshot of the database."""
    stay = query.stay
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        if query.bed_id is not None:
            loaded = await _load_bed(conn, query.bed_id, stay.check_in)
            today = local_today(loaded.facts.timezone, now)
            checked = await _decide_bed(
                conn, principal, query.care_recipient_id, loaded, stay, today, None
            )
            result = ProgrammeResult(
                programme=checked.bed.kind,
                policy=PolicyRef.of(checked.policy),
                decision=checked.decision,
            )
            return _answer(query, today, checked.bed, [result])
        rows = await conn.fetch(
            q.SELECT_FACILITY_POLICIES,
            query.facility_id,
            stay.check_in,
            DEFAULT_POLICY_CODES["respite"],
            DEFAULT_POLICY_CODES["home"],
        )
        if not rows:
            raise NotFoundError("facility", query.facility_id)
        today = local_today(rows[0]["timezone"] or DEFAULT_TIMEZONE, now)
        subject = await load_subject(conn, principal, query.care_recipient_id)
        results = [
            await _programme_result(conn, subject, row, stay, today)
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
        programme=row["programme"], policy=PolicyRef.of(stored), decision=decision
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
