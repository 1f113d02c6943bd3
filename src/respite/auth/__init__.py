"""Principals, tokens and guards.

Import-light: ``respite.problems`` imports ``auth.errors`` through this package, so the
names below are loaded from their modules on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

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
    )

# The use cases (``service``).
__all__ = [
    "authenticate",
    "create_principal",
    "issue_token",
    "list_tokens",
    "register_family",
    "revoke_token_id",
    "sign_in",
    "sign_out",
]

_HOME = {
    **dict.fromkeys(__all__, "respite.auth.service"),
    **dict.fromkeys(("optional_principal", "principal_of", "requires"), "respite.auth.guards"),
    **dict.fromkeys(("ROLES", "Principal", "Role"), "respite.auth.model"),
}


def __getattr__(name: str) -> object:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)
