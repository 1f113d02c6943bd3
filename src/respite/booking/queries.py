"""SQL of bookings, their life cycle, and the beds they are judged on.

Every read of bookings is scoped by the principal with the same four leading parameters (``$1``
role, ``$2`` principal id, ``$3`` hospital id, ``$4`` facility id), so a booking another tenant
cannot see is found exactly like one that does not exist.
"""

__all__ = [
    "APPLY_TRANSITION",
    "CHANGE_STAY",
    "INSERT_BOOKING",
    "LIST_VISIBLE_BOOKINGS",
    "LOCK_RECIPIENT",
    "LOCK_VISIBLE_BOOKING",
    "SELECT_BED_TO_BOOK",
    "SELECT_BED_TO_HOLD",
    "SELECT_BOOKING",
    "SELECT_FREE_BEDS",
    "SELECT_VISIBLE_BOOKING",
    "SELECT_WALK_IN_PLACE",
]

# The version of a policy code in force on a date: the latest effective_from on or before it,
# and of two versions effective the same day, the later published (as eligibility decides it).
_POLICY_IN_FORCE = """
    SELECT id, version, effective_from, document::text AS document
    FROM policies
    WHERE code = {code} AND effective_from <= {on}
    ORDER BY effective_from DESC, version DESC
    LIMIT 1
"""

# What judging a bed needs, with the facility's timezone for its "today"; alias b is the bed
# (or the free bed of a facility), f its facility, p the policy in force on check-in.
_BED_COLUMNS = """
       b.id, f.id AS facility_id, b.kind, b.label, b.sex_rule, b.capabilities,
       b.pressure_care_stage, b.nightly_price, f.lat, f.lon, f.service_radius_m, f.timezone,
       {code} AS policy_code, p.id AS policy_id, p.version, p.effective_from, p.document
"""
_CODE_OF_KIND = "CASE {kind} WHEN 'home' THEN f.home_policy_code ELSE f.respite_policy_code END"
_BED_CODE = _CODE_OF_KIND.format(kind="b.kind")

# A retired bed, an inactive bed or a bed of an inactive facility cannot be booked: it is
# reported as not found. $1 bed id, $2 check-in.
SELECT_BED_TO_HOLD = f"""
SELECT {_BED_COLUMNS.format(code=_BED_CODE)}
FROM beds b
JOIN facilities f ON f.id = b.facility_id
LEFT JOIN LATERAL ({_POLICY_IN_FORCE.format(code=_BED_CODE, on="$2")}) p ON true
WHERE b.id = $1 AND b.retired_at IS NULL AND b.active AND f.active
"""

# The same under a share lock on the bed: retiring or changing it waits for the booking's
# commit (and the booking waits for theirs), so no booking lands on a bed just retired.
SELECT_BED_TO_BOOK = SELECT_BED_TO_HOLD.rstrip() + "\nFOR SHARE OF b\n"

# The free beds of one kind in facility $1 for [$2, $3), each with the last claimed night
# before the stay and the first one after it (two probes of the bed_nights key per bed), with
# what judging them needs; the policy is looked up once, for the facility. One row with a null
# id when the facility has no free bed; no row when there is no such active facility.
_FACILITY_CODE = _CODE_OF_KIND.format(kind="$4::text")
SELECT_FREE_BEDS = f"""
SELECT {_BED_COLUMNS.format(code=_FACILITY_CODE)},
       b.previous_claim, b.next_claim
FROM facilities f
LEFT JOIN LATERAL ({_POLICY_IN_FORCE.format(code=_FACILITY_CODE, on="$2")}) p ON true
LEFT JOIN LATERAL (
    SELECT d.id, d.kind, d.label, d.sex_rule, d.capabilities, d.pressure_care_stage,
           d.nightly_price,
           (SELECT max(n.night) FROM bed_nights n
            WHERE n.bed_id = d.id AND n.night < $2) AS previous_claim,
           (SELECT min(n.night) FROM bed_nights n
            WHERE n.bed_id = d.id AND n.night >= $3) AS next_claim
    FROM beds d
    WHERE d.facility_id = f.id AND d.kind = $4::text AND d.active AND d.retired_at IS NULL
      AND NOT EXISTS (
          SELECT 1 FROM bed_nights n WHERE n.bed_id = d.id AND n.night >= $2 AND n.night < $3)
) b ON true
WHERE f.id = $1 AND f.active
"""

