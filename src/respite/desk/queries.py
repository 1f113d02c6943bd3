"""SQL of the desk: a day's arrivals and departures, bookings and elders found by the elder's
name or number, the emergency contact, the referrals placed with a facility.

Every query is scoped twice: by the facility (``$1``; the service lets staff ask only for their
own) and by the one rule of who sees an elder (``eligibility.subject``, alias ``c``, $2–$7 =
``Viewer.params``), so the desk never shows, finds or reveals an elder its staff may not see.
Other parameters start at $8.
"""

from respite.eligibility.subject import visible_recipient_clause

__all__ = [
    "ELDERS_BY_LAST4",
    "ELDERS_BY_NAME",
    "ELDERS_BY_PHONE",
    "NAMES_IN_PERIOD",
    "SEARCH_BY_LAST4",
    "SEARCH_BY_NAME",
    "SEARCH_BY_PHONE",
    "SELECT_ARRIVALS",
    "SELECT_BOOKED_BY",
    "SELECT_CONTACT",
    "SELECT_DEPARTURES",
    "SELECT_PLACED_REFERRALS",
]

_VISIBLE = visible_recipient_clause()

_ROW = """
SELECT b.id AS booking_id, b.care_recipient_id, c.name AS elder_name, b.bed_id,
       d.label AS bed_label, b.check_in, b.check_out, b.status, c.needs,
       c.emergency_contact_name, c.emergency_contact_phone_last4, r.id AS referral_id
FROM bookings b
JOIN beds d ON d.id = b.bed_id
JOIN care_recipients c ON c.id = b.care_recipient_id
LEFT JOIN referrals r ON r.booking_id = b.id
"""

# One row per stay on the day, by bed label, after ($9 label, $10 booking id) of the previous
# page, $11 rows; $8 the date asked for, or null for the facility's today at the viewer's
# instant ($6). One row of nulls but the date when nothing matches; no row without the facility.
_DAY = f"""
WITH day AS (
    SELECT f.id, coalesce($8::date, ($6::timestamptz AT TIME ZONE f.timezone)::date) AS on_date
    FROM facilities f
    WHERE f.id = $1
)
SELECT day.on_date, s.*
FROM day
LEFT JOIN LATERAL (
    {_ROW}
    WHERE b.facility_id = day.id AND b.{{column}} = day.on_date
      AND b.status IN ('confirmed', 'checked_in', 'checked_out')
      AND ($9::text IS NULL OR (d.label, b.id) > ($9::text, $10::bigint))
      AND {_VISIBLE}
    ORDER BY d.label, b.id
    LIMIT $11
) s ON true
ORDER BY s.bed_label, s.booking_id
"""
SELECT_ARRIVALS = _DAY.format(column="check_in")
SELECT_DEPARTURES = _DAY.format(column="check_out")

# Newest booking first, before booking id $9 of the previous page, $10 rows; $8 what is
# looked for: part of the name (case-insensitive), a number's last four, a number's hash.
_SEARCH = f"""
{_ROW}
WHERE b.facility_id = $1 AND {{match}} AND b.id < $9 AND {_VISIBLE}
ORDER BY b.id DESC
LIMIT $10
"""
SEARCH_BY_NAME = _SEARCH.format(match="strpos(lower(c.name), lower($8::text)) > 0")
SEARCH_BY_LAST4 = _SEARCH.format(match="c.emergency_contact_phone_last4 = $8::text")
SEARCH_BY_PHONE = _SEARCH.format(match="c.emergency_contact_phone_hash = $8::bytea")
SEARCH_BY_ELDER = _SEARCH.format(match="b.care_recipient_id = $8::bigint")

# The elder's name of each booking of the facility with a night in [$8, $9) whose elder the
# viewer sees (any status), at most $10 rows.
NAMES_IN_PERIOD = f"""
SELECT b.id AS booking_id, c.name AS elder_name
FROM bookings b
JOIN care_recipients c ON c.id = b.care_recipient_id
WHERE b.facility_id = $1 AND b.check_out > $8::date AND b.check_in < $9::date AND {_VISIBLE}
LIMIT $10
"""

# The elder's contact, and the stay at the staff's facility ($5) that lets them see it: a
# checked-in one first, then the latest. Null for an elder the facility registered itself.
SELECT_CONTACT = f"""
SELECT c.id, c.emergency_contact_name, c.emergency_contact_phone_enc,
       (SELECT s.id FROM bookings s
        WHERE s.care_recipient_id = c.id AND s.facility_id = $5
          AND s.status IN ('confirmed', 'checked_in', 'checked_out')
        ORDER BY s.status = 'checked_in' DESC, s.check_in DESC, s.id DESC
        LIMIT 1) AS booking_id
FROM care_recipients c
WHERE c.id = $1 AND {_VISIBLE}
"""

# Newest first, before referral id $8 of the previous page, $9 rows.
SELECT_PLACED_REFERRALS = f"""
SELECT r.id, r.hospital_id, h.name AS hospital_name, r.care_recipient_id, c.name AS elder_name,
       r.status, r.discharge_date, r.nights, r.booking_id, r.contact_department,
       r.contact_name, r.contact_phone_enc, r.contact_email, r.note
FROM referrals r
JOIN hospitals h ON h.id = r.hospital_id
JOIN care_recipients c ON c.id = r.care_recipient_id
WHERE r.facility_id = $1 AND r.id < $8 AND {_VISIBLE}
ORDER BY r.id DESC
LIMIT $9
"""

# Who made a booking of the facility ($2 role, $3 facility id of the viewer; an admin any): the
# booking account's role, and whether it came through a hold.
SELECT_BOOKED_BY = """
SELECT p.role, b.hold_id IS NOT NULL AS held, b.hospital_id
FROM bookings b
JOIN principals p ON p.id = b.booked_by
WHERE b.id = $1 AND ($2 = 'admin' OR b.facility_id = $3)
"""
# Elders of the facility ($1: registered there, or with a stay there) whom the viewer sees,
# by name then id, $9 rows; $8 what is looked for (as the booking searches above). The
# candidates come from the facility's own rows first, so a search never scans every elder.
_ELDERS = f"""
WITH here AS (
    SELECT id FROM care_recipients WHERE facility_id = $1
    UNION
    SELECT care_recipient_id FROM bookings WHERE facility_id = $1
)
SELECT c.id, c.name, c.sex, c.birth_date, c.needs, c.emergency_contact_name,
       c.emergency_contact_phone_last4, c.facility_id IS NOT DISTINCT FROM $1 AS registered_here,
       a.level
FROM here
JOIN care_recipients c ON c.id = here.id
LEFT JOIN LATERAL (
    SELECT level FROM assessments
    WHERE care_recipient_id = c.id
    ORDER BY assessed_on DESC, id DESC
    LIMIT 1
) a ON true
WHERE {{match}} AND {_VISIBLE}
ORDER BY c.name, c.id
LIMIT $9
"""
ELDERS_BY_NAME = _ELDERS.format(match="strpos(lower(c.name), lower($8::text)) > 0")
ELDERS_BY_LAST4 = _ELDERS.format(match="c.emergency_contact_phone_last4 = $8::text")
ELDERS_BY_PHONE = _ELDERS.format(match="c.emergency_contact_phone_hash = $8::bytea")
