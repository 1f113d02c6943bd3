"""The waiting list's SQL."""

from __future__ import annotations

INSERT_ENTRY = """
INSERT INTO waitlist_entries (
    owner_id, care_recipient_id, kind, facility_ids, near_lat, near_lon, radius_km, place_id,
    earliest_check_in, latest_check_out, nights, min_nights, discharged_on, referral_id,
    joined_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
RETURNING id
"""

INSERT_ENTRY_JOB = """
WITH job AS (
    INSERT INTO waitlist_jobs (kind, cause, entry_id) VALUES ('entry', $2, $1) RETURNING id
)
SELECT pg_notify('respite_waitlist', id::text) FROM job
"""

COUNT_LIVE_ENTRIES_OF_ELDER = """
SELECT count(*) FROM waitlist_entries
WHERE care_recipient_id = $1 AND status IN ('waiting', 'offered')
"""

# The active facilities among $1, with the kind of bed $2 (their ids, in the order given).
SELECT_FACILITIES_WITH_KIND = """
SELECT f.id FROM unnest($1::bigint[]) WITH ORDINALITY AS given (id, position)
JOIN facilities f ON f.id = given.id AND f.active
WHERE EXISTS (SELECT 1 FROM beds b WHERE b.facility_id = f.id AND b.kind = $2
              AND b.active AND b.retired_at IS NULL)
ORDER BY given.position
"""

# The active facilities with beds of kind $3 within $4 metres of ($1 lat, $2 lon), nearest
# first, at most $5 (a box first, then the great-circle distance).
SELECT_FACILITIES_NEAR = """
SELECT f.id,
       6371000 * 2 * asin(sqrt(power(sin(radians(f.lat - $1) / 2), 2)
           + cos(radians($1)) * cos(radians(f.lat)) * power(sin(radians(f.lon - $2) / 2), 2)))
           AS metres
FROM facilities f
WHERE f.active
  AND f.lat BETWEEN $1 - $4 / 111000.0 AND $1 + $4 / 111000.0
  AND EXISTS (SELECT 1 FROM beds b WHERE b.facility_id = f.id AND b.kind = $3
              AND b.active AND b.retired_at IS NULL)
ORDER BY metres, f.id
"""

_ENTRY_COLUMNS = """
e.id, e.owner_id, e.care_recipient_id, e.kind, e.facility_ids, e.earliest_check_in,
e.latest_check_out, e.nights, e.min_nights, e.discharged_on, e.referral_id, e.status,
e.joined_at, e.ended_at, e.booking_id
"""

_ELDER_COLUMNS = "c.sex, c.birth_date, c.living_situation, c.needs"

SELECT_ENTRY = f"""
SELECT {_ENTRY_COLUMNS}, {_ELDER_COLUMNS}
FROM waitlist_entries e JOIN care_recipients c ON c.id = e.care_recipient_id
WHERE e.id = $1
"""

LOCK_ENTRY = f"""
SELECT {_ENTRY_COLUMNS} FROM waitlist_entries e WHERE e.id = $1 FOR UPDATE
"""

# The caller's entries, newest first, after cursor $2 (an id; 0: the first page).
SELECT_ENTRIES_OF_OWNER = f"""
SELECT {_ENTRY_COLUMNS}, {_ELDER_COLUMNS}
FROM waitlist_entries e JOIN care_recipients c ON c.id = e.care_recipient_id
WHERE e.owner_id = $1 AND ($2 = 0 OR e.id < $2)
ORDER BY e.id DESC
LIMIT $3
"""

# Live entries that may be served from a run of bed nights: of the facility $1, kind $2, whose
# window shares at least their fewest nights with [$3, $4).
SELECT_CANDIDATES = f"""
SELECT {_ENTRY_COLUMNS}, {_ELDER_COLUMNS}
FROM waitlist_entries e JOIN care_recipients c ON c.id = e.care_recipient_id
WHERE e.status IN ('waiting', 'offered') AND e.facility_ids @> ARRAY[$1::bigint] AND e.kind = $2
  AND least(e.latest_check_out, $4::date) - greatest(e.earliest_check_in, $3::date)
      >= e.min_nights
ORDER BY e.joined_at, e.id
LIMIT $5
"""

