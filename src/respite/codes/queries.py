"""SQL of one-time codes. Table: ``sql/0020_one_time_codes.sql``. Every time is the app
clock's, passed in."""

from __future__ import annotations

from typing import Final

__all__ = [
    "END_LIVE_CODES",
    "INSERT_CODE",
    "LIVE_CODE",
    "LOCK_PRINCIPAL",
    "SET_PASSWORD",
    "USE_CODE",
    "WRONG_TRY",
]

# Codes are asked for one at a time per account.
LOCK_PRINCIPAL: Final = "SELECT 1 FROM principals WHERE id = $1 FOR UPDATE"

# The live codes of the purposes $2 end at $3 (a new one asked for, or one used): they expire
# now, and the number an SMS went to is erased.
END_LIVE_CODES: Final = """
UPDATE one_time_codes SET expires_at = $3, phone_enc = NULL
WHERE principal_id = $1 AND purpose = any($2::text[]) AND used_at IS NULL AND expires_at > $3
"""

INSERT_CODE: Final = """
INSERT INTO one_time_codes (principal_id, purpose, channel, salt, phone_enc, created_at,
    expires_at)
VALUES ($1, $2, $3, $4, $5, $6, $7)
RETURNING id
"""

# The principal's newest code of a purpose that has not expired or been used ($3 now), locked:
# two tries of one code are decided one after the other.
LIVE_CODE: Final = """
SELECT id, salt, wrong_tries FROM one_time_codes
WHERE principal_id = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3
ORDER BY id DESC
LIMIT 1
FOR UPDATE
"""

WRONG_TRY: Final = """
UPDATE one_time_codes SET wrong_tries = wrong_tries + 1 WHERE id = $1 RETURNING wrong_tries
"""

# Used: it works no more, and the number it went to is erased.
USE_CODE: Final = "UPDATE one_time_codes SET used_at = $2, phone_enc = NULL WHERE id = $1"

SET_PASSWORD: Final = "UPDATE principals SET password_hash = $2 WHERE id = $1"
