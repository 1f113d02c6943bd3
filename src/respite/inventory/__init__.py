"""Inventory: facilities, beds, blocks, bulk import and the occupancy board.

The use cases are imported on first use, so that ``respite.problems`` importing
``inventory.errors`` never pulls in the services. They live in ``service`` (facilities, beds),
``blocks``, ``importing`` (CSV) and ``board`` (occupancy); routes in ``api``
(``inventory_router``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from respite.exports import on_first_use

if TYPE_CHECKING:
    from respite.inventory.blocks import (
        create_block,
        get_block,
        lift_block,
        list_blocks,
        update_block,
    )
    from respite.inventory.board import occupancy_board
    from respite.inventory.importing import import_beds
    from respite.inventory.service import (
        create_bed,
        create_facility,
        get_bed,
        get_facility,
        get_facility_profile,
        list_beds,
        list_facilities,
        retire_bed,
        update_bed,
        update_facility,
    )


__all__ = [
    "create_bed",
    "create_block",
    "create_facility",
    "get_bed",
    "get_block",
    "get_facility",
    "get_facility_profile",
    "import_beds",
    "lift_block",
    "list_beds",
    "list_blocks",
    "list_facilities",
    "occupancy_board",
    "retire_bed",
    "update_bed",
    "update_block",
    "update_facility",
]
__getattr__ = on_first_use(
    __name__,
    {
        "respite.inventory.blocks": (
            "create_block",
            "get_block",
            "lift_block",
            "list_blocks",
            "update_block",
        ),
        "respite.inventory.board": ("occupancy_board",),
        "respite.inventory.importing": ("import_beds",),
        "respite.inventory.service": (
            "create_bed",
            "create_facility",
            "get_bed",
            "get_facility",
            "get_facility_profile",
            "list_beds",
            "list_facilities",
            "retire_bed",
            "update_bed",
            "update_facility",
        ),
    },
)
