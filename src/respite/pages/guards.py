"""Who may see a page. A page that needs an account sends a stranger to sign in and back."""

from __future__ import annotations

from typing import Any

from litestar import Request

from respite.auth.guards import optional_principal
from respite.auth.model import Principal
from respite.errors import PermissionDeniedError
from respite.i18n import t

__all__ = ["SignInNeeded", "family", "signed_in"]


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
