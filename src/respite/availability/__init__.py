"""Availability search: free beds for a stay, near a place or in listed facilities, for a person.

The use case is imported on first use, like every domain package's, so that importing the
package never pulls in the database layer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from respite.exports import on_first_use

if TYPE_CHECKING:
    from respite.availability.service import search_availability


__all__ = [
    "search_availability",
]
__getattr__ = on_first_use(
    __name__,
    {
        "respite.availability.service": ("search_availability",),
    },
)
