"""SQL of referrals, their callbacks' outbox and deliveries, and hospital organisations.

Every read and write of a hospital's objects is scoped by ``hospital_id``, so another
hospital's referral, endpoint or delivery is found exactly like one that does not exist.
"""

__all__ = [
    "CLAIM_DUE_DELIVERIES",
    "COUNT_ACTIVE_ENDPOINTS",
    "DISABLE_ENDPOINT",
    "FINISH_DELIVERED",
    "FINISH_FAILED",
    "FINISH_INTERRUPTED",
    "HOSPITAL_EXISTS",
    "INSERT_ATTEMPTS",
    "INSERT_ENDPOINT",
    "INSERT_EVENT",
    "INSERT_HOSPITAL",
    "INSERT_REFERRAL",
    "LIST_CREDENTIALS",
    "LIST_DELIVERIES",
    "LIST_ENDPOINTS",
    "LIST_HOSPITALS",
    "LIST_REFERRALS",
    "LIST_REFERRAL_EVENTS",
    "LOCK_EXPIRING",
    "LOCK_HOSPITAL",
    "LOCK_REFERRAL",
    "LOCK_REFERRAL_OF_BOOKING",
    "REDELIVER",
    "REVOKE_CREDENTIAL",
    "ROTATE_SECRET",
    "SELECT_ATTEMPTS",
    "SELECT_CREDENTIAL_OF_PRINCIPAL",
    "SELECT_DELIVERY",
    "SELECT_EXPIRY_CANDIDATES",
    "SELECT_FACILITY_NAME",
    "SELECT_REFERRAL",
    "UPDATE_REFERRAL_STATUS",
]

# Referrals ------------------------------------------------------------------------------------

_REFERRAL_COLUMNS = """
    r.id, r.hospital_id, r.care_recipient_id, r.status, r.kind, r.discharge_date, r.nights,
    r.area_lat, r.area_lon, r.area_radius_m, r.area_description, r.contact_name,
    r.contact_department, r.contact_email, r.contact_phone_last4, r.note, r.hold_id,
    r.booking_id, r.status_reason, r.created_at, r.updated_at, r.facility_id,
    f.name AS facility_name, f.address AS facility_address, f.phone AS facility_phone
"""

INSERT_REFERRAL = """
INSERT INTO referrals
    (hospital_id, care_recipient_id, kind, discharge_date, nights, area_lat, area_lon,
     area_radius_m, area_description, contact_name, contact_department, contact_email,
     contact_phone_enc, contact_phone_last4, note, created_by)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
RETURNING id
"""

# With the facility it is placed at and its timezone (null while it is placed nowhere).
SELECT_REFERRAL = f"""
SELECT {_REFERRAL_COLUMNS}, f.timezone
FROM referrals r LEFT JOIN facilities f ON f.id = r.facility_id
WHERE r.id = $1 AND r.hospital_id = $2
"""

# Every change of a referral (and so every event of it) happens under this row lock: events of
# one referral are numbered in the order they are committed, which is the order delivered.
_LOCKED_COLUMNS = "r.id, r.hospital_id, r.care_recipient_id, r.status, r.booking_id, r.facility_id"
LOCK_REFERRAL = f"""
SELECT {_LOCKED_COLUMNS} FROM referrals r WHERE r.id = $1 AND r.hospital_id = $2 FOR UPDATE
"""
LOCK_REFERRAL_BY_ID = f"""
SELECT {_LOCKED_COLUMNS} FROM referrals r WHERE r.id = $1 FOR UPDATE
"""
LOCK_REFERRAL_OF_BOOKING = f"""
SELECT {_LOCKED_COLUMNS} FROM referrals r WHERE r.booking_id = $1 FOR UPDATE
"""

UPDATE_REFERRAL_STATUS = """
UPDATE referrals SET
    status = $2,
    booking_id = $3,
    hold_id = coalesce($4, hold_id),
    status_reason = $5,
    facility_id = $6,
    updated_at = now()
WHERE id = $1
"""

# Keyset pages by (updated_at, id); $4/$5 is where the previous page ended.
LIST_REFERRALS = f"""
SELECT {_REFERRAL_COLUMNS}
FROM referrals r LEFT JOIN facilities f ON f.id = r.facility_id
WHERE r.hospital_id = $1
  AND ($2::text IS NULL OR r.status = $2)
  AND ($3::timestamptz IS NULL OR r.updated_at >= $3)
  AND (r.updated_at, r.id) > ($4::timestamptz, $5::bigint)
ORDER BY r.updated_at, r.id
LIMIT $6
"""

# Referrals that may be past their discharge date without a booking: waiting ones discharged
# before $1, the latest date anywhere on Earth now. Each one's own "today" (its facility's, or
# the default timezone's) decides in Python; keyset pages by (discharge_date, id) after $2/$3.
SELECT_EXPIRY_CANDIDATES = """
SELECT r.id, r.discharge_date, f.timezone
FROM referrals r LEFT JOIN facilities f ON f.id = r.facility_id
WHERE r.status IN ('open', 'held') AND r.discharge_date < $1
  AND (r.discharge_date, r.id) > ($2::date, $3::bigint)
ORDER BY r.discharge_date, r.id
LIMIT $4
"""

