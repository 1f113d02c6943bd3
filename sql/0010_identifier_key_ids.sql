-- Every stored identifier names the key that sealed it (respite.crypto), so the identifier key
-- can be rotated while the service runs: it decrypts by key id and encrypts with the newest,
-- and `respite rotate-id-key` re-encrypts what the older keys sealed.

-- The key id a sealed value carries: version 2 is 2 || key id (2 bytes) || nonce || ...;
-- version 1, written before key ids, is under key 1; anything else has none.
CREATE FUNCTION identifier_key_id(sealed bytea) RETURNS integer
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN CASE
        WHEN length(sealed) < 3 THEN NULL
        WHEN get_byte(sealed, 0) = 1 THEN 1
        WHEN get_byte(sealed, 0) = 2 THEN get_byte(sealed, 1) * 256 + get_byte(sealed, 2)
    END;

-- Generated from the value itself, so a key id can never disagree with its ciphertext; the
-- rotation and an operator (how many rows are still under key 1?) read them.
ALTER TABLE care_recipients
    ADD COLUMN national_id_key_id integer
        GENERATED ALWAYS AS (identifier_key_id(national_id_enc)) STORED,
    ADD COLUMN emergency_contact_phone_key_id integer
        GENERATED ALWAYS AS (identifier_key_id(emergency_contact_phone_enc)) STORED;
ALTER TABLE referrals
    ADD COLUMN contact_phone_key_id integer
        GENERATED ALWAYS AS (identifier_key_id(contact_phone_enc)) STORED;

-- The keys this database has seen: each id with a value only that key opens, so a service
-- started with another key under a known id (a forgotten RESPITE_ID_KEY_ID) refuses to start
-- instead of sealing new values under the wrong id. A key is recorded by the first `respite
-- serve`, `dev` or `rotate-id-key` that uses it.
CREATE TABLE identifier_keys (
    id          integer PRIMARY KEY CHECK (id BETWEEN 1 AND 65535),
    check_value bytea NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
