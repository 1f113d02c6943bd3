"""Who sees which care recipients, and what the engine needs about one elder as they see it.

The one rule of who sees an elder (DESIGN.md §4, invariant 5) is ``VISIBLE_RECIPIENT``. Every
query that reads or changes care recipients is scoped by it (``recipients.queries`` and the
subject below), with the parameters of ``Viewer.params``:

- an admin sees every elder, a family the elders it registered, a hospital its patients;
- staff see an elder their facility registered, and an elder with a stay at their facility
  that is live — checked in, or confirmed and not yet over — or that ended at most
  ``staff_recent_stay_days`` (a setting) ago: a confirmed or checked-out stay counts until
  that many days after its check-out date, by the facility's local date at the viewer's
  instant (``deps.clock``, never the database's clock). A cancelled booking or a no-show
  shows no one; a confirmed stay nobody checked in stops showing the elder like an ended one.

Staff act for an elder only at their own facility: a hold or a booking by staff on another
facility's bed does not find the elder (``load_subject(..., at_facility=...)``). Used by every
caller of the engine (the eligibility API, availability search, holds, bookings, referrals) so
that they all see the same person, the same assessment and the same nights used. A care
recipient that is not the principal's is reported exactly like one that does not exist.
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from respite.auth.model import Principal
from respite.db import Conn
from respite.eligibility.model import CareRecipient, CurrentAssessment, Programme, Stay
from respite.errors import NotFoundError
from respite.settings import Settings

__all__ = [
    "Subject",
    "Viewer",
    "load_subject",
    "principal_params",
    "used_stays",
    "visible_recipient_clause",
]

# Parameters: $2 role, $3 principal id, $4 hospital id, $5 facility id, $6 the viewer's instant,
# $7 staff_recent_stay_days. A stay's facility judges "recent" by its own local date.
VISIBLE_RECIPIENT = """
    ($2 = 'admin'
     OR ($2 = 'family' AND c.family_id = $3)
     OR ($2 = 'hospital' AND c.hospital_id = $4)
     OR ($2 = 'staff' AND (c.facility_id = $5 OR EXISTS (
            SELECT 1 FROM bookings s JOIN facilities sf ON sf.id = s.facility_id
            WHERE s.care_recipient_id = c.id AND s.facility_id = $5
              AND (s.status = 'checked_in'
                   OR (s.status IN ('confirmed', 'checked_out')
                       AND s.check_out >= ($6::timestamptz AT TIME ZONE sf.timezone)::date
                                          - $7::int))))))
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


class Viewer(msgspec.Struct, frozen=True, kw_only=True):
    """A principal looking at care recipients at an instant: what staff see changes with the
    day (the rule is ``VISIBLE_RECIPIENT``)."""

    principal: Principal
    now: datetime
    staff_recent_stay_days: int

    @classmethod
    def of(cls, principal: Principal, now: datetime, settings: Settings) -> Viewer:
        return cls(
            principal=principal, now=now, staff_recent_stay_days=settings.staff_recent_stay_days
        )

    def params(self) -> tuple[str, int, int | None, int | None, datetime, int]:
        """$2–$7 of ``VISIBLE_RECIPIENT``."""
        return (*principal_params(self.principal), self.now, self.staff_recent_stay_days)

    def acts_at(self, facility_id: int) -> bool:
        """Whether the principal may hold or book an elder at the facility: staff only at
        their own, everyone else anywhere (what they may see decides the rest)."""
        return self.principal.role != "staff" or self.principal.facility_id == facility_id


class Subject(msgspec.Struct, frozen=True, kw_only=True):
    care_recipient_id: int
    name: str
    person: CareRecipient
    assessment: CurrentAssessment | None


def visible_recipient_clause() -> str:
    """The SQL condition (alias ``c``, parameters $2–$7 of ``Viewer.params``) that scopes
    care recipients."""
    return VISIBLE_RECIPIENT


def principal_params(principal: Principal) -> tuple[str, int, int | None, int | None]:
    """The principal's role and tenant ids: how every principal-scoped query starts."""
    return (principal.role, principal.id, principal.hospital_id, principal.facility_id)


async def load_subject(
    conn: Conn, viewer: Viewer, care_recipient_id: int, *, at_facility: int | None = None
) -> Subject:
    """The elder as ``viewer`` sees them; with ``at_facility``, for a hold or a booking there.

    NotFoundError for an elder the viewer does not see, or (staff) not at their facility."""
    if at_facility is not None and not viewer.acts_at(at_facility):
        raise NotFoundError("care recipient", care_recipient_id)
    row = await conn.fetchrow(SELECT_SUBJECT, care_recipient_id, *viewer.params())
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
