"""SQL of facilities, beds, blocks, bed imports and the occupancy board.

Tenant scope is a parameter of every query that reads an object by id: ``$2`` is the staff
member's facility (or null for an admin), so another facility's object is simply not found.
"""

from __future__ import annotations

__all__ = [
    "FACILITY_EXISTS",
    "FIRST_LIVE_BOOKING",
    "INSERT_BED",
    "INSERT_BEDS",
    "INSERT_BLOCK",
    "INSERT_FACILITY",
    "LIFT_BLOCK",
    "LOCK_BEDS_IMPORT",
    "RETIRE_BED",
    "SELECT_BED",
    "SELECT_BEDS",
    "SELECT_BEDS_BY_LABEL",
    "SELECT_BED_FOR_PATCH",
    "SELECT_BED_FOR_UPDATE",
    "SELECT_BED_ID_BY_LABEL",
    "SELECT_BLOCK",
    "SELECT_BLOCKS",
    "SELECT_BLOCK_FOR_UPDATE",
    "SELECT_BOARD",
    "SELECT_FACILITIES",
    "SELECT_FACILITY",
    "SELECT_FACILITY_FOR_UPDATE",
    "SELECT_FACILITY_PROFILE",
    "SELECT_POLICY_PROGRAMMES",
    "UPDATE_BED",
    "UPDATE_BEDS",
    "UPDATE_BLOCK",
    "UPDATE_FACILITY",
]

FACILITY_COLUMNS = """id, name, operator, address, district, community, lat, lon, phone, timezone,
    currency, service_radius_m, respite_policy_code, home_policy_code, active, visiting_hours,
    price_includes, description, created_at, updated_at"""

FACILITY_EXISTS = "SELECT true FROM facilities WHERE id = $1"

SELECT_FACILITY = f"SELECT {FACILITY_COLUMNS} FROM facilities WHERE id = $1"

# A facility's profile: what it says of itself, and what its bookable beds offer, in one row.
# Capabilities and kinds are of its active, unretired beds only; the price range is null
# (both ends) while it has none.
SELECT_FACILITY_PROFILE = """
WITH beds_offered AS (
    SELECT kind, capabilities, pressure_care_stage, nightly_price
    FROM beds WHERE facility_id = $1 AND active AND retired_at IS NULL
)
SELECT f.id, f.name, f.address, f.phone, f.district, f.community, f.currency, f.active,
       f.visiting_hours, f.price_includes, f.description,
       array(SELECT DISTINCT kind FROM beds_offered) AS kinds,
       array(SELECT DISTINCT c FROM beds_offered, unnest(capabilities) c) AS capabilities,
       (SELECT coalesce(max(pressure_care_stage), 0) FROM beds_offered) AS pressure_care_stage,
       (SELECT min(nightly_price) FROM beds_offered) AS min_price,
       (SELECT max(nightly_price) FROM beds_offered) AS max_price
FROM facilities f
WHERE f.id = $1
"""

# Read-modify-write of a PATCH: two concurrent patches of different fields must both land.
# NO KEY UPDATE: does not wait for bookings and beds being written (their foreign keys hold
# key-share locks on the facility row).
SELECT_FACILITY_FOR_UPDATE = f"""
SELECT {FACILITY_COLUMNS} FROM facilities WHERE id = $1 FOR NO KEY UPDATE
"""

# $1 only this facility (staff) or null, $2 active filter or null, $3 after id, $4 limit.
SELECT_FACILITIES = f"""
SELECT {FACILITY_COLUMNS} FROM facilities
WHERE ($1::bigint IS NULL OR id = $1) AND ($2::boolean IS NULL OR active = $2) AND id > $3
ORDER BY id
LIMIT $4
"""

INSERT_FACILITY = f"""
INSERT INTO facilities (name, operator, address, district, community, lat, lon, phone, timezone,
    currency, service_radius_m, respite_policy_code, home_policy_code, active, visiting_hours,
    price_includes, description)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
RETURNING {FACILITY_COLUMNS}
"""

UPDATE_FACILITY = f"""
UPDATE facilities SET name = $2, operator = $3, address = $4, district = $5, community = $6,
    lat = $7, lon = $8, phone = $9, timezone = $10, currency = $11, service_radius_m = $12,
    respite_policy_code = $13, home_policy_code = $14, active = $15, visiting_hours = $16,
    price_includes = $17, description = $18, updated_at = now()
WHERE id = $1
RETURNING {FACILITY_COLUMNS}
"""

# The programme of the latest version of each code: a facility's respite policy must be a
# respite programme's, its home policy a home programme's.
SELECT_POLICY_PROGRAMMES = """
SELECT code, (array_agg(document->>'programme' ORDER BY version DESC))[1] AS programme
FROM policies WHERE code = any($1::text[])
GROUP BY code
"""

