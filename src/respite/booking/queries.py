"""SQL of bookings and their life cycle.

Every read is scoped by the principal with the same four leading parameters (``$1`` role,
``$2`` principal id, ``$3`` hospital id, ``$4`` facility id), so a booking another tenant
cannot see is found exactly like one that does not exist.
"""

__all__ = [
    "APPLY_TRANSITION",
    "INSERT_BOOKING",
    "LIST_VISIBLE_BOOKINGS",
    "LOCK_RECIPIENT",
    "LOCK_VISIBLE_BOOKING",
    "SELECT_BOOKING",
    "SELECT_OVERLAPPING_STAY",
    "SELECT_VISIBLE_BOOKING",
    "SELECT_WALK_IN_PLACE",
]

# Staff see their facility's bookings, a hospital those it made, a family those of its own
# care recipients, an admin every booking.
_VISIBLE = """
    ($1 = 'admin'
     OR ($1 = 'staff' AND b.facility_id = $4)
     OR ($1 = 'hospital' AND b.hospital_id = $3)
     OR ($1 = 'family' AND c.family_id = $2))
"""

_BOOKING_COLUMNS = """
SELECT b.id, b.bed_id, d.label AS bed_label, b.facility_id, b.care_recipient_id,
       b.check_in, b.check_out, b.status, b.nightly_price, b.total_price, f.currency,
       p.code AS policy_code, p.version AS policy_version, b.override_reason, b.hold_id,
       b.hospital_id, b.booked_by, b.created_at, b.updated_at, b.checked_in_at,
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

# The facility's clock and, when the bed is that facility's, the bed: one round trip.
SELECT_WALK_IN_PLACE = """
SELECT f.timezone, d.id AS bed_id
FROM facilities f
LEFT JOIN beds d ON d.id = $2 AND d.facility_id = f.id
WHERE f.id = $1
"""

# Serialises bookings of one elder, so two at once cannot both fit a quota meant for one.
# NO KEY UPDATE: it does not block the key-share locks of foreign keys pointing at the row.
LOCK_RECIPIENT = "SELECT id FROM care_recipients WHERE id = $1 FOR NO KEY UPDATE"

# Unscoped, under LOCK_RECIPIENT: another live stay of the same elder on some of the nights
# [$2, $3) (an elder sleeps in one bed a night). Served by bookings_recipient.
SELECT_OVERLAPPING_STAY = """
SELECT check_in, check_out FROM bookings
WHERE care_recipient_id = $1 AND status IN ('confirmed', 'checked_in')
  AND check_in < $3 AND check_out > $2
ORDER BY check_in
LIMIT 1
"""

INSERT_BOOKING = """
INSERT INTO bookings
    (bed_id, facility_id, care_recipient_id, check_in, check_out, nightly_price, total_price,
     policy_id, decision, override_reason, booked_by, hospital_id, hold_id)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
RETURNING id
"""
