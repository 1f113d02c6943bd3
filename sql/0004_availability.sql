-- Availability search: great-circle distance in SQL, and the indexes its plans use.

-- The same formula as respite.geo.haversine_m, term for term, so that the database and Python
-- agree on which facility is inside a radius. A plain SQL function of one expression (not
-- STRICT, no FROM) so that the planner inlines it into the queries that call it. A null point
-- gives a null distance: the clamp to 1 (rounding, for antipodal points) is a CASE, not
-- least(), which would turn a null into 1.
CREATE FUNCTION respite_distance_m(
    lat1 double precision, lon1 double precision, lat2 double precision, lon2 double precision
) RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT 2 * 6371008.8 * asin(CASE
        WHEN sqrt(sin((radians(lat2) - radians(lat1)) / 2) ^ 2
                  + cos(radians(lat1)) * cos(radians(lat2)) * sin(radians(lon2 - lon1) / 2) ^ 2)
             > 1 THEN 1
        ELSE sqrt(sin((radians(lat2) - radians(lat1)) / 2) ^ 2
                  + cos(radians(lat1)) * cos(radians(lat2)) * sin(radians(lon2 - lon1) / 2) ^ 2)
    END)
$$;

-- The beds a search may offer, per facility and kind, with every column the search reads: the
-- search orders facilities by their cheapest matching bed (sort=price) and lists matching beds
-- from this index alone (index-only scans), instead of visiting the table for each facility in
-- range. Beds change rarely, so their pages stay all-visible.
CREATE INDEX beds_search ON beds (facility_id, kind)
    INCLUDE (id, label, sex_rule, capabilities, pressure_care_stage, nightly_price)
    WHERE active AND retired_at IS NULL;
