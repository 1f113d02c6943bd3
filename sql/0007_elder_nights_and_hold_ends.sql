-- Invariant 7 becomes the database's: one elder, one bed a night. Until now only booking code
-- held it (under the elder's row lock), and data loaded around that code broke it. Like
-- invariant 1, it is kept by a per-night ledger: one row per (elder, night) of every live
-- booking (confirmed or checked_in), whose primary key refuses a second live stay of the same
-- elder on the same night whoever writes it. Bookings claim these nights in the transaction
-- that claims their bed nights, in ascending order like them; leaving the live statuses
-- (check-out, no-show, cancellation) deletes them.
--
-- Existing data is checked first and never repaired by guessing: if two live bookings of one
-- elder already share a night, the migration stops, lists them and changes nothing. Someone
-- who knows the stays cancels or moves one of each pair, then migrates again.

-- No booking is written or changed while the check and the backfill run.
LOCK TABLE bookings IN SHARE MODE;

-- Every pair of live bookings of one elder that share nights, with the first and last shared
-- night. Empty once this migration is applied (the ledger refuses a new pair): a health check.
CREATE VIEW elder_night_clashes AS
SELECT a.care_recipient_id,
       a.id AS booking_id,
       b.id AS other_booking_id,
       greatest(a.check_in, b.check_in) AS first_night,
       least(a.check_out, b.check_out) - 1 AS last_night
FROM bookings a
JOIN bookings b
  ON b.care_recipient_id = a.care_recipient_id
 AND b.id > a.id
 AND b.check_in < a.check_out
 AND a.check_in < b.check_out
WHERE a.status IN ('confirmed', 'checked_in')
  AND b.status IN ('confirmed', 'checked_in');

DO $$
DECLARE
    pairs bigint;
    listing text;
BEGIN
    SELECT count(*) INTO pairs FROM elder_night_clashes;
    IF pairs = 0 THEN
        RETURN;
    END IF;
    SELECT string_agg(
               format('care recipient %s: bookings %s and %s share the nights %s to %s',
                      care_recipient_id, booking_id, other_booking_id, first_night, last_night),
               E'\n' ORDER BY care_recipient_id, first_night, booking_id, other_booking_id)
    INTO listing
    FROM (SELECT * FROM elder_night_clashes
          ORDER BY care_recipient_id, first_night, booking_id, other_booking_id
          LIMIT 200) AS first_pairs;
    RAISE EXCEPTION USING
        MESSAGE = format(
            'one elder, one bed a night, but live bookings (confirmed or checked_in) of one '
            'elder share nights; pairs of such bookings: %s. Nothing was changed. Cancel or '
            'move one booking of each pair, then migrate again.%s%s%s',
            pairs, E'\n', listing,
            CASE WHEN pairs > 200 THEN format(E'\n... and %s more pairs', pairs - 200) ELSE '' END),
        HINT = 'the query of the view elder_night_clashes in '
            'sql/0007_elder_nights_and_hold_ends.sql lists every pair';
END
$$;

CREATE TABLE recipient_nights (
    care_recipient_id   bigint NOT NULL REFERENCES care_recipients (id),
    night               date NOT NULL,
    booking_id          bigint NOT NULL REFERENCES bookings (id),
    PRIMARY KEY (care_recipient_id, night)
);

-- Sorted like every bulk load of a ledger (DESIGN §6).
INSERT INTO recipient_nights (care_recipient_id, night, booking_id)
SELECT b.care_recipient_id, b.check_in + k, b.id
FROM bookings b
CROSS JOIN LATERAL generate_series(0, b.check_out - b.check_in - 1) AS k
WHERE b.status IN ('confirmed', 'checked_in')
ORDER BY b.care_recipient_id, b.check_in + k;

-- A hold ends for good when it is confirmed or released: a released hold's token never
-- confirms, not even while its bed is free (an expired hold's still may, up to its maximum
-- age). Confirming and releasing one hold both write its row here, so the primary key makes
-- them take turns and the second sees what the first did. A row matters only until
-- max_expires_at, after which the hold's token confirms nothing anyway: older rows may be
-- purged.
CREATE TABLE ended_holds (
    hold_id         text PRIMARY KEY CHECK (length(hold_id) BETWEEN 1 AND 100),
    ended           text NOT NULL CHECK (ended IN ('confirmed', 'released')),
    max_expires_at  timestamptz NOT NULL,
    ended_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ended_holds_max_expires_at ON ended_holds (max_expires_at);
