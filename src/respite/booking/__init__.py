"""Booking: ``book()`` (the booking rule), bookings in PostgreSQL and their life cycle on site.

Its use cases are named here and imported only when first used, so that ``respite.problems``
can import ``booking.errors`` (and ``respite.deps`` the events) without pulling in the services.
"""

from __future__ import annotations

import importlib

__all__ = [
    "cancel",
    "change_status",
    "check_in",
    "check_out",
    "get_booking",
    "list_bookings",
    "mark_no_show",
    "walk_in",
]


def __getattr__(name: str) -> object:
    if name in __all__:
        return getattr(importlib.import_module("respite.booking.service"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
