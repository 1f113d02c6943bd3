"""Errors of eligibility that the shared tree in ``respite.errors`` does not already name."""

from __future__ import annotations

from datetime import date

from respite.errors import ConflictError
from respite.i18n import t

__all__ = ["NoPolicyInForceError"]


class NoPolicyInForceError(ConflictError):
    """A facility links a policy code of which no version is in force on the date asked
    about: the operator's data is incomplete, not the request (409 ``no-policy-in-force``)."""

    def __init__(self, *, policy_code: str, on: date) -> None:
        super().__init__(
            t("eligibility.no_policy_in_force", policy_code=policy_code, on=on),
            policy_code=policy_code,
            on=on.isoformat(),
        )
