-- Inventory: listing a facility's blocks over a window (GET /v1/facilities/{id}/blocks) reads
-- them by facility; blocks otherwise have only a per-bed index.
CREATE INDEX blocks_facility ON blocks (facility_id, check_in);