# Live entries of a facility (its queue), or of any facility of $1 (for a position).
SELECT_LIVE_FOR_FACILITIES = f"""
SELECT {_ENTRY_COLUMNS}, {_ELDER_COLUMNS}
FROM waitlist_entries e JOIN care_recipients c ON c.id = e.care_recipient_id
WHERE e.status IN ('waiting', 'offered') AND e.facility_ids && $1::bigint[] AND e.kind = $2
ORDER BY e.joined_at, e.id
LIMIT $3
"""

SET_ENTRY_STATUS = """
UPDATE waitlist_entries SET status = $2 WHERE id = $1
"""

END_ENTRY = """
UPDATE waitlist_entries SET status = $2, ended_at = $3, booking_id = $4 WHERE id = $1
"""

# The live entries of elder $1 that a booking of kind $2 at facility $3 for [$4, $5) covers.
SELECT_COVERED_ENTRIES = """
SELECT id, status FROM waitlist_entries
WHERE care_recipient_id = $1 AND status IN ('waiting', 'offered') AND kind = $2
  AND facility_ids @> ARRAY[$3::bigint]
  AND earliest_check_in <= $4 AND latest_check_out >= $5 AND min_nights <= $5 - $4
ORDER BY id
FOR UPDATE
"""

SELECT_PRINCIPAL = """
SELECT id, role, name, facility_id, hospital_id, staff_role
FROM principals WHERE id = $1 AND disabled_at IS NULL
"""

# -- jobs --------------------------------------------------------------------------------------

LEASE_JOBS = """
SELECT id, kind, cause, bed_id, from_night, until_night, entry_id, attempts
FROM waitlist_jobs
WHERE done_at IS NULL AND run_after <= $1
ORDER BY run_after, id
LIMIT $2
FOR UPDATE SKIP LOCKED
"""

FINISH_JOB = "UPDATE waitlist_jobs SET done_at = $2, outcome = $3 WHERE id = $1"

RETRY_JOB = """
UPDATE waitlist_jobs SET attempts = attempts + 1, run_after = $2, last_error = $3
WHERE id = $1 AND done_at IS NULL
"""

# -- the bed around freed nights ---------------------------------------------------------------

SELECT_CLAIMED_NIGHTS = """
SELECT night FROM bed_nights WHERE bed_id = $1 AND night >= $2 AND night < $3 ORDER BY night
"""

SELECT_OPEN_OFFERS_OF_BED = """
SELECT check_in, check_out FROM waitlist_offers WHERE bed_id = $1 AND status = 'open'
"""

LOCK_BED_FOR_OFFERS = "SELECT pg_advisory_xact_lock(7316, $1::int)"

# Entries of $2 that ended an offer of bed $1 overlapping [$3, $4) without taking it.
SELECT_TURNED_DOWN = """
SELECT DISTINCT entry_id, status FROM waitlist_offers
WHERE bed_id = $1 AND entry_id = ANY($2::bigint[]) AND status IN ('declined', 'lapsed')
  AND check_in < $4 AND check_out > $3
"""

# Elders of $1 with an offer open now (for any of their entries).
SELECT_ELDERS_OFFERED = """
SELECT DISTINCT e.care_recipient_id FROM waitlist_offers o
JOIN waitlist_entries e ON e.id = o.entry_id
WHERE o.status = 'open' AND e.care_recipient_id = ANY($1::bigint[])
"""

INSERT_PASS = """
INSERT INTO waitlist_passes (job_id, entry_id, bed_id, facility_id, check_in, check_out,
                             reason, codes, passed_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (job_id, entry_id) DO NOTHING
"""

INSERT_OFFER = """
INSERT INTO waitlist_offers (entry_id, job_id, facility_id, bed_id, check_in, check_out,
                             nightly_price, hold_id, hold_token_hash, priority, made_at, deadline)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
RETURNING id
"""

