"""SQL of availability search.

Every search query starts from the same two steps: the facilities where the search looks (a
box around ``near`` served by the GiST index ``facilities_location``, then the exact distance;
or a list of ids served by the primary key), joined to the policies the searcher may use, and
then, per facility, its beds that match (kind, sex rule, pressure care, capabilities) with
free-ness probed on the ``bed_nights`` primary key. The work grows with the facilities in
range, never with the whole inventory.

Parameters shared by every query (``plan.py`` builds them, for the service and the benchmark):

    $1 kind              $2 check_in           $3 check_out
    $4 origin lat        $5 origin lon         (distances are measured from here; may be null)
    $6 sex rules allowed $7 least pressure-care stage
    $8 policy codes      $9 their required capabilities, comma-separated
    $10 whether each policy requires the home within the facility's service radius
    $11 home lat         $12 home lon          (null: no home to check)
    $13 box (near) or bigint[] of facility ids (listed)
    $14 radius in metres (infinity when listed)
    $15 now (timestamptz): each facility's today is this instant in its own timezone

Each query then takes its own parameters from $16 on. A policy that is not in $8 (another
programme's, or one whose programme refuses the person) hides its facilities altogether.
A facility where check-in is before its today (``bookable`` false) offers nothing for the
stay; the page still returns it, bedless, so that a search whose check-in is past at every
facility it finds can say so.
"""

from __future__ import annotations

__all__ = [
    "SELECT_ALTERNATIVES_LISTED",
    "SELECT_ALTERNATIVES_NEAR",
    "SELECT_CODES_IN_RANGE_LISTED",
    "SELECT_CODES_IN_RANGE_NEAR",
    "SELECT_EXCLUDED_LISTED",
    "SELECT_EXCLUDED_NEAR",
    "SELECT_NEAREST_HOME_PROVIDERS",
    "SELECT_PAGE_BY_DISTANCE_LISTED",
    "SELECT_PAGE_BY_DISTANCE_NEAR",
    "SELECT_PAGE_BY_PRICE_LISTED",
    "SELECT_PAGE_BY_PRICE_NEAR",
    "SELECT_POLICY_VERSIONS",
]

# Every version of every policy: a handful of rows, cached by the app for a few seconds
# (policies.py) and resolved to "the version in force on check-in" in Python.
SELECT_POLICY_VERSIONS = """
SELECT id, code, version, effective_from, document::text AS document
FROM policies
"""

# The partial GiST index facilities_location covers only active facilities: the condition
# must say "active" for the planner to use it.
_NEAR = "point(f.lon, f.lat) <@ $13::box"
_LISTED = "f.id = any($13::bigint[])"

_FACILITIES = """
WITH facility AS (
    SELECT f.id, f.name, f.currency, f.lat, f.lon, f.service_radius_m,
           p.code AS policy_code, string_to_array(p.capabilities, ',') AS required,
           p.home_radius, respite_distance_m($4, $5, f.lat, f.lon) AS distance_m,
           ($15::timestamptz AT TIME ZONE f.timezone)::date AS today
    FROM facilities f
    JOIN unnest($8::text[], $9::text[], $10::bool[]) AS p (code, capabilities, home_radius)
      ON p.code = CASE $1::text WHEN 'home' THEN f.home_policy_code
                                ELSE f.respite_policy_code END
    WHERE f.active AND {where}
), in_range AS (
    SELECT facility.*, coalesce(distance_m, 0) AS sort_distance,
           (NOT home_radius OR $11::float8 IS NULL
            OR respite_distance_m($11, $12, lat, lon) <= service_radius_m) AS serves_home,
           $2::date >= today AS bookable
    FROM facility
    WHERE coalesce(distance_m, 0) <= $14::float8
)
"""