BED_COLUMNS = """id, facility_id, kind, label, sex_rule, capabilities, pressure_care_stage,
    nightly_price, active, retired_at, created_at, updated_at"""

# $1 bed id, $2 the caller's facility (staff) or null (admin).
SELECT_BED = f"""
SELECT {BED_COLUMNS} FROM beds WHERE id = $1 AND ($2::bigint IS NULL OR facility_id = $2)
"""

# A PATCH reads, merges and writes: concurrent patches of one bed take turns. NO KEY UPDATE
# does not wait for bookings of the bed (they hold key-share locks through the foreign key).
SELECT_BED_FOR_PATCH = SELECT_BED.rstrip() + " FOR NO KEY UPDATE\n"

# Retiring takes the bed row's strongest lock, so it and a booking of the bed take turns on
# that row: book() share-locks it when it loads the bed (booking.queries.SELECT_BED_TO_BOOK),
# and blocks and anything else claiming nights hold a key-share lock on it through the
# ledger's foreign key, each until it commits. A booking that came first has its nights in
# the ledger by the time retiring reads it (bed-still-booked); one that comes second finds
# the bed retired when its share lock is granted (not found). No booking lands on a retired bed.
SELECT_BED_FOR_UPDATE = SELECT_BED.rstrip() + " FOR UPDATE\n"

# $1 facility, $2 kind or null, $3 capabilities required, $4 active or null, $5 include
# retired, $6 after id, $7 limit.
SELECT_BEDS = f"""
SELECT {BED_COLUMNS} FROM beds
WHERE facility_id = $1 AND ($2::text IS NULL OR kind = $2) AND capabilities @> $3::text[]
  AND ($4::boolean IS NULL OR active = $4) AND ($5 OR retired_at IS NULL) AND id > $6
ORDER BY id
LIMIT $7
"""

INSERT_BED = f"""
INSERT INTO beds (facility_id, kind, label, sex_rule, capabilities, pressure_care_stage,
    nightly_price, active)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (facility_id, label) DO NOTHING
RETURNING {BED_COLUMNS}
"""

# $1 facility, $2 label, $3 a bed that may keep the label (itself, when renaming) or null.
SELECT_BED_ID_BY_LABEL = """
SELECT id FROM beds WHERE facility_id = $1 AND label = $2 AND id IS DISTINCT FROM $3
"""

UPDATE_BED = f"""
UPDATE beds SET label = $2, sex_rule = $3, capabilities = $4, pressure_care_stage = $5,
    nightly_price = $6, active = $7, updated_at = now()
WHERE id = $1
RETURNING {BED_COLUMNS}
"""

RETIRE_BED = f"""
UPDATE beds SET active = false, retired_at = now(), updated_at = now()
WHERE id = $1
RETURNING {BED_COLUMNS}
"""

# The first night from the facility's today on that a booking still claims: $2 is the clock's
# now, read in the facility's timezone (the row the query joins anyway).
FIRST_LIVE_BOOKING = """
SELECT n.booking_id, n.night
FROM bed_nights n
JOIN beds b ON b.id = n.bed_id
JOIN facilities f ON f.id = b.facility_id
WHERE n.bed_id = $1 AND n.booking_id IS NOT NULL
  AND n.night >= ($2::timestamptz AT TIME ZONE f.timezone)::date
ORDER BY n.night
LIMIT 1
"""

# Bulk import --------------------------------------------------------------------------------

# Two imports into one facility would race on the same labels (unique violations midway, or
# waiting on each other's rows in different orders): one at a time per facility.
LOCK_BEDS_IMPORT = "SELECT pg_advisory_xact_lock(hashtextextended('beds-import:' || $1, 0))"

# The import's plan is made from these rows: a patch or a retirement of one of them must not
# slip in between the read and the write.
SELECT_BEDS_BY_LABEL = f"""
SELECT {BED_COLUMNS} FROM beds WHERE facility_id = $1 AND label = any($2::text[])
FOR NO KEY UPDATE
"""

# Capabilities travel as one ';'-joined text per bed: unnest cannot take a ragged 2-D array.
# Sorted by label so that concurrent single creates meet the rows in one order.
INSERT_BEDS = """
INSERT INTO beds (facility_id, kind, label, sex_rule, capabilities, pressure_care_stage,
    nightly_price, active)
SELECT $1, r.kind, r.label, r.sex_rule, string_to_array(r.capabilities, ';'), r.stage, r.price,
    r.active
FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::smallint[], $7::bigint[],
    $8::boolean[]) AS r (kind, label, sex_rule, capabilities, stage, price, active)
ORDER BY r.label
RETURNING id
"""