_OFFER_COLUMNS = """
o.id, o.entry_id, o.status, o.facility_id, o.bed_id, o.check_in, o.check_out, o.nightly_price,
o.hold_id, o.hold_token_hash, o.made_at, o.deadline, o.ended_at, o.booking_id,
e.care_recipient_id, e.owner_id, e.referral_id,
b.label AS bed_label, f.name AS facility_name, f.timezone,
coalesce(f.address, '') AS facility_address, coalesce(f.phone, '') AS facility_phone
"""

_OFFER_FROM = """
FROM waitlist_offers o
JOIN waitlist_entries e ON e.id = o.entry_id
JOIN beds b ON b.id = o.bed_id
JOIN facilities f ON f.id = o.facility_id
"""

SELECT_OFFER = f"SELECT {_OFFER_COLUMNS} {_OFFER_FROM} WHERE o.id = $1"

LOCK_OFFER = f"SELECT {_OFFER_COLUMNS} {_OFFER_FROM} WHERE o.id = $1 FOR UPDATE OF o"

SELECT_OPEN_OFFERS_OF_ENTRIES = f"""
SELECT {_OFFER_COLUMNS} {_OFFER_FROM} WHERE o.entry_id = ANY($1::bigint[]) AND o.status = 'open'
"""

LOCK_OPEN_OFFER_OF_ENTRY = f"""
SELECT {_OFFER_COLUMNS} {_OFFER_FROM} WHERE o.entry_id = $1 AND o.status = 'open' FOR UPDATE OF o
"""

END_OFFER = """
UPDATE waitlist_offers SET status = $2, ended_at = $3, booking_id = $4 WHERE id = $1
"""

# Open offers past their deadline, oldest first: the sweep lets them lapse.
LOCK_LAPSED_OFFERS = f"""
SELECT {_OFFER_COLUMNS} {_OFFER_FROM}
WHERE o.status = 'open' AND o.deadline <= $1
ORDER BY o.deadline
LIMIT $2
FOR UPDATE OF o SKIP LOCKED
"""

SELECT_OPEN_OFFERS = f"""
SELECT {_OFFER_COLUMNS} {_OFFER_FROM} WHERE o.status = 'open' ORDER BY o.id LIMIT $1
"""

SELECT_PASSES = """
SELECT p.entry_id, p.facility_id, p.bed_id, p.check_in, p.check_out, p.reason, p.codes,
       p.passed_at
FROM waitlist_passes p
WHERE p.entry_id = $1
ORDER BY p.passed_at DESC, p.job_id DESC
LIMIT $2
"""

# The latest pass of each entry of $1 at facility $2.
SELECT_LAST_PASSES_AT = """
SELECT DISTINCT ON (p.entry_id) p.entry_id, p.facility_id, p.bed_id, p.check_in, p.check_out,
       p.reason, p.codes, p.passed_at
FROM waitlist_passes p
WHERE p.entry_id = ANY($1::bigint[]) AND p.facility_id = $2
ORDER BY p.entry_id, p.passed_at DESC, p.job_id DESC
"""

# -- sweeps ------------------------------------------------------------------------------------

# Holds due to lapse (unless extended) that ended neither confirmed nor released.
LOCK_LAPSING_HOLDS = """
SELECT s.hold_id, s.bed_id, s.check_in, s.check_out, s.max_expires_at, b.facility_id
FROM hold_starts s
JOIN beds b ON b.id = s.bed_id
WHERE s.lapse_at IS NOT NULL AND s.lapse_at <= $1
ORDER BY s.lapse_at
LIMIT $2
FOR UPDATE OF s SKIP LOCKED
"""

HOLD_ENDED = "SELECT ended FROM ended_holds WHERE hold_id = $1"

SET_HOLD_LAPSE = "UPDATE hold_starts SET lapse_at = $2 WHERE hold_id = $1"

EXPIRE_ENTRIES = """
UPDATE waitlist_entries SET status = 'expired', ended_at = $1
WHERE status = 'waiting' AND latest_check_out - min_nights < $2::date
RETURNING id
"""
