"""Principals, tokens and guards."""

from respite.auth.guards import optional_principal, principal_of, requires
from respite.auth.model import ROLES, Principal, Role

__all__ = ["ROLES", "Principal", "Role", "optional_principal", "principal_of", "requires"]
