-- An idempotency key belongs to the principal's organisation, not to one credential, and a
-- walk-in override names every rule it overrides (respite.eligibility.overrides).

-- The organisation a key belongs to, as respite.idempotency.scope writes it: 'hospital:<id>'
-- for any credential of a hospital, 'facility:<id>' for staff, and the principal itself for a
-- family account ('family:<id>') or an admin ('admin:<id>'). principal_id keeps who used the
-- key first.
ALTER TABLE idempotency_keys ADD COLUMN scope text;
UPDATE idempotency_keys k SET scope = CASE p.role
        WHEN 'hospital' THEN 'hospital:' || p.hospital_id
        WHEN 'staff' THEN 'facility:' || p.facility_id
        ELSE p.role || ':' || p.id
    END
FROM principals p
WHERE p.id = k.principal_id;

-- Credentials of one organisation that each used the same key (the duplicates this ends) keep
-- the first use only: a retry through any of them answers the first's result, or is refused
-- as another request if its body differs.
DELETE FROM idempotency_keys k
USING idempotency_keys first
WHERE first.scope = k.scope AND first.key = k.key
  AND (first.created_at, first.principal_id) < (k.created_at, k.principal_id);

ALTER TABLE idempotency_keys
    ALTER COLUMN scope SET NOT NULL,
    ADD CONSTRAINT idempotency_keys_scope
        CHECK (scope ~ '^(hospital|facility|family|admin):[0-9]+$'),
    DROP CONSTRAINT idempotency_keys_pkey,
    ADD PRIMARY KEY (scope, key);

-- Every rule a booking's override reason overrode: [{"code": ..., "acknowledged": ...}].
ALTER TABLE bookings ADD COLUMN overrides jsonb NOT NULL DEFAULT '[]'
    CHECK (jsonb_typeof(overrides) = 'array');

-- A booking overridden before the rules were named overrode, with its reason, every rule its
-- stored decision refused, none of them acknowledged.
UPDATE bookings SET overrides = (
    SELECT coalesce(
        jsonb_agg(jsonb_build_object('code', r ->> 'code', 'acknowledged', false) ORDER BY n),
        '[]')
    FROM jsonb_array_elements(decision -> 'reasons') WITH ORDINALITY AS e (r, n)
    WHERE NOT (r ->> 'ok')::boolean)
WHERE override_reason IS NOT NULL AND jsonb_typeof(decision -> 'reasons') = 'array';