# Staff see their facility's bookings, a hospital those it made, a family those of its own
# care recipients, an admin every booking.
_VISIBLE = """
    ($1 = 'admin'
     OR ($1 = 'staff' AND b.facility_id = $4)
     OR ($1 = 'hospital' AND b.hospital_id = $3)
     OR ($1 = 'family' AND c.family_id = $2))
"""

_BOOKING_COLUMNS = """
SELECT b.id, b.bed_id, d.label AS bed_label, b.facility_id, f.name AS facility_name,
       f.address AS facility_address, f.phone AS facility_phone, b.care_recipient_id,
       b.check_in, b.check_out, b.status, b.nightly_price, b.total_price, f.currency,
       p.code AS policy_code, p.version AS policy_version, b.override_reason, b.overrides,
       b.hold_id, b.hospital_id, b.booked_by, b.created_at, b.updated_at, b.checked_in_at,
       b.checked_out_at, b.cancelled_at, b.cancel_reason
"""

_BOOKING_FROM = """
FROM bookings b
JOIN beds d ON d.id = b.bed_id
JOIN facilities f ON f.id = b.facility_id
JOIN care_recipients c ON c.id = b.care_recipient_id
LEFT JOIN policies p ON p.id = b.policy_id
"""

_BOOKING_VIEW = _BOOKING_COLUMNS + _BOOKING_FROM

# Unscoped: only for a booking the caller has just written or already locked as visible.
SELECT_BOOKING = _BOOKING_VIEW + "WHERE b.id = $1"

SELECT_VISIBLE_BOOKING = _BOOKING_VIEW + f"WHERE {_VISIBLE} AND b.id = $5"

LIST_VISIBLE_BOOKINGS = (
    _BOOKING_VIEW
    + f"""WHERE {_VISIBLE}
  AND ($5::text IS NULL OR b.status = $5)
  AND ($6::bigint IS NULL OR b.facility_id = $6)
  AND ($7::date IS NULL OR b.check_out > $7)
  AND ($8::date IS NULL OR b.check_in < $8)
  AND b.id > $9
ORDER BY b.id
LIMIT $10
"""
)

# Two transitions of one booking serialise on this row lock; the second sees the first's
# outcome and is judged against it.
LOCK_VISIBLE_BOOKING = (
    _BOOKING_COLUMNS.rstrip()
    + ", f.timezone"
    + _BOOKING_FROM
    + f"""WHERE {_VISIBLE} AND b.id = $5
FOR UPDATE OF b
"""
)

APPLY_TRANSITION = """
UPDATE bookings SET
    status = $2,
    check_out = $3,
    total_price = $4,
    checked_in_at = CASE WHEN $2 = 'checked_in' THEN now() ELSE checked_in_at END,
    checked_out_at = CASE WHEN $2 = 'checked_out' THEN now() ELSE checked_out_at END,
    cancelled_at = CASE WHEN $2 = 'cancelled' THEN now() ELSE cancelled_at END,
    cancelled_by = CASE WHEN $2 = 'cancelled' THEN $5 ELSE cancelled_by END,
    cancel_reason = CASE WHEN $2 = 'cancelled' THEN $6 ELSE cancel_reason END,
    updated_at = now()
WHERE id = $1
"""

# A stay changed (booking.changes): its bed, dates, price and the decision it was judged by.
CHANGE_STAY = """
UPDATE bookings SET
    bed_id = $2, facility_id = $3, check_in = $4, check_out = $5, nightly_price = $6,
    total_price = $7, policy_id = $8, decision = $9, updated_at = now()
WHERE id = $1
"""

# The facility's timezone and, when the bed is that facility's, the bed: one round trip.
SELECT_WALK_IN_PLACE = """
SELECT f.timezone, d.id AS bed_id
FROM facilities f
LEFT JOIN beds d ON d.id = $2 AND d.facility_id = f.id
WHERE f.id = $1
"""

# Serialises bookings of one elder, so two at once cannot both fit a quota meant for one.
# NO KEY UPDATE: it does not block the key-share locks of foreign keys pointing at the row.
LOCK_RECIPIENT = "SELECT id FROM care_recipients WHERE id = $1 FOR NO KEY UPDATE"

INSERT_BOOKING = """
INSERT INTO bookings
    (bed_id, facility_id, care_recipient_id, check_in, check_out, nightly_price, total_price,
     policy_id, decision, override_reason, booked_by, hospital_id, hold_id, overrides)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
RETURNING id
"""
