"""What each inventory use case takes: the path ids and the body or query of a request.

Each use case is ``verb(deps, principal, command)``; a read of one object takes its id.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from msgspec import Struct

from respite.eligibility import Capability, Programme
from respite.inventory.model import BedChanges, BlockChanges, FacilityChanges, NewBed, NewBlock

__all__ = [
    "BedCreation",
    "BedFilter",
    "BedImport",
    "BedRetirement",
    "BedUpdate",
    "BlockCreation",
    "BlockFilter",
    "BlockLift",
    "BlockUpdate",
    "FacilityFilter",
    "FacilityUpdate",
]


class FacilityUpdate(Struct, frozen=True, kw_only=True):
    facility_id: int
    changes: FacilityChanges


class FacilityFilter(Struct, frozen=True, kw_only=True):
    active: bool | None = None
    cursor: str | None = None
    limit: int = 100


class BedCreation(Struct, frozen=True, kw_only=True):
    facility_id: int
    bed: NewBed


class BedUpdate(Struct, frozen=True, kw_only=True):
    bed_id: int
    changes: BedChanges


class BedRetirement(Struct, frozen=True, kw_only=True):
    bed_id: int


class BedImport(Struct, frozen=True, kw_only=True):
    """A file of beds for one facility (``inventory.importing``): CSV or an Excel workbook."""

    facility_id: int
    data: bytes
    format: Literal["csv", "xlsx"] = "csv"


class BedFilter(Struct, frozen=True, kw_only=True):
    facility_id: int
    kind: Programme | None = None
    capabilities: list[Capability] = []
    """Beds that have every one of these."""
    active: bool | None = None
    include_retired: bool = False
    cursor: str | None = None
    limit: int = 200


class BlockCreation(Struct, frozen=True, kw_only=True):
    bed_id: int
    block: NewBlock


class BlockUpdate(Struct, frozen=True, kw_only=True):
    block_id: int
    changes: BlockChanges


class BlockLift(Struct, frozen=True, kw_only=True):
    block_id: int


class BlockFilter(Struct, frozen=True, kw_only=True):
    facility_id: int
    bed_id: int | None = None
    start: date | None = None
    """Blocks that cover a night on or after this date."""
    end: date | None = None
    """Blocks that cover a night before this date."""
    include_lifted: bool = False
    cursor: str | None = None
    limit: int = 200