# The due ones among them, locked. SKIP LOCKED: another process expiring the same ones, or a
# hold or confirm in progress, is left alone; the next sweep looks again. Still waiting, and
# with their discharge date and timezone as they are now, for the caller to check again.
LOCK_EXPIRING = f"""
SELECT {_LOCKED_COLUMNS}, r.discharge_date, f.timezone
FROM referrals r LEFT JOIN facilities f ON f.id = r.facility_id
WHERE r.id = any($1::bigint[]) AND r.status IN ('open', 'held')
ORDER BY r.id
FOR UPDATE OF r SKIP LOCKED
"""

SELECT_FACILITY_NAME = "SELECT name FROM facilities WHERE id = $1"

# The outbox ------------------------------------------------------------------------------------

# The event, and one delivery per active endpoint of the hospital, in one round trip.
INSERT_EVENT = """
WITH event AS (
    INSERT INTO webhook_events (event_id, hospital_id, referral_id, type, body, created_at)
    VALUES ($1, $2, $3, $4, $5, $6)
    RETURNING id
)
INSERT INTO webhook_deliveries (event_id, endpoint_id, hospital_id, referral_id, next_attempt_at)
SELECT event.id, e.id, $2, $3, $6
FROM event, webhook_endpoints e
WHERE e.hospital_id = $2 AND e.disabled_at IS NULL
"""

LIST_REFERRAL_EVENTS = """
SELECT v.event_id, v.type, v.body, v.created_at
FROM webhook_events v JOIN referrals r ON r.id = v.referral_id
WHERE v.referral_id = $1 AND r.hospital_id = $2
ORDER BY v.id
"""

# Deliveries ------------------------------------------------------------------------------------

# Lease the deliveries that are due ($1 now) and first in line: none of the same endpoint and
# referral with an earlier event is still pending. SKIP LOCKED lets several processes claim at
# once without waiting on each other; the lease (locked_until, $2) keeps a claimed one from
# being claimed again until its attempt ends or the lease runs out.
CLAIM_DUE_DELIVERIES = """
WITH due AS (
    SELECT d.id
    FROM webhook_deliveries d
    JOIN webhook_endpoints e ON e.id = d.endpoint_id AND e.disabled_at IS NULL
    WHERE d.status = 'pending' AND d.next_attempt_at <= $1
      AND (d.locked_until IS NULL OR d.locked_until <= $1)
      AND NOT EXISTS (
          SELECT 1 FROM webhook_deliveries p
          WHERE p.endpoint_id = d.endpoint_id AND p.referral_id = d.referral_id
            AND p.status = 'pending' AND p.event_id < d.event_id)
    ORDER BY d.next_attempt_at, d.id
    LIMIT $3
    FOR UPDATE OF d SKIP LOCKED
)
UPDATE webhook_deliveries d SET
    attempts = d.attempts + 1,
    first_attempt_at = coalesce(d.first_attempt_at, $1),
    locked_until = $2,
    locked_by = $4,
    updated_at = $1
FROM due, webhook_events v, webhook_endpoints e
WHERE d.id = due.id AND v.id = d.event_id AND e.id = d.endpoint_id
RETURNING d.id, d.referral_id, d.hospital_id, d.attempts, d.failures, d.first_attempt_at,
          v.event_id, v.body, e.url, e.secret, e.previous_secret, e.previous_until
"""

INSERT_ATTEMPTS = """
INSERT INTO webhook_attempts (delivery_id, attempt, worker, started_at)
SELECT delivery_id, attempt, $3, $4
FROM unnest($1::bigint[], $2::integer[]) AS a (delivery_id, attempt)
"""

# Outcomes name the attempt they close: a worker whose lease ran out and was taken over
# changes nothing.
_CLOSE_ATTEMPT = """
WITH attempt AS (
    UPDATE webhook_attempts
    SET finished_at = $3, status_code = $4, error = $5, duration_ms = $6
    WHERE delivery_id = $1 AND attempt = $2
)
"""

FINISH_DELIVERED = (
    _CLOSE_ATTEMPT
    + """
UPDATE webhook_deliveries SET
    status = 'delivered', delivered_at = $3, locked_until = NULL, last_status_code = $4,
    last_error = NULL, updated_at = $3
WHERE id = $1 AND attempts = $2
"""
)

# $7 the next attempt's time, $8 true when the delivery is given up.
FINISH_FAILED = (
    _CLOSE_ATTEMPT
    + """
UPDATE webhook_deliveries SET
    status = CASE WHEN $8 THEN 'dead' ELSE 'pending' END,
    failures = failures + 1, next_attempt_at = $7, locked_until = NULL,
    last_status_code = $4, last_error = $5, updated_at = $3
WHERE id = $1 AND attempts = $2
"""
)

