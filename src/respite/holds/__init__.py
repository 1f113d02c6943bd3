"""Holds: short claims on (bed, stay) in Redis — place, extend, release, and confirm, which
calls ``booking.book``.

Its use cases are named here and imported only when first used, so that ``respite.problems``
can import ``holds.errors`` (and ``respite.deps`` the store) without pulling in the services.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from respite.exports import on_first_use

if TYPE_CHECKING:
    from respite.holds.service import confirm_hold, extend_hold, place_hold, release_hold


__all__ = [
    "confirm_hold",
    "extend_hold",
    "place_hold",
    "release_hold",
]
__getattr__ = on_first_use(
    __name__,
    {
        "respite.holds.service": (
            "confirm_hold",
            "extend_hold",
            "place_hold",
            "release_hold",
        ),
    },
)