# A bed the search may offer, whether or not it is free (alias b, facility alias r).
_MATCHING_BED = """
    b.facility_id = r.id AND b.kind = $1 AND b.active AND b.retired_at IS NULL
    AND b.sex_rule = any($6::text[]) AND b.pressure_care_stage >= $7::int
    AND b.capabilities @> r.required
"""

# Free for [check_in, check_out), shifted by {shift}: no claimed night in it (the primary key
# of bed_nights answers with one index probe per bed).
_FREE = """NOT EXISTS (
    SELECT 1 FROM bed_nights n
    WHERE n.bed_id = b.id AND n.night >= $2::date{shift} AND n.night < $3::date{shift})"""

_BED_JSON = """json_build_object(
    'bed_id', b.id, 'label', b.label, 'sex_rule', b.sex_rule, 'capabilities', b.capabilities,
    'pressure_care_stage', b.pressure_care_stage, 'nightly_price', b.nightly_price,
    'total_price', b.nightly_price * ($3::date - $2::date))"""

# One row per facility with a matching bed free for the stay, after the cursor ($16, $17),
# at most $18 rows; and, bedless, each facility with matching beds where the stay starts before
# its today (its beds are never probed). The facilities are put in order first and their beds
# probed only until the page is full. price_from is the lowest nightly price of the facility's
# matching beds, free or not: it does not move when bookings come and go, so paging by it
# never shows a facility twice nor skips one; and it comes from the beds_search index alone.
_PAGE = (
    _FACILITIES
    + f"""
SELECT r.id, r.name, r.currency, r.distance_m, r.sort_distance, r.policy_code,
       r.price_from, r.today, r.bookable, m.beds::text AS beds
FROM (
    SELECT r.*, pf.price_from
    FROM in_range r
    CROSS JOIN LATERAL (SELECT min(b.nightly_price) AS price_from
                        FROM beds b WHERE {_MATCHING_BED}) pf
    WHERE r.serves_home AND pf.price_from IS NOT NULL AND {{after}}
    ORDER BY {{inner_order}}
) r
CROSS JOIN LATERAL (
    SELECT json_agg({_BED_JSON} ORDER BY b.nightly_price, b.id) AS beds
    FROM beds b
    WHERE r.bookable AND {_MATCHING_BED} AND {_FREE.format(shift="")}
) m
WHERE m.beds IS NOT NULL OR NOT r.bookable
ORDER BY {{order}}
LIMIT $18
"""
)
_BY_DISTANCE = {
    "after": "(r.sort_distance, r.id) > ($16::float8, $17::bigint)",
    "inner_order": "r.sort_distance, r.id",
    "order": "r.sort_distance, r.id",
}
_BY_PRICE = {
    "after": "(pf.price_from, r.id) > ($16::bigint, $17::bigint)",
    "inner_order": "pf.price_from, r.id",
    "order": "r.price_from, r.id",
}
SELECT_PAGE_BY_DISTANCE_NEAR = _PAGE.format(where=_NEAR, **_BY_DISTANCE)
SELECT_PAGE_BY_DISTANCE_LISTED = _PAGE.format(where=_LISTED, **_BY_DISTANCE)
SELECT_PAGE_BY_PRICE_NEAR = _PAGE.format(where=_NEAR, **_BY_PRICE)
SELECT_PAGE_BY_PRICE_LISTED = _PAGE.format(where=_LISTED, **_BY_PRICE)

