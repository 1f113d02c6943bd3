"""Errors of holds: each refusal a client can meet, with the members it can act on.

    ConflictError
    ├── BedHeldError            409  someone else holds the bed for part of the stay
    ├── HeldByAnotherError      409  this hold expired and someone else now holds the bed
    ├── ExtensionsUsedUpError   409  the hold was extended as often as it may be
    ├── HoldAtMaximumAgeError   409  the hold cannot live any longer
    ├── HoldEndedError          409  the hold was released, or is past its maximum age
    └── NoFreeBedError          409  the facility has no free bed of the kind for the stay
    RateLimitedError
    └── HoldCapReachedError     429  the principal keeps as many live holds as it may
    UnavailableError
    └── HoldsUnavailable        503  Redis does not answer: which beds are held is unknown

Each conflict also carries ``reason``, the short code clients read before the problem types
named them. Kept free of imports beyond ``respite.errors`` and ``respite.i18n`` so
``respite.problems`` can import it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from respite.errors import ConflictError, RateLimitedError, UnavailableError
from respite.i18n import t

__all__ = [
    "BedHeldError",
    "ExtensionsUsedUpError",
    "HeldByAnotherError",
    "HoldAtMaximumAgeError",
    "HoldCapReachedError",
    "HoldEndedError",
    "HoldsUnavailable",
    "NoFreeBedError",
]


class BedHeldError(ConflictError):
    def __init__(self, *, bed_id: int, bed_label: str) -> None:
        super().__init__(
            t("hold.bed_held", bed=bed_label),
            bed_id=bed_id,
            reason="held",
        )


class HeldByAnotherError(ConflictError):
    """Confirm trusts an expired hold of one's own while the bed stays free, not once another
    live hold covers its nights."""

    def __init__(self, *, hold_id: str, bed_id: int) -> None:
        super().__init__(
            t("hold.held_by_another"),
            hold_id=hold_id,
            bed_id=bed_id,
            reason="held_by_another",
        )


class ExtensionsUsedUpError(ConflictError):
    def __init__(self, *, hold_id: str, max_extensions: int, expires_at: datetime) -> None:
        super().__init__(
            t("hold.extensions_used_up", n=max_extensions),
            hold_id=hold_id,
            max_extensions=max_extensions,
            expires_at=expires_at,
            reason="extension_limit",
        )


class HoldAtMaximumAgeError(ConflictError):
    def __init__(self, *, hold_id: str, expires_at: datetime) -> None:
        super().__init__(
            t("hold.max_age"),
            hold_id=hold_id,
            expires_at=expires_at,
            reason="max_age",
        )


class HoldEndedError(ConflictError):
    """A hold confirms while it lives and, once expired, while its bed stays free — but never
    after its holder released it, nor past its maximum age."""

    def __init__(self, *, hold_id: str, reason: Literal["released", "past_max_age"]) -> None:
        super().__init__(
            t(f"hold.{reason}"),
            hold_id=hold_id,
            reason=reason,
        )


class NoFreeBedError(ConflictError):
    def __init__(self, *, facility_id: int, kind: str) -> None:
        super().__init__(
            t("hold.no_free_bed", facility_id=facility_id, kind=t(f"common.kind.{kind}")),
            facility_id=facility_id,
            kind=kind,
            reason="no_free_bed",
        )


class HoldCapReachedError(RateLimitedError):
    def __init__(self, *, cap: int, retry_after: int) -> None:
        super().__init__(
            t("hold.cap_reached", cap=cap, seconds=retry_after),
            retry_after=retry_after,
        )
        self.extensions["cap"] = cap


class HoldsUnavailable(UnavailableError):
    """Redis did not answer: which beds are held is unknown right now (503 if not handled)."""

    def __init__(self) -> None:
        super().__init__("redis")
