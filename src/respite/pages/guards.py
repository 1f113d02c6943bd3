"""Who may see a page. A page that needs an account sends a stranger to sign in and back.

Families have their pages; staff of a facility have the desk's (``respite.pages.desk``), and
some of those only the facility's managers (what each role may do: ``auth.staff_roles``)."""

from __future__ import annotations

from typing import Any

from litestar import Request

from respite.auth.guards import optional_principal
from respite.auth.model import Principal
from respite.errors import PermissionDeniedError
from respite.i18n import t

__all__ = ["SignInNeeded", "family", "manager", "signed_in", "staff"]


class SignInNeeded(Exception):
    """Answered by a redirect to the sign-in page, which comes back to ``path``."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path


def signed_in(request: Request[Any, Any, Any]) -> Principal:
    principal = optional_principal(request)
    if principal is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInNeeded(target)
    return principal


def family(request: Request[Any, Any, Any]) -> Principal:
    """The family signed in; anyone else is refused (staff have pages of their own)."""
    principal = signed_in(request)
    if principal.role != "family":
        raise PermissionDeniedError(t("page.error.families_only"))
    return principal


def staff(request: Request[Any, Any, Any]) -> Principal:
    """Staff of a facility, signed in; anyone else is refused."""
    principal = signed_in(request)
    if principal.role != "staff" or principal.facility_id is None:
        raise PermissionDeniedError(t("page.error.staff_only"))
    return principal


def manager(request: Request[Any, Any, Any]) -> Principal:
    """A manager of a facility, signed in; front desk staff and anyone else are refused."""
    principal = staff(request)
    if principal.staff_role != "manager":
        raise PermissionDeniedError(t("page.error.managers_only"))
    return principal
