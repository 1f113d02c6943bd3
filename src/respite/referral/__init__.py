"""Referral hospitals: hospital clients and credentials, discharge referrals, and their status
callbacks (webhooks) with the outbox they are delivered from.

Where things are: ``service`` (referrals), ``hospital_service`` (organisations and their
credentials) and ``webhook_service`` (callback endpoints, deliveries, events) hold the use
cases; ``api`` their HTTP routes; ``model``, ``hospital_model`` and ``webhook_model`` the
Structs and pure rules; ``outbox`` writes a referral's changes with their events, in the
caller's transaction; ``listener`` is how booking tells referrals of holds and bookings;
``delivery`` posts the callbacks and ``expiry`` expires referrals nobody booked;
``webhook_security`` signs callbacks and decides where one may be sent.

Import-light: ``respite.problems`` imports ``referral.errors`` through this package, so the
use cases below are loaded from their modules on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from respite.exports import on_first_use

if TYPE_CHECKING:
    from respite.referral.hospital_service import (
        create_hospital,
        issue_credential,
        list_credentials,
        list_hospitals,
        revoke_credential,
    )
    from respite.referral.service import (
        cancel_referral,
        create_referral,
        get_referral,
        list_referrals,
        referral_candidates,
    )
    from respite.referral.webhook_service import (
        disable_endpoint,
        get_delivery,
        list_deliveries,
        list_endpoints,
        redeliver,
        referral_events,
        register_endpoint,
        rotate_secret,
    )


__all__ = [
    "cancel_referral",
    "create_hospital",
    "create_referral",
    "disable_endpoint",
    "get_delivery",
    "get_referral",
    "issue_credential",
    "list_credentials",
    "list_deliveries",
    "list_endpoints",
    "list_hospitals",
    "list_referrals",
    "redeliver",
    "referral_candidates",
    "referral_events",
    "register_endpoint",
    "revoke_credential",
    "rotate_secret",
]
__getattr__ = on_first_use(
    __name__,
    {
        "respite.referral.hospital_service": (
            "create_hospital",
            "issue_credential",
            "list_credentials",
            "list_hospitals",
            "revoke_credential",
        ),
        "respite.referral.service": (
            "cancel_referral",
            "create_referral",
            "get_referral",
            "list_referrals",
            "referral_candidates",
        ),
        "respite.referral.webhook_service": (
            "disable_endpoint",
            "get_delivery",
            "list_deliveries",
            "list_endpoints",
            "redeliver",
            "referral_events",
            "register_endpoint",
            "rotate_secret",
        ),
    },
)