# Stopped mid-attempt (the process is shutting down): not the receiver's failure; due again.
FINISH_INTERRUPTED = (
    _CLOSE_ATTEMPT
    + """
UPDATE webhook_deliveries SET locked_until = NULL, next_attempt_at = $3, updated_at = $3
WHERE id = $1 AND attempts = $2
"""
)

_DELIVERY_COLUMNS = """
    d.id, v.event_id, v.type AS event_type, d.referral_id, d.endpoint_id, d.status, d.attempts,
    d.next_attempt_at, d.locked_until, d.last_status_code, d.last_error, d.delivered_at,
    d.created_at, d.updated_at
"""

LIST_DELIVERIES = f"""
SELECT {_DELIVERY_COLUMNS}
FROM webhook_deliveries d JOIN webhook_events v ON v.id = d.event_id
WHERE d.hospital_id = $1
  AND ($2::text IS NULL OR d.status = $2)
  AND ($3::bigint IS NULL OR d.referral_id = $3)
  AND d.id > $4
ORDER BY d.id
LIMIT $5
"""

SELECT_DELIVERY = f"""
SELECT {_DELIVERY_COLUMNS}
FROM webhook_deliveries d JOIN webhook_events v ON v.id = d.event_id
WHERE d.id = $1 AND d.hospital_id = $2
"""

SELECT_ATTEMPTS = """
SELECT attempt, worker, started_at, finished_at, status_code, error, duration_ms
FROM webhook_attempts WHERE delivery_id = $1 ORDER BY attempt
"""

# A new round for a delivered or given-up delivery, or "now" for a pending one waiting for its
# next retry; one being attempted right now ($3 now) is left to finish.
REDELIVER = f"""
WITH changed AS (
    UPDATE webhook_deliveries d SET
        status = 'pending', failures = 0, next_attempt_at = $3,
        first_attempt_at = CASE WHEN d.status = 'pending' THEN d.first_attempt_at END,
        updated_at = $3
    WHERE d.id = $1 AND d.hospital_id = $2
      AND NOT (d.status = 'pending' AND d.locked_until IS NOT NULL AND d.locked_until > $3)
    RETURNING d.*
)
SELECT {_DELIVERY_COLUMNS}
FROM changed d JOIN webhook_events v ON v.id = d.event_id
"""

# Endpoints ------------------------------------------------------------------------------------

_ENDPOINT_COLUMNS = "id, url, description, created_at, disabled_at, previous_until"

INSERT_ENDPOINT = f"""
INSERT INTO webhook_endpoints (hospital_id, url, description, secret, created_by)
VALUES ($1, $2, $3, $4, $5)
RETURNING {_ENDPOINT_COLUMNS}
"""

COUNT_ACTIVE_ENDPOINTS = """
SELECT count(*) FROM webhook_endpoints WHERE hospital_id = $1 AND disabled_at IS NULL
"""

LIST_ENDPOINTS = f"""
SELECT {_ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE hospital_id = $1 ORDER BY id
"""

DISABLE_ENDPOINT = f"""
UPDATE webhook_endpoints SET disabled_at = coalesce(disabled_at, now())
WHERE id = $1 AND hospital_id = $2
RETURNING {_ENDPOINT_COLUMNS}
"""

# The current secret becomes the previous one, valid until $4; $3 the new secret.
ROTATE_SECRET = f"""
UPDATE webhook_endpoints SET previous_secret = secret, previous_until = $4, secret = $3
WHERE id = $1 AND hospital_id = $2 AND disabled_at IS NULL
RETURNING {_ENDPOINT_COLUMNS}
"""

# Hospitals and their credentials ---------------------------------------------------------------

INSERT_HOSPITAL = "INSERT INTO hospitals (name) VALUES ($1) RETURNING id, name, created_at"

LIST_HOSPITALS = """
SELECT id, name, created_at FROM hospitals WHERE id > $1 ORDER BY id LIMIT $2
"""

HOSPITAL_EXISTS = "SELECT 1 FROM hospitals WHERE id = $1"

# Serialises endpoint registrations of one hospital (the cap on endpoints holds when two race).
# NO KEY UPDATE: rows referring to the hospital can still be written meanwhile.
LOCK_HOSPITAL = "SELECT id FROM hospitals WHERE id = $1 FOR NO KEY UPDATE"

# A credential is a token of a principal of the hospital; its id is the token's.
LIST_CREDENTIALS = """
SELECT t.id, t.label, t.principal_id, t.created_at, t.expires_at, t.revoked_at
FROM tokens t JOIN principals p ON p.id = t.principal_id
WHERE p.role = 'hospital' AND p.hospital_id = $1
ORDER BY t.id
"""

SELECT_CREDENTIAL_OF_PRINCIPAL = """
SELECT id, label, principal_id, created_at, expires_at, revoked_at
FROM tokens WHERE principal_id = $1
"""

REVOKE_CREDENTIAL = """
UPDATE tokens t SET revoked_at = coalesce(t.revoked_at, now())
FROM principals p
WHERE t.id = $2 AND p.id = t.principal_id AND p.role = 'hospital' AND p.hospital_id = $1
RETURNING t.id, t.label, t.principal_id, t.created_at, t.expires_at, t.revoked_at
"""