UPDATE_BEDS = """
UPDATE beds AS b SET sex_rule = r.sex_rule, capabilities = string_to_array(r.capabilities, ';'),
    pressure_care_stage = r.stage, nightly_price = r.price, active = r.active, updated_at = now()
FROM unnest($2::bigint[], $3::text[], $4::text[], $5::smallint[], $6::bigint[], $7::boolean[])
    AS r (id, sex_rule, capabilities, stage, price, active)
WHERE b.id = r.id AND b.facility_id = $1
"""

# Blocks -------------------------------------------------------------------------------------

BLOCK_COLUMNS = """id, bed_id, facility_id, check_in, check_out, reason, note, created_by,
    created_at, lifted_at"""

INSERT_BLOCK = f"""
INSERT INTO blocks (bed_id, facility_id, check_in, check_out, reason, note, created_by)
VALUES ($1, $2, $3, $4, $5, $6, $7)
RETURNING {BLOCK_COLUMNS}
"""

# Read-modify-write of a block's nights: two concurrent patches must not both compute the
# nights to free and claim from the same old range.
SELECT_BLOCK = f"""
SELECT {BLOCK_COLUMNS} FROM blocks
WHERE id = $1 AND ($2::bigint IS NULL OR facility_id = $2)
"""

SELECT_BLOCK_FOR_UPDATE = f"""
SELECT {BLOCK_COLUMNS} FROM blocks
WHERE id = $1 AND ($2::bigint IS NULL OR facility_id = $2)
FOR NO KEY UPDATE
"""

UPDATE_BLOCK = f"""
UPDATE blocks SET check_in = $2, check_out = $3, reason = $4, note = $5
WHERE id = $1
RETURNING {BLOCK_COLUMNS}
"""

LIFT_BLOCK = f"""
UPDATE blocks SET lifted_at = now() WHERE id = $1 RETURNING {BLOCK_COLUMNS}
"""

# $1 facility, $2 bed or null, $3 covers a night on/after (or null), $4 covers a night before
# (or null), $5 include lifted, $6 after id, $7 limit.
SELECT_BLOCKS = f"""
SELECT {BLOCK_COLUMNS} FROM blocks
WHERE facility_id = $1 AND ($2::bigint IS NULL OR bed_id = $2)
  AND ($3::date IS NULL OR check_out > $3) AND ($4::date IS NULL OR check_in < $4)
  AND ($5 OR lifted_at IS NULL) AND id > $6
ORDER BY id
LIMIT $7
"""

# The board --------------------------------------------------------------------------------

# One round trip for the whole window: the facility (so an unknown id is told apart from a
# facility without beds), each bed, and each booking or block with claims in the window as one
# row: its first night and the night after its last, and, only if its nights there are not
# consecutive (never made so by respite, but the ledger is the truth), the nights themselves.
# One row per claim rather than per night: about six times fewer rows to join, send and
# decode, measured 20 ms instead of 50 ms for 300 beds × 92 nights (ops/bench/board.py). A
# retired bed shows only if it still has claims in the window. The pages' board may also keep
# only the beds with a capability ($5) or whose label starts with a prefix ($6, any case); the
# API passes null for both. Only the recipient's name
# leaves the database, to be cut to initials before it leaves the service.
SELECT_BOARD = """
WITH claims AS (
    SELECT n.bed_id, n.booking_id, n.block_id,
           min(n.night) AS first_night, max(n.night) + 1 AS end_night,
           CASE WHEN count(*) <> max(n.night) - min(n.night) + 1
                THEN array_agg(n.night ORDER BY n.night) END AS nights
    FROM bed_nights n
    JOIN beds b ON b.id = n.bed_id
    WHERE b.facility_id = $1 AND n.night >= $2 AND n.night < $3
    GROUP BY n.bed_id, n.booking_id, n.block_id
)
SELECT b.id AS bed_id, b.label, b.kind, b.active, b.retired_at IS NOT NULL AS retired,
       c.first_night, c.end_night, c.booking_id, c.block_id, k.status,
       r.name AS recipient_name, l.reason, c.nights
FROM facilities f
LEFT JOIN beds b ON b.facility_id = f.id AND ($4::text IS NULL OR b.kind = $4)
    AND ($5::text IS NULL OR $5 = any(b.capabilities))
    AND ($6::text IS NULL OR starts_with(lower(b.label), lower($6)))
    AND (b.retired_at IS NULL OR EXISTS (SELECT FROM claims x WHERE x.bed_id = b.id))
LEFT JOIN claims c ON c.bed_id = b.id
LEFT JOIN bookings k ON k.id = c.booking_id
LEFT JOIN care_recipients r ON r.id = k.care_recipient_id
LEFT JOIN blocks l ON l.id = c.block_id
WHERE f.id = $1
ORDER BY b.label, b.id, c.first_night
"""
