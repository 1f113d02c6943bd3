"""Conflicts of referrals and their callbacks, each a problem type of its own.

Kept light (no services imported): ``respite.problems`` imports this module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from respite.errors import ConflictError
from respite.i18n import t

if TYPE_CHECKING:
    from respite.referral.model import ReferralStatus, Trigger

__all__ = ["DeliveryInFlightError", "EndpointLimitReachedError", "ReferralStepNotAllowedError"]


class ReferralStepNotAllowedError(ConflictError):
    """A step the referral's status does not allow (409 ``referral-step-not-allowed``): a hold
    or a confirm for a referral cancelled meanwhile, a cancel once it is booked, a booking
    change of a referral already completed... The caller's whole change is rolled back."""

    def __init__(
        self,
        *,
        referral_id: int,
        current_status: ReferralStatus,
        step: Trigger,
        allowed_steps: list[Trigger],
    ) -> None:
        words = {
            "status": t(f"referral.status.{current_status}"),
            "step": t(f"referral.step.{step}"),
        }
        allowed = [t(f"referral.step.{s}") for s in allowed_steps]
        detail = (
            t("referral.step_not_allowed", **words, allowed=allowed)
            if allowed
            else t("referral.step_not_allowed_final", **words)
        )
        super().__init__(
            detail,
            referral_id=referral_id,
            current_status=current_status,
            step=step,
            allowed_steps=allowed_steps,
        )


class EndpointLimitReachedError(ConflictError):
    """A hospital registering one callback endpoint more than it may have active at once
    (409 ``endpoint-limit-reached``)."""

    def __init__(self, *, max_endpoints: int) -> None:
        super().__init__(
            t("referral.endpoint_limit", max_endpoints=max_endpoints),
            max_endpoints=max_endpoints,
        )


class DeliveryInFlightError(ConflictError):
    """A redelivery asked for while the delivery is being attempted (409
    ``delivery-in-flight``): its outcome is known within the webhook timeout."""

    def __init__(self, *, delivery_id: int) -> None:
        super().__init__(
            t("referral.delivery_in_flight"),
            delivery_id=delivery_id,
        )
