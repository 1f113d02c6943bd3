"""Availability search: free beds for a stay, near a place or in listed facilities, for a person.

The use case is imported on first use, like every domain package's, so that importing the
package never pulls in the database layer.
"""

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from respite.availability.service import search_availability

_USE_CASES = {"search_availability": "respite.availability.service"}

__all__ = ["search_availability"]


def __getattr__(name: str) -> object:
    module = _USE_CASES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
