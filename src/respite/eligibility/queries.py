"""SQL of the eligibility service: a bed with its facility's policy, and policy versions.

Policy documents are read as ``document::text`` and written as ``$n::text::jsonb`` so that the
queries work the same on a pooled connection (whose jsonb codec is msgspec) and on a bare one.
"""

__all__ = [
    "INSERT_POLICY_VERSION",
    "LOCK_POLICY_CODE",
    "SELECT_BED_WITH_POLICY",
    "SELECT_FACILITY_POLICIES",
    "SELECT_LATEST_POLICY_VERSION",
    "SELECT_POLICY",
    "SELECT_POLICY_SUMMARIES",
    "SELECT_POLICY_VERSIONS",
]

# The version in force on a date: the latest effective_from on or before it, and of two
# versions effective the same day, the later published.
_POLICY_IN_FORCE = """
    SELECT id, code, version, effective_from, document::text AS document
    FROM policies
    WHERE code = {code} AND effective_from <= {on}
    ORDER BY effective_from DESC, version DESC
    LIMIT 1
"""

_BED_POLICY_CODE = "CASE b.kind WHEN 'home' THEN f.home_policy_code ELSE f.respite_policy_code END"
_BED_POLICY = _POLICY_IN_FORCE.format(code=_BED_POLICY_CODE, on="$2")
_RESPITE_POLICY = _POLICY_IN_FORCE.format(code="f.respite_policy_code", on="$2")
_HOME_POLICY = _POLICY_IN_FORCE.format(code="f.home_policy_code", on="$2")

# A retired bed, an inactive bed or a bed of an inactive facility cannot be booked: it is
# reported as not found. $1 bed id, $2 the date the policy must be in force on (check-in).
SELECT_BED_WITH_POLICY = f"""
SELECT b.id, b.facility_id, b.kind, b.label, b.sex_rule, b.capabilities, b.pressure_care_stage,
       b.nightly_price, f.lat, f.lon, f.service_radius_m, f.timezone,
       {_BED_POLICY_CODE} AS policy_code,
       p.id AS policy_id, p.version, p.effective_from, p.document
FROM beds b
JOIN facilities f ON f.id = b.facility_id
LEFT JOIN LATERAL ({_BED_POLICY}) p ON true
WHERE b.id = $1 AND b.retired_at IS NULL AND b.active AND f.active
"""

# Both programmes' policies of one facility (or of the default codes when $1 is null).
# $1 facility id or null, $2 date, $3 default respite code, $4 default home code.
SELECT_FACILITY_POLICIES = f"""
WITH f AS (
    SELECT id, timezone, respite_policy_code, home_policy_code
    FROM facilities WHERE id = $1 AND active
    UNION ALL
    SELECT NULL, NULL, $3, $4 WHERE $1::bigint IS NULL
)
SELECT f.id AS facility_id, f.timezone, 'respite' AS programme, f.respite_policy_code AS code,
       r.id AS policy_id, r.version, r.effective_from, r.document
FROM f LEFT JOIN LATERAL ({_RESPITE_POLICY}) r ON true
UNION ALL
SELECT f.id, f.timezone, 'home', f.home_policy_code,
       h.id, h.version, h.effective_from, h.document
FROM f LEFT JOIN LATERAL ({_HOME_POLICY}) h ON true
"""

# Publishing takes this lock so that two admins publishing the same code get consecutive
# versions instead of one of them failing on UNIQUE (code, version).
LOCK_POLICY_CODE = "SELECT pg_advisory_xact_lock(hashtextextended('policy:' || $1, 0))"

SELECT_LATEST_POLICY_VERSION = """
SELECT version, effective_from, document->>'programme' AS programme
FROM policies WHERE code = $1
ORDER BY version DESC
LIMIT 1
"""

INSERT_POLICY_VERSION = """
INSERT INTO policies (code, version, effective_from, document)
VALUES ($1, $2, $3, $4::text::jsonb)
RETURNING id, published_at
"""

SELECT_POLICY_VERSIONS = """
SELECT id, version, effective_from, published_at, document::text AS document
FROM policies WHERE code = $1
ORDER BY version DESC
"""

SELECT_POLICY = """
SELECT id, version, effective_from, published_at, document::text AS document
FROM policies WHERE code = $1 AND version = $2
"""

# One row per code: what is in force on $1 (if anything yet) and the latest version published.
SELECT_POLICY_SUMMARIES = """
SELECT code,
       max(version) AS latest_version,
       (array_agg(version ORDER BY effective_from DESC, version DESC)
            FILTER (WHERE effective_from <= $1))[1] AS current_version,
       (array_agg(document->>'name' ORDER BY version DESC))[1] AS name,
       (array_agg(document->>'programme' ORDER BY version DESC))[1] AS programme,
       (array_agg(document->>'jurisdiction' ORDER BY version DESC))[1] AS jurisdiction
FROM policies
GROUP BY code
ORDER BY code
"""
