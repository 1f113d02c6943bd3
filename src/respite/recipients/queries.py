"""SQL of care recipients and assessments.

Every read is scoped by the visibility rule of ``respite.eligibility.subject`` (alias ``c``,
parameters $2–$7 = ``Viewer.params``: role, principal id, hospital id, facility id, the
viewer's instant, staff_recent_stay_days), so a care recipient that is not the principal's
looks exactly like one that does not exist. Other parameters start at $8.
"""

from respite.eligibility.subject import visible_recipient_clause

__all__ = [
    "INSERT_ASSESSMENT",
    "INSERT_RECIPIENT",
    "SELECT_ASSESSMENTS",
    "SELECT_DUPLICATE",
    "SELECT_RECIPIENT",
    "SELECT_RECIPIENTS",
    "SELECT_RECIPIENT_FOR_ASSESSMENT",
    "SELECT_RECIPIENT_FOR_UPDATE",
    "SELECT_UNHASHED_PHONES",
    "SET_PHONE_HASHES",
    "UPDATE_RECIPIENT",
]

_VISIBLE = visible_recipient_clause()

_VIEW_COLUMNS = """
    c.id, c.family_id, c.hospital_id, c.facility_id, c.name, c.sex, c.birth_date,
    c.home_address, c.home_lat, c.home_lon, c.living_situation, c.needs,
    c.pressure_injury_stage, c.emergency_contact_name, c.emergency_contact_phone_last4,
    c.national_id_last4, c.created_at, c.updated_at,
    a.id AS assessment_id, a.level, a.assessed_on, a.valid_until
"""

# The latest assessment is the one the engine judges by (eligibility.subject does the same).
_LATEST_ASSESSMENT = """
LEFT JOIN LATERAL (
    SELECT id, level, assessed_on, valid_until FROM assessments
    WHERE care_recipient_id = c.id
    ORDER BY assessed_on DESC, id DESC
    LIMIT 1
) a ON true
"""

# ON CONFLICT without a target covers the three per-tenant unique indexes of national IDs: a
# duplicate inserts nothing (even when two requests race) and the caller then names the
# existing recipient.
INSERT_RECIPIENT = """
INSERT INTO care_recipients
    (family_id, hospital_id, facility_id, name, sex, birth_date, home_address, home_lat,
     home_lon, living_situation, needs, pressure_injury_stage, emergency_contact_name,
     emergency_contact_phone_enc, emergency_contact_phone_last4, national_id_enc,
     national_id_hash, national_id_last4, created_by, emergency_contact_phone_hash)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19,
        $20)
ON CONFLICT DO NOTHING
RETURNING id, created_at, updated_at
"""

# $1 national ID hash, $2–$4 the one tenant (family, hospital, facility) to look in.
SELECT_DUPLICATE = """
SELECT id FROM care_recipients
WHERE national_id_hash = $1 AND (family_id = $2 OR hospital_id = $3 OR facility_id = $4)
"""

SELECT_RECIPIENT = f"""
SELECT {_VIEW_COLUMNS}
FROM care_recipients c
{_LATEST_ASSESSMENT}
WHERE c.id = $1 AND {_VISIBLE}
"""

# Keyset pages in id order: $1 the last id of the previous page, $8 how many rows to fetch.
SELECT_RECIPIENTS = f"""
SELECT {_VIEW_COLUMNS}
FROM care_recipients c
{_LATEST_ASSESSMENT}
WHERE c.id > $1 AND {_VISIBLE}
ORDER BY c.id
LIMIT $8
"""

SELECT_RECIPIENT_FOR_UPDATE = f"""
SELECT c.id, c.family_id, c.hospital_id, c.facility_id, c.name, c.sex, c.birth_date,
       c.home_address, c.home_lat, c.home_lon, c.living_situation, c.needs,
       c.pressure_injury_stage, c.emergency_contact_name, c.emergency_contact_phone_last4,
       c.national_id_hash, c.national_id_last4
FROM care_recipients c
WHERE c.id = $1 AND {_VISIBLE}
FOR UPDATE OF c
"""

# $2–$11 the details; the phone is rewritten only when $12 is true ($13, $14, its hash $19),
# the national ID only when $15 is true ($16–$18).
UPDATE_RECIPIENT = """
UPDATE care_recipients SET
    name = $2, sex = $3, birth_date = $4, home_address = $5, home_lat = $6, home_lon = $7,
    living_situation = $8, needs = $9, pressure_injury_stage = $10,
    emergency_contact_name = $11,
    emergency_contact_phone_enc = CASE WHEN $12 THEN $13 ELSE emergency_contact_phone_enc END,
    emergency_contact_phone_last4 =
        CASE WHEN $12 THEN $14 ELSE emergency_contact_phone_last4 END,
    emergency_contact_phone_hash =
        CASE WHEN $12 THEN $19 ELSE emergency_contact_phone_hash END,
    national_id_enc = CASE WHEN $15 THEN $16 ELSE national_id_enc END,
    national_id_hash = CASE WHEN $15 THEN $17 ELSE national_id_hash END,
    national_id_last4 = CASE WHEN $15 THEN $18 ELSE national_id_last4 END,
    updated_at = now()
WHERE id = $1
"""

SELECT_RECIPIENT_FOR_ASSESSMENT = f"""
SELECT c.id, c.birth_date, c.facility_id
FROM care_recipients c
WHERE c.id = $1 AND {_VISIBLE}
"""

INSERT_ASSESSMENT = """
INSERT INTO assessments
    (care_recipient_id, self_care, mobility, mental, perception_social, total, coma,
     dementia_or_mental_disorder, risk_events_30d, extension_approved, base_level, level,
     adjustments, assessor, organisation, assessed_on, valid_until, policy_id, created_by)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13::text::jsonb, $14, $15, $16, $17,
        $18, $19)
RETURNING id, scheme, created_at
"""

# One row per assessment, newest first; a single row of nulls when there is none yet, and no
# row at all when the care recipient is not visible.
SELECT_ASSESSMENTS = f"""
SELECT c.id AS care_recipient_id, a.id, a.scheme, a.self_care, a.mobility, a.mental,
       a.perception_social, a.total, a.coma, a.dementia_or_mental_disorder, a.risk_events_30d,
       a.extension_approved, a.base_level, a.level, a.adjustments::text AS adjustments,
       a.assessor, a.organisation, a.assessed_on, a.valid_until, a.created_at,
       p.code AS policy_code, p.version AS policy_version
FROM care_recipients c
LEFT JOIN assessments a ON a.care_recipient_id = c.id
LEFT JOIN policies p ON p.id = a.policy_id
WHERE c.id = $1 AND {_VISIBLE}
ORDER BY a.assessed_on DESC, a.id DESC
"""

# Emergency phones sealed before their hash existed (sql/0015), after id $1, $2 at a time.
SELECT_UNHASHED_PHONES = """
SELECT id, emergency_contact_phone_enc AS sealed FROM care_recipients
WHERE emergency_contact_phone_enc IS NOT NULL AND emergency_contact_phone_hash IS NULL
  AND id > $1
ORDER BY id
LIMIT $2
"""

# Compare and set: a row whose number changed since it was read keeps the hash of its edit.
SET_PHONE_HASHES = """
UPDATE care_recipients AS c SET emergency_contact_phone_hash = v.hash
FROM unnest($1::bigint[], $2::bytea[], $3::bytea[]) AS v (id, sealed, hash)
WHERE c.id = v.id AND c.emergency_contact_phone_enc = v.sealed
  AND c.emergency_contact_phone_hash IS NULL
"""
