"""The gazetteer: the deployment's districts, streets and communities, found by name.

The use cases are imported on first use, like every domain package's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from respite.exports import on_first_use

if TYPE_CHECKING:
    from respite.places.service import (
        find_place,
        gazetteer_bounds,
        import_places,
        place_at,
        replace_places,
    )

__all__ = ["find_place", "gazetteer_bounds", "import_places", "place_at", "replace_places"]
__getattr__ = on_first_use(
    __name__,
    {
        "respite.places.service": (
            "find_place",
            "gazetteer_bounds",
            "import_places",
            "place_at",
            "replace_places",
        )
    },
)
