"""SQL of the gazetteer. The table is small (a city's divisions, a few thousand rows at most)
and read by name through its two key indexes."""

from __future__ import annotations

__all__ = [
    "DELETE_PLACES",
    "LOCK_PLACES",
    "PLACE_COLUMNS",
    "SELECT_BOUNDS",
    "SELECT_NEAR_MATCHES",
    "SELECT_PLACES_BY_KEY",
    "SELECT_PLACE_AT",
    "SELECT_PLACE_BY_ID",
]

LOCK_PLACES = "LOCK TABLE places IN SHARE ROW EXCLUSIVE MODE"
DELETE_PLACES = "DELETE FROM places"
PLACE_COLUMNS = (
    "id",
    "kind",
    "name",
    "name_en",
    "name_key",
    "name_en_key",
    "parent_id",
    "lat",
    "lon",
    "radius_m",
)

_SELECT = """
SELECT p.id, p.kind, p.name, p.name_en, p.lat, p.lon, p.radius_m,
       CASE p.kind WHEN 'district' THEN NULL
                   WHEN 'street' THEN parent.name
                   ELSE (SELECT d.name FROM places d WHERE d.id = parent.parent_id) END
           AS district
FROM places p
LEFT JOIN places parent ON parent.id = p.parent_id
"""

SELECT_PLACE_BY_ID = _SELECT + "WHERE p.id = $1"

# The most local place whose reach holds the point $1, $2 (lat, lon): a community before its
# street, a street before its district. Distances are flat-earth, fine within a city.
SELECT_PLACE_AT = (
    _SELECT
    + """CROSS JOIN LATERAL (
    SELECT 111320.0 * sqrt(power(p.lat - $1, 2) + power(cos(radians($1)) * (p.lon - $2), 2))
        AS away_m
) d
WHERE d.away_m <= p.radius_m
ORDER BY p.radius_m, d.away_m, p.id
LIMIT 1"""
)

SELECT_PLACES_BY_KEY = (
    _SELECT + "WHERE p.name_key = $1 OR p.name_en_key = $1 ORDER BY p.kind, p.id LIMIT 20"
)

# Names that contain the one given, or that it contains, or that start as it does: the
# typo of a pinyin name, a name given with its district in front.
SELECT_NEAR_MATCHES = (
    _SELECT
    + """WHERE strpos(p.name_key, $1) > 0 OR strpos($1, p.name_key) > 0
   OR strpos(p.name_en_key, $1) > 0 OR strpos($1, p.name_en_key) > 0
   OR (length($1) >= 4 AND left(p.name_en_key, 4) = left($1, 4))
ORDER BY (strpos(p.name_key, $1) > 0 OR strpos(p.name_en_key, $1) > 0) DESC, p.kind, p.id
LIMIT 5"""
)

# The box the districts cover with their reach (metres to degrees: 111,320 m a degree of
# latitude; a degree of longitude shrinks with the cosine of the latitude).
SELECT_BOUNDS = """
SELECT min(lat - radius_m / 111320.0) AS south, max(lat + radius_m / 111320.0) AS north,
       min(lon - radius_m / (111320.0 * cos(radians(lat)))) AS west,
       max(lon + radius_m / (111320.0 * cos(radians(lat)))) AS east
FROM places
WHERE kind = 'district'
"""
