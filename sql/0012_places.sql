-- The gazetteer (respite.places): the deployment's administrative divisions by name, so that a
-- family can search "徐汇区" or "Tianping Lu" instead of typing coordinates. Loaded from an
-- operator's file (`respite places import FILE`), replaced whole by each import. Coordinates
-- are in the deployment's coordinate system (RESPITE_COORDINATE_SYSTEM), stated in the file.
CREATE TABLE places (
    id          bigint PRIMARY KEY,
    kind        text NOT NULL CHECK (kind IN ('district', 'street', 'community')),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    name_en     text NOT NULL CHECK (length(name_en) BETWEEN 1 AND 100),
    -- The names as a search compares them (respite.places.model.name_key): without the
    -- division's suffix (区, 街道, 镇, District, Subdistrict ...), spaces or case.
    name_key    text NOT NULL,
    name_en_key text NOT NULL,
    parent_id   bigint REFERENCES places (id),
    lat         double precision NOT NULL CHECK (lat BETWEEN -90 AND 90),
    lon         double precision NOT NULL CHECK (lon BETWEEN -180 AND 180),
    -- How far the place reaches from its centroid: a search by its name looks this far.
    radius_m    integer NOT NULL CHECK (radius_m BETWEEN 100 AND 200000),
    CHECK ((kind = 'district') = (parent_id IS NULL))
);
CREATE INDEX places_name_key ON places (name_key);
CREATE INDEX places_name_en_key ON places (name_en_key);
