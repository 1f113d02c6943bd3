"""Errors of booking: each refusal a client can meet, with the members it can act on.

    IneligibleError            422  the decision refuses and nobody overrode it
    ConflictError
    ├── BedTakenError          409  a night of the stay is booked or blocked
    ├── ElderAlreadyStayingError 409  the elder has another live stay on some of the nights
    ├── PriceChangedError      409  the bed's price is not the one the hold showed
    ├── StepNotAllowedError    409  the life-cycle step is not allowed in the booking's status

Kept free of imports beyond ``respite.errors`` and ``respite.i18n`` so that
``respite.problems`` can import it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

import msgspec

from respite.errors import ConflictError, RespiteError
from respite.i18n import Text, t

if TYPE_CHECKING:
    from respite.eligibility.model import Decision
    from respite.eligibility.overrides import OverrideOption

__all__ = [
    "BedTakenError",
    "ElderAlreadyStayingError",
    "IneligibleError",
    "PriceChangedError",
    "StepNotAllowedError",
]


class IneligibleError(RespiteError):
    """The eligibility decision refuses and nobody overrode it (422 ``not-eligible``).

    ``reasons`` carries every reason of the decision (``ok`` false for each ground of refusal),
    each with its stable code, messages and figures, so a client can show all of them at once.
    ``override_options`` says how staff at the desk may override each ground of refusal, and
    ``not_overridden`` which ones a request's overrides left uncovered.
    """

    def __init__(
        self,
        policy_code: str,
        reasons: list[dict[str, Any]],
        override_options: list[dict[str, Any]],
        not_overridden: Sequence[str] | None = None,
    ) -> None:
        refused = [r["code"] for r in reasons if not r.get("ok")]
        left = refused if not_overridden is None else list(not_overridden)
        detail = t("booking.not_eligible", codes=refused)
        if left != refused:
            detail = t("booking.not_overridden", codes=left)
        super().__init__(
            detail,
            policy_code=policy_code,
            refused=refused,
            reasons=reasons,
            override_options=override_options,
            not_overridden=left,
        )

    @classmethod
    def of(
        cls,
        decision: Decision,
        options: Sequence[OverrideOption] = (),
        *,
        not_overridden: Sequence[str] | None = None,
    ) -> IneligibleError:
        return cls(
            decision.policy_code,
            [msgspec.structs.asdict(r) for r in decision.reasons],  # messages stay Text
            msgspec.to_builtins(options),
            not_overridden,
        )


class BedTakenError(ConflictError):
    """A night of the stay is claimed by a booking or a block (exactly one of the two)."""

    def __init__(
        self,
        *,
        bed_id: int,
        bed_label: str,
        night: date,
        conflicting_booking: int | None,
        conflicting_block: int | None,
    ) -> None:
        key = "booking.bed_booked" if conflicting_booking is not None else "booking.bed_blocked"
        super().__init__(
            t(key, bed=bed_label, night=night),
            bed_id=bed_id,
            night=night.isoformat(),
            conflicting_booking=conflicting_booking,
            conflicting_block=conflicting_block,
        )


class ElderAlreadyStayingError(ConflictError):
    """An elder takes one bed a night: another live stay of theirs shares a night."""

    def __init__(self, *, care_recipient_id: int, check_in: date, check_out: date) -> None:
        super().__init__(
            t("booking.elder_staying", check_in=check_in, check_out=check_out),
            care_recipient_id=care_recipient_id,
            conflicting_stay={"check_in": check_in.isoformat(), "check_out": check_out.isoformat()},
        )


class PriceChangedError(ConflictError):
    """What a hold showed is what is charged: staff changed the bed's nightly price between
    the hold and its confirm, so nothing was booked."""

    def __init__(
        self,
        *,
        bed_id: int,
        hold_id: str | None,
        held_nightly_price: int,
        current_nightly_price: int,
    ) -> None:
        super().__init__(
            t("booking.price_changed", held=held_nightly_price, current=current_nightly_price),
            bed_id=bed_id,
            hold_id=hold_id,
            held_nightly_price=held_nightly_price,
            current_nightly_price=current_nightly_price,
        )


class StepNotAllowedError(ConflictError):
    """The life-cycle step (check-in, check-out, no-show, cancel) does not apply now."""

    def __init__(self, *, booking_id: int, current_status: str, action: str, why: Text) -> None:
        super().__init__(why, booking_id=booking_id, current_status=current_status, action=action)
