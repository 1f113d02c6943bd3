"""Holds: short claims on (bed, stay) in Redis — place, extend, release, and confirm, which
calls ``booking.book``.

Its use cases are named here and imported only when first used, so that ``respite.problems``
can import ``holds.errors`` (and ``respite.deps`` the store) without pulling in the services.
"""

from __future__ import annotations

import importlib

__all__ = ["confirm_hold", "extend_hold", "place_hold", "release_hold"]


def __getattr__(name: str) -> object:
    if name in __all__:
        return getattr(importlib.import_module("respite.holds.service"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
