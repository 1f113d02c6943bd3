"""Principals, tokens and guards.

Import-light: ``respite.problems`` imports ``auth.errors`` through this package, so the
names below are loaded from their modules on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from respite.exports import on_first_use

if TYPE_CHECKING:
    from respite.auth.guards import optional_principal as optional_principal
    from respite.auth.guards import principal_of as principal_of
    from respite.auth.guards import requires as requires
    from respite.auth.model import ROLES as ROLES
    from respite.auth.model import Principal as Principal
    from respite.auth.model import Role as Role
    from respite.auth.service import (
        authenticate,
        create_principal,
        issue_token,
        list_tokens,
        register_family,
        revoke_token_id,
        sign_in,
        sign_out,
        sign_out_everywhere,
    )
    from respite.auth.staff import (
        accept_invitation,
        invite_staff,
        list_invitations,
        list_team,
        read_invitation,
        remove_staff,
        withdraw_invitation,
    )


__all__ = [
    "accept_invitation",
    "authenticate",
    "create_principal",
    "invite_staff",
    "issue_token",
    "list_invitations",
    "list_team",
    "list_tokens",
    "read_invitation",
    "register_family",
    "remove_staff",
    "revoke_token_id",
    "sign_in",
    "sign_out",
    "sign_out_everywhere",
    "withdraw_invitation",
]
__getattr__ = on_first_use(
    __name__,
    {
        "respite.auth.guards": (
            "optional_principal",
            "principal_of",
            "requires",
        ),
        "respite.auth.model": (
            "Principal",
            "ROLES",
            "Role",
        ),
        "respite.auth.staff": (
            "accept_invitation",
            "invite_staff",
            "list_invitations",
            "list_team",
            "read_invitation",
            "remove_staff",
            "withdraw_invitation",
        ),
        "respite.auth.service": (
            "authenticate",
            "create_principal",
            "issue_token",
            "list_tokens",
            "register_family",
            "revoke_token_id",
            "sign_in",
            "sign_out",
            "sign_out_everywhere",
        ),
    },
)
