"""HTTP routes of facilities, beds, blocks, bed imports and the occupancy board.

Staff and admins only, but for a facility's profile, which every signed-in caller reads.
Staff reach their own facility and its beds and blocks; anything of another facility answers
404, like an id that does not exist.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from litestar import Controller, Request, Router, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException
from litestar.openapi.spec import (
    Example,
    OpenAPIFormat,
    OpenAPIMediaType,
    OpenAPIType,
    RequestBody,
    Schema,
)
from litestar.params import JSONBody, QueryParameter
from litestar.status_codes import (
    HTTP_200_OK,
    HTTP_201_CREATED,
    HTTP_204_NO_CONTENT,
    HTTP_415_UNSUPPORTED_MEDIA_TYPE,
)

from respite.auth import Principal, requires
from respite.deps import Deps
from respite.dto import Strict
from respite.eligibility import CAPABILITIES, Capability, Programme
from respite.inventory import blocks, board, importing, service
from respite.inventory.access import own_facility
from respite.inventory.bed_files import XLSX_MEDIA_TYPE, BedFileFormat
from respite.inventory.commands import (
    BedCreation,
    BedFilter,
    BedImport,
    BedRetirement,
    BedUpdate,
    BlockCreation,
    BlockFilter,
    BlockLift,
    BlockUpdate,
    FacilityFilter,
    FacilityUpdate,
)
from respite.inventory.model import (
    MAX_PAGE,
    Bed,
    BedChanges,
    Block,
    BlockChanges,
    Facility,
    FacilityChanges,
    NewBed,
    NewBlock,
    NewFacility,
)
from respite.inventory.profile import FacilityProfile
from respite.paging import Cursor, Page, limit_parameter
from respite.params import BedFilterId, BedPathId, BlockPathId, FacilityPathId
from respite.reference import documented

__all__ = [
    "BedController",
    "BlockController",
    "FacilityController",
    "FacilityProfileController",
    "inventory_router",
]

Limit = Annotated[int, limit_parameter(MAX_PAGE)]
CSV_MEDIA_TYPE = "text/csv"
Active = Annotated[
    bool | None, QueryParameter(description="Only active ones (true) or inactive ones (false).")
]
Kind = Annotated[Programme | None, QueryParameter(description="Only beds of this kind.")]
Night = Annotated[date | None, QueryParameter(description="YYYY-MM-DD.")]
WindowStart = Annotated[
    date, QueryParameter(description="The first night of the window (YYYY-MM-DD).")
]
WindowEnd = Annotated[
    date, QueryParameter(description="The day after its last night: at most 92 nights.")
]
# The bed import reads the body itself: Litestar cannot see it, so it is described here.
CSV_BODY = RequestBody(
    required=True,
    description="A CSV file (UTF-8, or GB18030/GBK as Excel saves CSV on Chinese Windows) or "
    "an Excel workbook (.xlsx, its first sheet), at most 2 MiB and 5000 rows, whose first "
    "line or row names the "
    "columns in any order. Required: label (unique in the facility), kind (respite or home), "
    "sex_rule (female, male or any), nightly_price (fen, a whole number: 28000 is 280 yuan). "
    "Optional, may be left empty: capabilities (codes separated by ;), pressure_care_stage "
    "(0-4, default 0), active (true or false, default true).",
    content={
        CSV_MEDIA_TYPE: OpenAPIMediaType(
            schema=Schema(type=OpenAPIType.STRING, description="The CSV file, header line first."),
            examples={
                "three-beds": Example(
                    summary="Two respite beds and a home-care bed",
                    value="label,kind,sex_rule,nightly_price,capabilities,pressure_care_stage,"
                    "active\n3F-01,respite,female,28000,oxygen;low_bed,2,true\n"
                    "3F-02,respite,any,26000,,0,\nHB-017,home,any,12000,wheelchair,,true\n",
                )
            },
        ),
        XLSX_MEDIA_TYPE: OpenAPIMediaType(
            schema=Schema(
                type=OpenAPIType.STRING,
                format=OpenAPIFormat.BINARY,
                description="The workbook; its first sheet's first row names the columns.",
            )
        ),
    },
)


# Charsets a CSV body may declare; whatever it declares, the bytes decide (``bed_files``).
_CSV_CHARSETS = frozenset({"utf-8", "utf8", "gbk", "gb18030", "gb2312"})


def _bed_file_format(request: Request[Any, Any, Any]) -> BedFileFormat:
    media_type, options = request.content_type
    if media_type == XLSX_MEDIA_TYPE:
        return "xlsx"
    if media_type == CSV_MEDIA_TYPE and options.get("charset", "utf-8").lower() in _CSV_CHARSETS:
        return "csv"
    raise HTTPException(
        status_code=HTTP_415_UNSUPPORTED_MEDIA_TYPE,
        detail=f"send the file as 'Content-Type: text/csv' (UTF-8 or GB18030/GBK) or as "
        f"'Content-Type: {XLSX_MEDIA_TYPE}' (an Excel workbook)",
    )


class FacilityController(Controller):
    path = "/v1/facilities"
    tags = ["inventory"]
    guards = [requires("staff", "admin")]

    @post(
        "/",
        dto=Strict[NewFacility],
        return_dto=None,
        status_code=HTTP_201_CREATED,
        guards=[requires("admin")],
        summary="Create a facility",
    )
    async def create_facility(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        data: JSONBody[NewFacility],
    ) -> Facility:
        """Create a facility (admin). Policy codes must name stored policies."""
        return await service.create_facility(deps, principal, data)

    @get("/", summary="List facilities")
    async def list_facilities(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        active: Active = None,
        limit: Limit = 100,
        cursor: Cursor = None,
    ) -> Page[Facility]:
        """Every facility (admin), or the caller's own (staff)."""
        facilities = FacilityFilter(active=active, cursor=cursor, limit=limit)
        return await service.list_facilities(deps, principal, facilities)

    @get("/{facility_id:int}", summary="Read a facility")
    async def get_facility(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        facility_id: FacilityPathId,
    ) -> Facility:
        """One facility: any (admin), or the caller's own (staff)."""
        return await service.get_facility(deps, principal, facility_id)

    @patch(
        "/{facility_id:int}",
        dto=Strict[FacilityChanges],
        return_dto=None,
        summary="Change a facility",
    )
    async def update_facility(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        facility_id: FacilityPathId,
        data: JSONBody[FacilityChanges],
    ) -> Facility:
        """Change the fields given. Staff may change only ``phone``, ``service_radius_m`` and
        the profile's words: ``visiting_hours``, ``price_includes``, ``description``."""
        update = FacilityUpdate(facility_id=facility_id, changes=data)
        return await service.update_facility(deps, principal, update)

    @post(
        "/{facility_id:int}/beds",
        dto=Strict[NewBed],
        return_dto=None,
        status_code=HTTP_201_CREATED,
        summary="Create a bed",
    )
    async def create_bed(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        facility_id: FacilityPathId,
        data: JSONBody[NewBed],
    ) -> Bed:
        """Create a bed; its label must be new in the facility (409 otherwise)."""
        creation = BedCreation(facility_id=facility_id, bed=data)
        return await service.create_bed(deps, principal, creation)

    @get("/{facility_id:int}/beds", summary="List a facility's beds")
    async def list_beds(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        facility_id: FacilityPathId,
        kind: Kind = None,
        capability: Annotated[
            list[Capability] | None,
            QueryParameter(
                max_items=len(CAPABILITIES),
                description="Only beds with this capability; repeat it for beds with all.",
            ),
        ] = None,
        active: Active = None,
        include_retired: Annotated[
            bool, QueryParameter(description="Also list beds retired for good.")
        ] = False,
        limit: Limit = 200,
        cursor: Cursor = None,
    ) -> Page[Bed]:
        """Beds by id; ``capability`` may repeat: beds having every one of them."""
        beds = BedFilter(
            facility_id=facility_id,
            kind=kind,
            capabilities=capability or [],
            active=active,
            include_retired=include_retired,
            cursor=cursor,
            limit=limit,
        )
        return await service.list_beds(deps, principal, beds)

    @post(
        "/{facility_id:int}/beds/import",
        status_code=HTTP_200_OK,
        request_max_body_size=importing.MAX_IMPORT_BYTES,
        summary="Import beds from a CSV file or an Excel workbook",
        operation_class=documented(body=CSV_BODY),
    )
    async def import_beds(
        self,
        request: Request[Any, Any, Any],
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        facility_id: FacilityPathId,
    ) -> importing.ImportResult:
        """Create or update beds from a CSV body (``text/csv``, UTF-8 or GB18030/GBK as Excel
        saves CSV on Chinese Windows) or an Excel workbook (its first sheet), at most 2 MiB: a
        header line ``label,kind,sex_rule,nightly_price`` and optionally ``capabilities``
        (codes separated by ``;``), ``pressure_care_stage``, ``active``; labels identify beds.

        All rows or none: a bad file answers 422 with ``errors: [{line, column, message}]``.
        """
        # Another facility's id is unknown before the body is even looked at.
        own_facility(principal, facility_id)
        kind = _bed_file_format(request)
        file = BedImport(facility_id=facility_id, data=await request.body(), format=kind)
        return await importing.import_beds(deps, principal, file)

    @get("/{facility_id:int}/blocks", summary="List a facility's blocks")
    async def list_blocks(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        facility_id: FacilityPathId,
        bed_id: BedFilterId = None,
        start: Night = None,
        end: Night = None,
        include_lifted: Annotated[
            bool, QueryParameter(description="Also list blocks already lifted.")
        ] = False,
        limit: Limit = 200,
        cursor: Cursor = None,
    ) -> Page[Block]:
        """Blocks by id; ``start``/``end`` keep those covering a night of ``[start, end)``."""
        filters = BlockFilter(
            facility_id=facility_id,
            bed_id=bed_id,
            start=start,
            end=end,
            include_lifted=include_lifted,
            cursor=cursor,
            limit=limit,
        )
        return await blocks.list_blocks(deps, principal, filters)

    @get("/{facility_id:int}/board", summary="Show the occupancy board")
    async def occupancy_board(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        facility_id: FacilityPathId,
        start: WindowStart,
        end: WindowEnd,
        kind: Kind = None,
    ) -> board.Board:
        """Every bed × night of ``[start, end)`` (at most 92 nights) with per-night totals.

        ``holds_unknown`` is true when the live holds could not be read from Redis: the board
        then shows what PostgreSQL knows, and held nights show as free.
        """
        query = board.BoardQuery(facility_id=facility_id, start=start, end=end, kind=kind)
        return await board.occupancy_board(deps, principal, query)


