"""Beds as a hold or a booking judges them: loaded with their policy in one query, then
decided for an elder by the pure engine.

Every path that judges a bed (a hold of one bed, a hold anywhere in a facility, ``book()``)
loads the same things with a fixed number of queries — the bed or beds with the facility's
timezone and the policy in force on check-in, the elder as the principal sees them, the nights
they have used — and decides each bed in Python. "Today" is the facility's local date, from the
timezone on the bed's own row.
"""

from __future__ import annotations

from datetime import date, datetime

import msgspec

from respite.booking import queries as q
from respite.clock import local_today
from respite.db import Conn
from respite.eligibility.decision import decide
from respite.eligibility.model import Programme, Stay
from respite.eligibility.service import Checked, JudgedBed, judged_bed
from respite.eligibility.subject import Subject, Viewer, load_subject, used_stays
from respite.errors import NotFoundError

__all__ = [
    "Elder",
    "FreeBed",
    "free_beds",
    "judge",
    "load_bed",
    "load_elder",
]


class FreeBed(msgspec.Struct, frozen=True, kw_only=True):
    """A free bed of a facility, with the claims around the stay: the night before, after."""

    bed: JudgedBed
    previous_claim: date | None
    next_claim: date | None


class Elder(msgspec.Struct, frozen=True, kw_only=True):
    """The elder as the principal sees them, and the stays counted against their quotas."""

    subject: Subject
    used: list[Stay]


async def load_bed(conn: Conn, bed_id: int, check_in: date, *, lock: bool) -> JudgedBed:
    """The bed with its policy in force on ``check_in``; with ``lock``, share-locked until
    the transaction ends. NotFoundError for an unknown, retired or inactive bed."""
    query = q.SELECT_BED_TO_BOOK if lock else q.SELECT_BED_TO_HOLD
    row = await conn.fetchrow(query, bed_id, check_in)
    if row is None:
        raise NotFoundError("bed", bed_id)
    return judged_bed(row, check_in)


async def free_beds(
    conn: Conn, facility_id: int, kind: Programme, check_in: date, check_out: date
) -> list[FreeBed]:
    """Every free bed of ``kind`` in the facility for the stay, in one query.

    NotFoundError for an unknown or inactive facility; an empty list when no bed is free.
    """
    rows = await conn.fetch(q.SELECT_FREE_BEDS, facility_id, check_in, check_out, kind)
    if not rows:
        raise NotFoundError("facility", facility_id)
    if rows[0]["id"] is None:
        return []
    return [
        FreeBed(
            bed=judged_bed(r, check_in),
            previous_claim=r["previous_claim"],
            next_claim=r["next_claim"],
        )
        for r in rows
    ]


async def load_elder(
    conn: Conn,
    viewer: Viewer,
    care_recipient_id: int,
    kind: Programme,
    facility_id: int,
    *,
    excluding_booking: int | None = None,
) -> Elder:
    """The elder to stay in a bed of ``kind`` at ``facility_id``, in two queries; the stays
    counted against their quotas leave out ``excluding_booking`` (a stay being changed).

    NotFoundError for a care recipient the viewer does not see, or whom they may not place
    there (staff hold and book only at their own facility)."""
    subject = await load_subject(conn, viewer, care_recipient_id, at_facility=facility_id)
    used = await used_stays(conn, care_recipient_id, kind, excluding_booking=excluding_booking)
    return Elder(subject=subject, used=used)


def judge(bed: JudgedBed, elder: Elder, stay: Stay, now: datetime) -> Checked:
    """The decision for ``elder`` on ``bed`` on the facility's local date at ``now``. Pure."""
    today = local_today(bed.facts.timezone, now)
    decision = decide(
        bed.policy.policy,
        elder.subject.person,
        elder.subject.assessment,
        bed.profile,
        stay,
        elder.used,
        today,
    )
    return Checked(decision=decision, policy=bed.policy, subject=elder.subject, bed=bed.facts)
