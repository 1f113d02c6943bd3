-- Where a referral is placed: the facility of its hold or its booking. That facility's local
-- calendar date is the referral's "today" (for its discharge date and its expiry); while no
-- bed is held or booked for it, the deployment's default timezone decides.
ALTER TABLE referrals ADD COLUMN facility_id bigint REFERENCES facilities (id);

-- Referrals booked before the column existed take their booking's facility.
UPDATE referrals r SET facility_id = b.facility_id
FROM bookings b
WHERE b.id = r.booking_id;