class FacilityProfileController(Controller):
    path = "/v1/facilities"
    tags = ["inventory"]
    guards = [requires("family", "staff", "hospital", "admin")]

    @get(
        "/{facility_id:int}/profile",
        summary="A facility's profile",
        description="What a family or a hospital needs to know of any facility: its name, "
        "address, desk phone, the kinds of bed it offers and what they can do for an elder "
        "(in the caller's language), its visiting hours, its price range and what the price "
        "includes. Every signed-in caller may read it; staff-only settings are not in it.",
    )
    async def get_facility_profile(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        facility_id: FacilityPathId,
    ) -> FacilityProfile:
        return await service.get_facility_profile(deps, principal, facility_id)


class BedController(Controller):
    path = "/v1/beds"
    tags = ["inventory"]
    guards = [requires("staff", "admin")]

    @get("/{bed_id:int}", summary="Read a bed")
    async def get_bed(
        self, deps: NamedDependency[Deps], principal: NamedDependency[Principal], bed_id: BedPathId
    ) -> Bed:
        """One bed: any (admin), or one of the caller's facility (staff)."""
        return await service.get_bed(deps, principal, bed_id)

    @patch("/{bed_id:int}", dto=Strict[BedChanges], return_dto=None, summary="Change a bed")
    async def update_bed(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        bed_id: BedPathId,
        data: JSONBody[BedChanges],
    ) -> Bed:
        """Change the fields given; a retired bed no longer changes (409)."""
        return await service.update_bed(deps, principal, BedUpdate(bed_id=bed_id, changes=data))

    @post("/{bed_id:int}/retire", status_code=HTTP_200_OK, summary="Retire a bed")
    async def retire_bed(
        self, deps: NamedDependency[Deps], principal: NamedDependency[Principal], bed_id: BedPathId
    ) -> Bed:
        """Take the bed out of use for good (409 while a booking still claims a night of it
        from the facility's today on)."""
        return await service.retire_bed(deps, principal, BedRetirement(bed_id=bed_id))

    @post(
        "/{bed_id:int}/blocks",
        dto=Strict[NewBlock],
        return_dto=None,
        status_code=HTTP_201_CREATED,
        summary="Block a bed's nights",
    )
    async def create_block(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        bed_id: BedPathId,
        data: JSONBody[NewBlock],
    ) -> Block:
        """Block the nights ``[check_in, check_out)``; 409 naming the booking or block that
        already claims one of them."""
        return await blocks.create_block(deps, principal, BlockCreation(bed_id=bed_id, block=data))


class BlockController(Controller):
    path = "/v1/blocks"
    tags = ["inventory"]
    guards = [requires("staff", "admin")]

    @patch("/{block_id:int}", dto=Strict[BlockChanges], return_dto=None, summary="Change a block")
    async def update_block(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        block_id: BlockPathId,
        data: JSONBody[BlockChanges],
    ) -> Block:
        """Shorten, lengthen, or change the reason or note of a block."""
        update = BlockUpdate(block_id=block_id, changes=data)
        return await blocks.update_block(deps, principal, update)

    @delete("/{block_id:int}", status_code=HTTP_204_NO_CONTENT, summary="Lift a block")
    async def lift_block(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        block_id: BlockPathId,
    ) -> None:
        """Lift the block: its nights are free again. Lifting it again changes nothing."""
        await blocks.lift_block(deps, principal, BlockLift(block_id=block_id))


inventory_router = Router(
    path="/",
    route_handlers=[
        FacilityController,
        FacilityProfileController,
        BedController,
        BlockController,
    ],
)
