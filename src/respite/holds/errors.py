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
named them. Kept free of imports beyond ``respite.errors`` so ``respite.problems`` can import it.
"""

from __future__ import annotations

from typing import Literal

from respite.errors import ConflictError, RateLimitedError, UnavailableError

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
            f"bed {bed_label} is held by someone else for part of this stay",
            bed_id=bed_id,
            reason="held",
        )


class HeldByAnotherError(ConflictError):
    """Confirm trusts an expired hold of one's own while the bed stays free, not once another
    live hold covers its nights."""

    def __init__(self, *, hold_id: str, bed_id: int) -> None:
        super().__init__(
            "this hold expired and the bed is now held by someone else",
            hold_id=hold_id,
            bed_id=bed_id,
            reason="held_by_another",
        )


class ExtensionsUsedUpError(ConflictError):
    def __init__(self, *, hold_id: str, max_extensions: int, expires_at: float) -> None:
        super().__init__(
            f"a hold can be extended {max_extensions} times",
            hold_id=hold_id,
            max_extensions=max_extensions,
            expires_at=expires_at,
            reason="extension_limit",
        )


class HoldAtMaximumAgeError(ConflictError):
    def __init__(self, *, hold_id: str, expires_at: float) -> None:
        super().__init__(
            "the hold has reached its maximum age; confirm it or place a new one",
            hold_id=hold_id,
            expires_at=expires_at,
            reason="max_age",
        )


class HoldEndedError(ConflictError):
    """A hold confirms while it lives and, once expired, while its bed stays free — but never
    after its holder released it, nor past its maximum age."""

    def __init__(self, *, hold_id: str, reason: Literal["released", "past_max_age"]) -> None:
        why = "was released" if reason == "released" else "is past its maximum age"
        super().__init__(
            f"this hold {why} and confirms nothing: place a new hold",
            hold_id=hold_id,
            reason=reason,
        )


class NoFreeBedError(ConflictError):
    def __init__(self, *, facility_id: int, kind: str) -> None:
        super().__init__(
            f"no free {kind} bed in facility {facility_id} for this stay",
            facility_id=facility_id,
            kind=kind,
            reason="no_free_bed",
        )


class HoldCapReachedError(RateLimitedError):
    def __init__(self, *, cap: int, retry_after: int) -> None:
        super().__init__(
            f"at most {cap} live holds at once: confirm or release one first",
            retry_after=retry_after,
        )
        self.extensions["cap"] = cap


class HoldsUnavailable(UnavailableError):
    """Redis did not answer: which beds are held is unknown right now (503 if not handled)."""

    def __init__(self) -> None:
        super().__init__("redis")
