"""Inventory: facilities, beds, blocks, bulk import and the occupancy board.

The use cases are imported on first use, so that ``respite.problems`` importing
``inventory.errors`` never pulls in the services. They live in ``service`` (facilities, beds),
``blocks``, ``importing`` (CSV) and ``board`` (occupancy); routes in ``api``
(``inventory_router``).
"""

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from respite.inventory.blocks import create_block, lift_block, list_blocks, update_block
    from respite.inventory.board import occupancy_board
    from respite.inventory.importing import import_beds
    from respite.inventory.service import (
        create_bed,
        create_facility,
        get_bed,
        get_facility,
        list_beds,
        list_facilities,
        retire_bed,
        update_bed,
        update_facility,
    )

_USE_CASES = {
    "create_bed": "respite.inventory.service",
    "create_facility": "respite.inventory.service",
    "get_bed": "respite.inventory.service",
    "get_facility": "respite.inventory.service",
    "list_beds": "respite.inventory.service",
    "list_facilities": "respite.inventory.service",
    "retire_bed": "respite.inventory.service",
    "update_bed": "respite.inventory.service",
    "update_facility": "respite.inventory.service",
    "create_block": "respite.inventory.blocks",
    "lift_block": "respite.inventory.blocks",
    "list_blocks": "respite.inventory.blocks",
    "update_block": "respite.inventory.blocks",
    "import_beds": "respite.inventory.importing",
    "occupancy_board": "respite.inventory.board",
}

__all__ = [
    "create_bed",
    "create_block",
    "create_facility",
    "get_bed",
    "get_facility",
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


def __getattr__(name: str) -> object:
    module = _USE_CASES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