# Facilities that can take the stay (check-in on or after their today) and have beds of the
# kind free for it, none of which the person may take: the distinct profiles of those beds,
# to explain why, and the facility's today. Nearest first, at most $16.
_EXCLUDED = (
    _FACILITIES
    + f"""
SELECT r.id, r.name, r.distance_m, r.policy_code, r.lat, r.lon, r.service_radius_m, r.today,
       x.profiles::text AS profiles
FROM in_range r
CROSS JOIN LATERAL (
    SELECT jsonb_agg(DISTINCT jsonb_build_object(
               'sex_rule', b.sex_rule, 'capabilities', b.capabilities,
               'pressure_care_stage', b.pressure_care_stage)) AS profiles,
           bool_or(r.serves_home AND b.sex_rule = any($6::text[])
                   AND b.pressure_care_stage >= $7::int
                   AND b.capabilities @> r.required) AS any_match
    FROM beds b
    WHERE r.bookable AND b.facility_id = r.id AND b.kind = $1 AND b.active
      AND b.retired_at IS NULL AND {_FREE.format(shift="")}
) x
WHERE x.profiles IS NOT NULL AND NOT x.any_match
ORDER BY r.sort_distance, r.id
LIMIT $16
"""
)
SELECT_EXCLUDED_NEAR = _EXCLUDED.format(where=_NEAR)
SELECT_EXCLUDED_LISTED = _EXCLUDED.format(where=_LISTED)

# For the nearest $18 facilities with matching beds, other than those already offered ($16):
# the matching beds free for the stay shifted by each of $17 days, for each shifted stay that
# does not start before the facility's today.
_ALTERNATIVES = (
    _FACILITIES
    + f"""
, candidate AS (
    SELECT r.* FROM in_range r
    WHERE r.serves_home AND r.id <> ALL($16::bigint[])
      AND EXISTS (SELECT 1 FROM beds b WHERE {_MATCHING_BED})
    ORDER BY r.sort_distance, r.id
    LIMIT $18
)
SELECT r.id, r.name, r.currency, r.distance_m, r.policy_code, s.shift,
       a.beds::text AS beds
FROM candidate r
CROSS JOIN unnest($17::int[]) AS s (shift)
CROSS JOIN LATERAL (
    SELECT json_agg({_BED_JSON} ORDER BY b.nightly_price, b.id) AS beds
    FROM beds b
    WHERE $2::date + s.shift >= r.today AND {_MATCHING_BED}
      AND {_FREE.format(shift=" + s.shift")}
) a
WHERE a.beds IS NOT NULL
ORDER BY r.sort_distance, r.id, s.shift
"""
)
SELECT_ALTERNATIVES_NEAR = _ALTERNATIVES.format(where=_NEAR)
SELECT_ALTERNATIVES_LISTED = _ALTERNATIVES.format(where=_LISTED)

# Which of the policies in $8 the facilities where the search looks apply, to beds the person
# could otherwise take, where the stay is not in the past: a person refused by a policy hears
# about it only where it matters. (Every query takes the shared arguments; this one has no
# use for check-out.)
_CODES_IN_RANGE = (
    _FACILITIES
    + f"""
, unused (check_in, check_out) AS (SELECT $2::date, $3::date)
SELECT DISTINCT r.policy_code
FROM in_range r
WHERE r.bookable AND r.serves_home AND EXISTS (SELECT 1 FROM beds b WHERE {_MATCHING_BED})
"""
)
SELECT_CODES_IN_RANGE_NEAR = _CODES_IN_RANGE.format(where=_NEAR)
SELECT_CODES_IN_RANGE_LISTED = _CODES_IN_RANGE.format(where=_LISTED)

# The home-care providers nearest a home that none serves (an empty home-care answer says who
# is near and how far each reaches): a box of MAX_RADIUS_KM around the home ($3, served by
# facilities_location), those with an active home-care bed whose radius stops short of it.
SELECT_NEAREST_HOME_PROVIDERS = """
SELECT f.id, f.name, f.district, f.service_radius_m,
       respite_distance_m($1, $2, f.lat, f.lon) AS distance_m
FROM facilities f
WHERE f.active AND point(f.lon, f.lat) <@ $3::box
  AND respite_distance_m($1, $2, f.lat, f.lon) > f.service_radius_m
  AND EXISTS (SELECT 1 FROM beds b
              WHERE b.facility_id = f.id AND b.kind = 'home' AND b.active
                AND b.retired_at IS NULL)
ORDER BY distance_m, f.id
LIMIT $4
"""
