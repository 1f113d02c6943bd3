"""The waiting list: elders waiting for a bed, and the offers the service makes them by
itself when nights free up (DESIGN.md §8c).

- ``model`` — what joining asks, and what entries, offers and passes read as;
- ``service`` — join, read (with the position), leave, a facility's queue;
- ``offers`` — accept (through ``book()``), decline, and how every offer ends;
- ``offering`` — from a job of the outbox to at most one offer, in the worker's transaction;
- ``matching`` — the free run around freed nights, and the stay it gives an entry (pure);
- ``seeking`` — an entry that joins looks for a bed free already;
- ``worker`` — leases jobs (``SKIP LOCKED``), wakes on ``NOTIFY``, retries;
- ``sweep`` — offers and holds that lapse, entries past their dates, holds Redis lost;
- ``listener`` — a booking that covers an entry's need ends it;
- ``api`` — the routes.

Priority groups are policy data: ``eligibility.priority``, listed by each policy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from respite.exports import on_first_use

if TYPE_CHECKING:
    from respite.waitlist.offering import offer_freed, place_offer_hold
    from respite.waitlist.offers import accept_offer, decline_offer, get_offer, release_offer_hold
    from respite.waitlist.service import get_entry, join, leave, list_entries, queue_of
    from respite.waitlist.sweep import (
        expire_entries,
        lapse_holds,
        lapse_offers,
        restore_offer_holds,
        sweep_all,
    )

__all__ = [
    "accept_offer",
    "decline_offer",
    "expire_entries",
    "get_entry",
    "get_offer",
    "join",
    "lapse_holds",
    "lapse_offers",
    "leave",
    "list_entries",
    "offer_freed",
    "place_offer_hold",
    "queue_of",
    "release_offer_hold",
    "restore_offer_holds",
    "sweep_all",
]
__getattr__ = on_first_use(
    __name__,
    {
        "respite.waitlist.offering": ("offer_freed", "place_offer_hold"),
        "respite.waitlist.offers": (
            "accept_offer",
            "decline_offer",
            "get_offer",
            "release_offer_hold",
        ),
        "respite.waitlist.service": ("get_entry", "join", "leave", "list_entries", "queue_of"),
        "respite.waitlist.sweep": (
            "expire_entries",
            "lapse_holds",
            "lapse_offers",
            "restore_offer_holds",
            "sweep_all",
        ),
    },
)
