-- What a family and a hospital need to know about a facility, in the facility's own words:
-- when visitors may come, what its nightly price includes, and the care it offers beyond
-- what its beds' capabilities say. Staff of the facility keep them (they are its desk's
-- knowledge, like its phone); every signed-in caller reads them on its profile.
ALTER TABLE facilities
    ADD COLUMN visiting_hours text NOT NULL DEFAULT '' CHECK (length(visiting_hours) <= 200),
    ADD COLUMN price_includes text NOT NULL DEFAULT '' CHECK (length(price_includes) <= 500),
    ADD COLUMN description text NOT NULL DEFAULT '' CHECK (length(description) <= 1000);

-- Bookings and referrals now answer with their facility's contact, and a replayed
-- Idempotency-Key answers what was kept: give the answers kept before this migration the
-- facility's contact as it is now, so their replays decode in the new shape.
UPDATE idempotency_keys k
SET response = k.response || jsonb_build_object('facility', jsonb_build_object(
    'id', f.id, 'name', f.name, 'address', f.address, 'phone', f.phone))
FROM facilities f
WHERE k.response ? 'bed_label' AND k.response ? 'booked_by' AND NOT k.response ? 'facility'
  AND f.id = (k.response->>'facility_id')::bigint;

UPDATE idempotency_keys k
SET response = k.response || jsonb_build_object('facility', CASE WHEN f.id IS NULL THEN 'null'::jsonb
    ELSE jsonb_build_object('id', f.id, 'name', f.name, 'address', f.address, 'phone', f.phone)
    END)
FROM referrals r LEFT JOIN facilities f ON f.id = r.facility_id
WHERE k.operation = 'referral.cancel' AND k.response ? 'contact' AND NOT k.response ? 'facility'
  AND r.id = (k.response->>'id')::bigint;
