"""Errors of accounts and sessions that the shared tree in ``respite.errors`` does not name."""

from __future__ import annotations

from respite.errors import ConflictError, PermissionDeniedError, RespiteError
from respite.i18n import t

__all__ = [
    "AccountExistsError",
    "InvitationEndedError",
    "ManagerOnlyError",
    "UnknownInvitationError",
]


class AccountExistsError(ConflictError):
    """A family registers with an email address or phone number that already has an account
    (409 ``account-exists``). Which of the two is not said: the answer must not tell a
    stranger whose number is registered."""

    def __init__(self) -> None:
        super().__init__(t("auth.account_exists"))


class ManagerOnlyError(PermissionDeniedError):
    """A front desk account asked for what only its facility's managers may do (403
    ``managers-only``; the table: ``auth.staff_roles``): ``action`` names it,
    ``allowed_staff_roles`` who may."""

    def __init__(self, action: str, allowed: list[str]) -> None:
        super().__init__(
            t("staff_accounts.managers_only", action=t(f"staff_accounts.action.{action}")),
            action=action,
            allowed_staff_roles=allowed,
        )


class InvitationEndedError(ConflictError):
    """A staff invitation that can no longer be accepted (409 ``invitation-ended``):
    ``state`` says whether it was ``used``, ``withdrawn`` or ``expired``. An unknown token is
    404, like any id that does not exist."""

    def __init__(self, state: str) -> None:
        super().__init__(t(f"staff_accounts.invitation_{state}"), state=state)
        self.state = state


class UnknownInvitationError(RespiteError):
    """No invitation has this token (404 ``unknown-invitation``): mistyped or cut short."""

    def __init__(self) -> None:
        super().__init__(t("staff_accounts.invitation_unknown"))
