"""Load what the engine needs about one elder, as seen by one principal.

Used by every caller of the engine (the eligibility API, availability search, holds, walk-ins)
so that they all see the same person, the same assessment and the same nights used. A care
recipient that is not the principal's is reported exactly like one that does not exist.
"""

from __future__ import annotations

import msgspec

from respite.auth.model import Principal
from respite.db import Conn
from respite.eligibility.model import CareRecipient, CurrentAssessment, Programme, Stay
from respite.errors import NotFoundError

__all__ = ["Subject", "load_subject", "principal_params", "used_stays", "visible_recipient_clause"]

# Which care recipients a principal may see: a family its own, a hospital its patients, staff
# their walk-ins and anyone booked at their facility, an admin everyone. Parameters: $2 role,
# $3 principal id, $4 hospital id, $5 facility id.
VISIBLE_RECIPIENT = """
    ($2 = 'admin'
     OR ($2 = 'family' AND c.family_id = $3)
     OR ($2 = 'hospital' AND c.hospital_id = $4)
     OR ($2 = 'staff' AND (c.facility_id = $5 OR EXISTS (
            SELECT 1 FROM bookings b WHERE b.care_recipient_id = c.id AND b.facility_id = $5))))
"""

SELECT_SUBJECT = f"""
SELECT c.id, c.name, c.sex, c.birth_date, c.living_situation, c.needs, c.pressure_injury_stage,
       c.home_lat, c.home_lon,
       a.level, a.assessed_on, a.valid_until, a.extension_approved
FROM care_recipients c
LEFT JOIN LATERAL (
    SELECT level, assessed_on, valid_until, extension_approved FROM assessments
    WHERE care_recipient_id = c.id
    ORDER BY assessed_on DESC, id DESC
    LIMIT 1
) a ON true
WHERE c.id = $1 AND {VISIBLE_RECIPIENT}
"""

# Nights that count against a quota: every booking that was not cancelled and not a no-show.
SELECT_USED_STAYS = """
SELECT b.check_in, b.check_out
FROM bookings b JOIN beds d ON d.id = b.bed_id
WHERE b.care_recipient_id = $1 AND d.kind = $2
  AND b.status IN ('confirmed', 'checked_in', 'checked_out')
  AND ($3::bigint IS NULL OR b.id <> $3)
ORDER BY b.check_in
"""


class Subject(msgspec.Struct, frozen=True, kw_only=True):
    care_recipient_id: int
    name: str
    person: CareRecipient
    assessment: CurrentAssessment | None


def visible_recipient_clause() -> str:
    """The SQL condition (alias ``c``, parameters $2–$5) that scopes care recipients."""
    return VISIBLE_RECIPIENT


def principal_params(principal: Principal) -> tuple[str, int, int | None, int | None]:
    return (principal.role, principal.id, principal.hospital_id, principal.facility_id)


async def load_subject(conn: Conn, principal: Principal, care_recipient_id: int) -> Subject:
    row = await conn.fetchrow(SELECT_SUBJECT, care_recipient_id, *principal_params(principal))
    if row is None:
        raise NotFoundError("care recipient", care_recipient_id)
    person = CareRecipient(
        sex=row["sex"],
        birth_date=row["birth_date"],
        living_situation=row["living_situation"],
        needs=frozenset(row["needs"]),
        pressure_injury_stage=row["pressure_injury_stage"],
        home_lat=row["home_lat"],
        home_lon=row["home_lon"],
    )
    assessment = None
    if row["level"] is not None:
        assessment = CurrentAssessment(
            level=row["level"],
            assessed_on=row["assessed_on"],
            valid_until=row["valid_until"],
            extension_approved=row["extension_approved"],
        )
    return Subject(
        care_recipient_id=row["id"], name=row["name"], person=person, assessment=assessment
    )


async def used_stays(
    conn: Conn,
    care_recipient_id: int,
    programme: Programme,
    *,
    excluding_booking: int | None = None,
) -> list[Stay]:
    rows = await conn.fetch(SELECT_USED_STAYS, care_recipient_id, programme, excluding_booking)
    return [Stay(check_in=r["check_in"], check_out=r["check_out"]) for r in rows]
