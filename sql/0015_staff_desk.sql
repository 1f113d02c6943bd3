-- What staff at a facility's desk need to reach people (issue #13 item 6).

-- A keyed hash (HMAC-SHA256 under the contact-phone key derived from RESPITE_SECRET_KEY) of
-- the emergency contact's number in E.164, so staff find an elder's bookings by any spelling
-- of the full number without the number being stored in the clear. SQL cannot compute it:
-- rows sealed before this column are hashed by the application after migrating
-- (`recipients.phones.backfill_phone_hashes`, run by `respite migrate`, `serve` and `dev`),
-- along the partial index below, which is empty once that is done.
ALTER TABLE care_recipients ADD COLUMN emergency_contact_phone_hash bytea;
CREATE INDEX care_recipients_contact_phone_hash ON care_recipients (emergency_contact_phone_hash)
    WHERE emergency_contact_phone_hash IS NOT NULL;
CREATE INDEX care_recipients_contact_phone_unhashed ON care_recipients (id)
    WHERE emergency_contact_phone_enc IS NOT NULL AND emergency_contact_phone_hash IS NULL;

-- A day's departures at a facility (arrivals use bookings_facility (facility_id, check_in)).
CREATE INDEX bookings_facility_check_out ON bookings (facility_id, check_out);

-- The referrals placed with a facility, newest first, for its staff.
CREATE INDEX referrals_facility ON referrals (facility_id, id) WHERE facility_id IS NOT NULL;
