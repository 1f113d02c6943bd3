"""Errors of accounts and sessions that the shared tree in ``respite.errors`` does not name."""

from __future__ import annotations

from respite.errors import ConflictError
from respite.i18n import t

__all__ = ["AccountExistsError"]


class AccountExistsError(ConflictError):
    """A family registers with an email address or phone number that already has an account
    (409 ``account-exists``). Which of the two is not said: the answer must not tell a
    stranger whose number is registered."""

    def __init__(self) -> None:
        super().__init__(t("auth.account_exists"))
