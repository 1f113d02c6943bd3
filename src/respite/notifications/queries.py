"""SQL of notifications: the outbox, the principal's settings, the inbox, the worker's lease
and the reminders' scan. Tables: ``sql/0019_notifications.sql``."""

from __future__ import annotations

from typing import Final

__all__ = [
    "CLAIM_DUE",
    "DUE_REMINDERS",
    "FINISH_FAILED",
    "FINISH_SENT",
    "FINISH_SKIPPED",
    "INSERT_DELIVERIES",
    "INSERT_NOTIFICATION",
    "LIST_INBOX",
    "MARK_READ",
    "POSTPONE",
    "SELECT_CHOICES",
    "SELECT_INBOX_ITEM",
    "SELECT_LIVE_CODE",
    "SELECT_OWNER_ROLE",
    "UPSERT_SETTINGS",
]

# What the principal chose (no settings row: every column of s is NULL, the defaults apply).
SELECT_CHOICES: Final = """
SELECT p.email AS account_email, s.email_enabled, s.sms_enabled, s.email,
       s.sms_phone_enc, s.sms_phone_last4, s.quiet_start, s.quiet_end, s.timezone, s.language
FROM principals p LEFT JOIN notification_settings s ON s.principal_id = p.id
WHERE p.id = $1
"""

UPSERT_SETTINGS: Final = """
INSERT INTO notification_settings (principal_id, email_enabled, sms_enabled, email,
    sms_phone_enc, sms_phone_last4, quiet_start, quiet_end, timezone, language, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
ON CONFLICT (principal_id) DO UPDATE SET
    email_enabled = EXCLUDED.email_enabled, sms_enabled = EXCLUDED.sms_enabled,
    email = EXCLUDED.email, sms_phone_enc = EXCLUDED.sms_phone_enc,
    sms_phone_last4 = EXCLUDED.sms_phone_last4, quiet_start = EXCLUDED.quiet_start,
    quiet_end = EXCLUDED.quiet_end, timezone = EXCLUDED.timezone,
    language = EXCLUDED.language, updated_at = EXCLUDED.updated_at
"""

# The key is unique per principal: a second notify with it writes nothing.
INSERT_NOTIFICATION: Final = """
INSERT INTO notifications (principal_id, kind, facts, language, dedupe_key, created_at)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (principal_id, dedupe_key) DO NOTHING
RETURNING id
"""

INSERT_DELIVERIES: Final = """
INSERT INTO notification_deliveries (notification_id, channel, next_attempt_at, created_at,
    updated_at)
SELECT $1, channel, $3, $4, $4 FROM unnest($2::text[]) AS c (channel)
"""

_INBOX_COLUMNS = "id, kind, facts::text AS facts, created_at, read_at"

LIST_INBOX: Final = f"""
SELECT {_INBOX_COLUMNS} FROM notifications
WHERE principal_id = $1 AND ($2::bigint IS NULL OR id < $2)
ORDER BY id DESC LIMIT $3
"""

SELECT_INBOX_ITEM: Final = f"""
SELECT {_INBOX_COLUMNS} FROM notifications WHERE id = $1 AND principal_id = $2
"""

# Only an unread one: the first time it was read is kept.
MARK_READ: Final = f"""
UPDATE notifications SET read_at = $3
WHERE id = $1 AND principal_id = $2 AND read_at IS NULL
RETURNING {_INBOX_COLUMNS}
"""

# The role of a booking's owner, for the listener.
SELECT_OWNER_ROLE: Final = "SELECT role FROM principals WHERE id = $1"

# Due deliveries, leased: $1 now, $2 the lease's end, $3 how many, $4 the worker. With each,
# what it needs to be written and addressed: the notification and the principal's settings
# as they are now (a channel turned off since is not sent).
CLAIM_DUE: Final = """
WITH due AS (
    SELECT d.id FROM notification_deliveries d
    WHERE d.status = 'pending' AND d.next_attempt_at <= $1
      AND (d.locked_until IS NULL OR d.locked_until <= $1)
    ORDER BY d.next_attempt_at, d.id
    LIMIT $3
    FOR UPDATE OF d SKIP LOCKED
)
UPDATE notification_deliveries d SET
    attempts = d.attempts + 1,
    first_attempt_at = coalesce(d.first_attempt_at, $1),
    locked_until = $2, locked_by = $4, updated_at = $1
FROM due, notifications n
    JOIN principals p ON p.id = n.principal_id
    LEFT JOIN notification_settings s ON s.principal_id = n.principal_id
WHERE d.id = due.id AND n.id = d.notification_id
RETURNING d.id, d.channel, d.attempts, d.first_attempt_at, n.id AS notification_id,
          n.principal_id, n.kind, n.facts::text AS facts, n.language, n.created_at,
          p.email AS account_email, s.email_enabled, s.sms_enabled, s.email, s.sms_phone_enc,
          s.quiet_start, s.quiet_end, s.timezone
"""

# A one-time code that can still be used ($2 now, $3 the wrong tries that end one): what its
# email or SMS needs (respite.codes).
SELECT_LIVE_CODE: Final = """
SELECT salt, phone_enc FROM one_time_codes
WHERE id = $1 AND used_at IS NULL AND expires_at > $2 AND wrong_tries < $3
"""

# Each finish names the attempt it ends: a lease taken over by another worker is not undone.
FINISH_SENT: Final = """
UPDATE notification_deliveries SET status = 'sent', sent_at = $3, locked_until = NULL,
    last_error = NULL, updated_at = $3
WHERE id = $1 AND attempts = $2
"""

# $4 the error, $5 the next attempt's time, $6 true when the delivery is given up.
FINISH_FAILED: Final = """
UPDATE notification_deliveries SET
    status = CASE WHEN $6 THEN 'dead' ELSE 'pending' END,
    next_attempt_at = $5, locked_until = NULL, last_error = $4, updated_at = $3
WHERE id = $1 AND attempts = $2
"""

# Not sent, and never will be: the channel is off, has no address, or is not configured.
FINISH_SKIPPED: Final = """
UPDATE notification_deliveries SET status = 'dead', locked_until = NULL, last_error = $4,
    updated_at = $3
WHERE id = $1 AND attempts = $2
"""

# In quiet hours: not an attempt; due again when they end.
POSTPONE: Final = """
UPDATE notification_deliveries SET
    attempts = attempts - 1,
    first_attempt_at = CASE WHEN attempts = 1 THEN NULL ELSE first_attempt_at END,
    next_attempt_at = $4, locked_until = NULL, updated_at = $3
WHERE id = $1 AND attempts = $2
"""

# Confirmed stays of families and hospitals that check in on the facility's date $1 days from
# its today, with no such reminder yet. $2 and $3 bound check_in by the dates any timezone can
# have at $4 (the index bookings_confirmed_check_in).
DUE_REMINDERS: Final = """
SELECT b.id, b.booked_by, f.name AS facility_name, f.address, f.phone, bd.label,
       b.check_in, b.check_out
FROM bookings b
JOIN facilities f ON f.id = b.facility_id
JOIN beds bd ON bd.id = b.bed_id
JOIN principals p ON p.id = b.booked_by
WHERE b.status = 'confirmed' AND b.check_in BETWEEN $2 AND $3
  AND b.check_in = ($4::timestamptz AT TIME ZONE f.timezone)::date + $1::integer
  AND p.role IN ('family', 'hospital')
  AND NOT EXISTS (
      SELECT 1 FROM notifications n
      WHERE n.principal_id = b.booked_by
        AND n.dedupe_key = 'reminder:' || $1::integer || ':' || b.id)
ORDER BY b.id
LIMIT $5
"""
