"""Inventory: facilities, beds, blocks, bulk import and the occupancy board.

Kept free of imports so that ``respite.problems`` can import ``inventory.errors`` without
pulling in the services. Public entry points live in their modules: ``service`` (facilities,
beds, blocks), ``importing`` (CSV), ``board`` (occupancy), ``api`` (``inventory_router``).
"""

__all__: list[str] = []
