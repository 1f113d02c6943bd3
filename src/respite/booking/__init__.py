"""Booking: ``book()`` (the booking rule), bookings in PostgreSQL and their life cycle on site.

Its use cases are named here and imported only when first used, so that ``respite.problems``
can import ``booking.errors`` (and ``respite.deps`` the events) without pulling in the services.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from respite.exports import on_first_use

if TYPE_CHECKING:
    from respite.booking.changes import change_stay, quote_stay_change
    from respite.booking.service import (
        cancel,
        change_status,
        check_in,
        check_out,
        get_booking,
        list_bookings,
        mark_no_show,
        walk_in,
    )


__all__ = [
    "cancel",
    "change_status",
    "change_stay",
    "check_in",
    "check_out",
    "get_booking",
    "list_bookings",
    "mark_no_show",
    "quote_stay_change",
    "walk_in",
]
__getattr__ = on_first_use(
    __name__,
    {
        "respite.booking.changes": ("change_stay", "quote_stay_change"),
        "respite.booking.service": (
            "cancel",
            "change_status",
            "check_in",
            "check_out",
            "get_booking",
            "list_bookings",
            "mark_no_show",
            "walk_in",
        ),
    },
)
