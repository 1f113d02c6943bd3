"""Holds: short claims on (bed, stay) in Redis — place, extend, release, and confirm, which
calls ``booking.book`` (``service``); read back and released without their token (``mine``).

Its use cases are named here and imported only when first used, so that ``respite.problems``
can import ``holds.errors`` (and ``respite.deps`` the store) without pulling in the services.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from respite.exports import on_first_use

if TYPE_CHECKING:
    from respite.holds.mine import get_hold, list_my_holds, release_live_hold
    from respite.holds.service import confirm_hold, extend_hold, place_hold, release_hold


__all__ = [
    "confirm_hold",
    "extend_hold",
    "get_hold",
    "list_my_holds",
    "place_hold",
    "release_hold",
    "release_live_hold",
]
__getattr__ = on_first_use(
    __name__,
    {
        "respite.holds.mine": ("get_hold", "list_my_holds", "release_live_hold"),
        "respite.holds.service": (
            "confirm_hold",
            "extend_hold",
            "place_hold",
            "release_hold",
        ),
    },
)
