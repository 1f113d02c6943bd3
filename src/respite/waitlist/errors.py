"""Errors of the waiting list, each with the members a client can act on.

    ConflictError
    ├── OfferEndedError         409  the offer was accepted, declined, withdrawn or lapsed
    ├── OfferLostError          409  the bed was taken (or the elder booked) first: the next
    │                                free bed is looked for at once
    ├── EntryEndedError         409  the entry is over (booked, left or expired)
    └── TooManyEntriesError     409  the elder waits in as many entries as they may

Kept free of imports beyond ``respite.errors`` and ``respite.i18n`` so ``respite.problems`` can
import it.
"""

from __future__ import annotations

from respite.errors import ConflictError, RespiteError
from respite.i18n import t

__all__ = ["EntryEndedError", "OfferEndedError", "OfferLostError", "TooManyEntriesError"]

# Why an accepted offer could not be booked, by the error book() raised.
_LOST_REASONS = {
    "BedTakenError": "bed_taken",
    "ElderAlreadyStayingError": "elder_staying",
    "IneligibleError": "not_eligible",
    "PriceChangedError": "price_changed",
}


class OfferEndedError(ConflictError):
    def __init__(self, *, offer_id: int, status: str) -> None:
        super().__init__(
            t("waitlist.offer_ended", status=t(f"waitlist.offer_status.{status}")),
            offer_id=offer_id,
            status=status,
        )


class OfferLostError(ConflictError):
    """Accepting found the bed's nights taken, the elder staying elsewhere, or the elder no
    longer eligible: nothing was booked, the entry waits again, and the service looks for the
    next free bed for it at once. ``detail`` says what refused, in words."""

    def __init__(self, *, offer_id: int, cause: RespiteError) -> None:
        reason = _LOST_REASONS.get(type(cause).__name__, "bed_taken")
        super().__init__(
            t("waitlist.offer_lost", why=cause.detail),
            offer_id=offer_id,
            reason=reason,
        )


class EntryEndedError(ConflictError):
    def __init__(self, *, entry_id: int, status: str) -> None:
        super().__init__(
            t("waitlist.entry_ended", status=t(f"waitlist.entry_status.{status}")),
            entry_id=entry_id,
            status=status,
        )


class TooManyEntriesError(ConflictError):
    def __init__(self, *, care_recipient_id: int, limit: int) -> None:
        super().__init__(
            t("waitlist.too_many_entries", n=limit),
            care_recipient_id=care_recipient_id,
            limit=limit,
        )
