"""SQL of staff accounts: invitations and a facility's team. Every "now" is the app clock's,
passed in; a facility's rows are found by its id, which the use case has checked already."""

_INVITATION_COLUMNS = """
i.id, i.facility_id, i.staff_role, i.email, i.phone_last4, i.created_at, i.expires_at,
i.withdrawn_at, i.accepted_at, i.invited_by
"""

FACILITY_NAME = "SELECT name FROM facilities WHERE id = $1 FOR SHARE"

# Inviting a login again: its open invitation at the facility is withdrawn first.
WITHDRAW_OPEN_FOR_LOGIN = """
UPDATE staff_invitations SET withdrawn_at = $4
WHERE facility_id = $1 AND accepted_at IS NULL AND withdrawn_at IS NULL
  AND (email = $2 OR phone_hash = $3)
RETURNING id
"""

INSERT_INVITATION = f"""
INSERT INTO staff_invitations AS i
    (facility_id, staff_role, email, phone_hash, phone_last4, token_hash, invited_by,
     created_at, expires_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
RETURNING {_INVITATION_COLUMNS}
"""

# The facility's invitations not yet used nor withdrawn, expired ones too: newest first.
OPEN_INVITATIONS = f"""
SELECT {_INVITATION_COLUMNS}
FROM staff_invitations i
WHERE i.facility_id = $1 AND i.accepted_at IS NULL AND i.withdrawn_at IS NULL
ORDER BY i.id DESC
LIMIT $2
"""

# $2: the one facility the caller may touch, or NULL for every facility (an admin).
INVITATION_FOR_UPDATE = f"""
SELECT {_INVITATION_COLUMNS}
FROM staff_invitations i
WHERE i.id = $1 AND ($2::bigint IS NULL OR i.facility_id = $2)
FOR UPDATE
"""

WITHDRAW_INVITATION = f"""
UPDATE staff_invitations AS i SET withdrawn_at = $2
WHERE i.id = $1
RETURNING {_INVITATION_COLUMNS}
"""

INVITATION_BY_TOKEN = f"""
SELECT {_INVITATION_COLUMNS}, i.phone_hash, f.name AS facility_name
FROM staff_invitations i JOIN facilities f ON f.id = i.facility_id
WHERE i.token_hash = $1
"""

INVITATION_BY_TOKEN_FOR_UPDATE = f"""
SELECT {_INVITATION_COLUMNS}, i.phone_hash
FROM staff_invitations i
WHERE i.token_hash = $1
FOR UPDATE
"""

EMAIL_TAKEN = "SELECT 1 FROM principals WHERE email = $1"

INSERT_STAFF = """
INSERT INTO principals
    (role, name, email, phone_hash, phone_last4, password_hash, facility_id, staff_role)
VALUES ('staff', $1, $2, $3, $4, $5, $6, $7)
RETURNING id
"""

ACCEPT_INVITATION = """
UPDATE staff_invitations SET accepted_at = $2, accepted_by = $3 WHERE id = $1
"""

_STAFF_COLUMNS = "p.id, p.name, p.staff_role, p.email, p.phone_last4, p.created_at"

# A facility's team: its staff accounts not removed, managers first, then by name.
TEAM = f"""
SELECT {_STAFF_COLUMNS}
FROM principals p
WHERE p.facility_id = $1 AND p.role = 'staff' AND p.disabled_at IS NULL
ORDER BY p.staff_role = 'manager' DESC, p.name, p.id
LIMIT $2
"""

STAFF_FOR_UPDATE = f"""
SELECT {_STAFF_COLUMNS}, p.facility_id
FROM principals p
WHERE p.id = $1 AND p.role = 'staff' AND p.disabled_at IS NULL
  AND ($2::bigint IS NULL OR p.facility_id = $2)
FOR UPDATE
"""

# The account stays (its audit rows and bookings name it) but signs in no more: its login is
# freed, so that the person may be invited again.
DISABLE_PRINCIPAL = """
UPDATE principals SET disabled_at = $2, email = NULL, phone_hash = NULL WHERE id = $1
"""
