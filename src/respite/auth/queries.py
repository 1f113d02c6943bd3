"""SQL of principals and tokens. ``$2`` of ``SELECT_PRINCIPAL_BY_TOKEN`` is the app clock's now:
expiry is decided by the one clock, not the database's."""

INSERT_PRINCIPAL = """
INSERT INTO principals
    (role, name, email, phone_hash, phone_last4, password_hash, facility_id, hospital_id,
     staff_role)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
RETURNING id
"""

SELECT_PRINCIPAL_BY_EMAIL = """
SELECT id, role, name, facility_id, hospital_id, staff_role, password_hash
FROM principals WHERE email = $1 AND disabled_at IS NULL
"""

# $1 the canonical number's hash, $2 every hash the number may be kept under: the canonical
# one wins over one kept by an earlier spelling.
SELECT_PRINCIPAL_BY_PHONE = """
SELECT id, role, name, facility_id, hospital_id, staff_role, password_hash, phone_hash
FROM principals WHERE phone_hash = any($2::bytea[]) AND disabled_at IS NULL
ORDER BY phone_hash = $1 DESC
LIMIT 1
"""

PHONE_TAKEN = "SELECT 1 FROM principals WHERE phone_hash = any($1::bytea[])"

# An account kept under an earlier spelling of its number moves to the canonical one.
CANONICAL_PHONE = """
UPDATE principals SET phone_hash = $2
WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM principals WHERE phone_hash = $2)
"""

INSERT_TOKEN = """
INSERT INTO tokens (principal_id, token_hash, label, expires_at)
VALUES ($1, $2, $3, $4)
RETURNING id
"""

SELECT_PRINCIPAL_BY_TOKEN = """
SELECT p.id, p.role, p.name, p.facility_id, p.hospital_id, p.staff_role
FROM tokens t JOIN principals p ON p.id = t.principal_id
WHERE t.token_hash = $1
  AND t.revoked_at IS NULL
  AND (t.expires_at IS NULL OR t.expires_at > $2)
  AND p.disabled_at IS NULL
"""

REVOKE_TOKEN = """
UPDATE tokens SET revoked_at = now()
WHERE token_hash = $1 AND revoked_at IS NULL
RETURNING id, principal_id
"""

REVOKE_TOKEN_BY_ID = """
UPDATE tokens SET revoked_at = now()
WHERE id = $1 AND revoked_at IS NULL
RETURNING id, principal_id
"""

REVOKE_TOKENS_OF_PRINCIPAL = """
UPDATE tokens SET revoked_at = now()
WHERE principal_id = $1 AND revoked_at IS NULL
RETURNING id
"""

LIST_TOKENS = """
SELECT t.id, p.role, p.name, t.label, p.facility_id, p.hospital_id, t.created_at, t.expires_at,
       t.revoked_at
FROM tokens t JOIN principals p ON p.id = t.principal_id
ORDER BY t.id
"""

FACILITY_EXISTS = "SELECT 1 FROM facilities WHERE id = $1"
HOSPITAL_EXISTS = "SELECT 1 FROM hospitals WHERE id = $1"
