"""Blocks on the desk: take a bed out of service for some nights, change the block, lift it.

Both roles block and unblock. The form on a bed's page is read into the API's ``NewBlock`` (its
own rules: the nights in order, at most ``MAX_BLOCK_NIGHTS``, a note when the reason is
"other"); a change is read the same way and sent as a ``BlockChanges`` of every field. A block
over a booking or another block is refused by the ledger, and the page says which night and
why, in its language. Lifting asks first (its own page), then frees the nights. Another
facility's bed or block is one that does not exist: the 404 page.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Final

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.response import Redirect, Template

from respite.deps import Deps
from respite.errors import ConflictError, FieldError, InvalidInputError
from respite.i18n import Text, t
from respite.inventory import blocks, service
from respite.inventory.commands import BlockCreation, BlockLift, BlockUpdate
from respite.inventory.errors import (
    BedRetiredError,
    BlockLiftedError,
    NightAlreadyBlockedError,
    NightBookedError,
)
from respite.inventory.model import Block, BlockChanges, NewBlock
from respite.pages.assessments import in_order
from respite.pages.desk.beds import bed_facts, bed_page, facility_zone
from respite.pages.forms import form_fields, read_form
from respite.pages.frame import go, page
from respite.pages.guards import staff
from respite.params import BedPathId, BlockPathId

__all__ = ["BlockPages", "refusal"]

Form = dict[str, Any]
FIELDS: Final = ("check_in", "check_out", "reason", "note")


class BlockPages(Controller):
    path = "/desk"
    include_in_schema = False

    @post("/beds/{bed_id:int}/blocks")
    async def block(
        self, request: Request[Any, Any, Any], deps: NamedDependency[Deps], bed_id: BedPathId
    ) -> Template | Redirect:
        principal = staff(request)
        bed = await service.get_bed(deps, principal, bed_id)
        fields = await form_fields(request)
        try:
            new = _read_block(fields)
            block = await blocks.create_block(
                deps, principal, BlockCreation(bed_id=bed_id, block=new)
            )
        except InvalidInputError as exc:
            errors = in_order(exc.errors, FIELDS)
            return await bed_page(
                request, deps, principal, bed, status=422, errors=errors, block_form=fields
            )
        except ConflictError as exc:  # a night booked or blocked already, a retired bed
            failure = refusal(exc, bed.label)
            return await bed_page(
                request, deps, principal, bed, status=409, block_form=fields, failure=failure
            )
        return go(f"/desk/blocks/{block.id}")

    @get("/blocks/{block_id:int}")
    async def block_page(
        self, request: Request[Any, Any, Any], deps: NamedDependency[Deps], block_id: BlockPathId
    ) -> Template:
        principal = staff(request)
        block = await blocks.get_block(deps, principal, block_id)
        return await _block_page(request, deps, block, _as_form(block))

    @post("/blocks/{block_id:int}")
    async def change(
        self, request: Request[Any, Any, Any], deps: NamedDependency[Deps], block_id: BlockPathId
    ) -> Template | Redirect:
        principal = staff(request)
        block = await blocks.get_block(deps, principal, block_id)
        fields = await form_fields(request)
        try:
            new = _read_block(fields)
            changes = BlockChanges(
                check_in=new.check_in, check_out=new.check_out, reason=new.reason, note=new.note
            )
            await blocks.update_block(
                deps, principal, BlockUpdate(block_id=block_id, changes=changes)
            )
        except InvalidInputError as exc:
            errors = in_order(exc.errors, FIELDS)
            return await _block_page(request, deps, block, fields, status=422, errors=errors)
        except ConflictError as exc:  # a night booked or blocked already, a lifted block
            bed = await service.get_bed(deps, principal, block.bed_id)
            failure = refusal(exc, bed.label)
            return await _block_page(request, deps, block, fields, status=409, failure=failure)
        return go(f"/desk/blocks/{block_id}")

    @get("/blocks/{block_id:int}/lift")
    async def lift_page(
        self, request: Request[Any, Any, Any], deps: NamedDependency[Deps], block_id: BlockPathId
    ) -> Template:
        principal = staff(request)
        block = await blocks.get_block(deps, principal, block_id)
        bed = await service.get_bed(deps, principal, block.bed_id)
        return page(request, "desk/blocks/lift.html", block=block, bed=bed)

    @post("/blocks/{block_id:int}/lift")
    async def lift(
        self, request: Request[Any, Any, Any], deps: NamedDependency[Deps], block_id: BlockPathId
    ) -> Redirect:
        principal = staff(request)
        block = await blocks.lift_block(deps, principal, BlockLift(block_id=block_id))
        return go(f"/desk/beds/{block.bed_id}")


def refusal(exc: ConflictError, label: str) -> Text:
    """Why the ledger or the bed refused the block, naming the bed by its label (the API's
    words name it by its id)."""
    night = exc.extensions.get("night")
    on = date.fromisoformat(night) if isinstance(night, str) else None
    if isinstance(exc, NightBookedError) and on is not None:
        return t("desk.blocks.refused.booked", label=label, night=on)
    if isinstance(exc, NightAlreadyBlockedError) and on is not None:
        return t("desk.blocks.refused.blocked", label=label, night=on)
    if isinstance(exc, BedRetiredError):
        return t("desk.blocks.refused.retired", label=label)
    if isinstance(exc, BlockLiftedError):
        return t("desk.blocks.refused.lifted")
    return exc.detail


def _read_block(fields: Form) -> NewBlock:
    data = {name: value for name, value in fields.items() if name in FIELDS}
    return read_form(data, NewBlock)


def _as_form(block: Block) -> Form:
    return {
        "check_in": block.check_in.isoformat(),
        "check_out": block.check_out.isoformat(),
        "reason": block.reason,
        "note": block.note,
    }


async def _block_page(
    request: Request[Any, Any, Any],
    deps: Deps,
    block: Block,
    form: Form,
    *,
    status: int = 200,
    errors: list[FieldError] | None = None,
    failure: Any = None,
) -> Template:
    principal = staff(request)
    bed = await service.get_bed(deps, principal, block.bed_id)
    return page(
        request,
        "desk/blocks/block.html",
        status=status,
        zone=await facility_zone(deps, principal),
        errors=errors,
        block=block,
        bed=bed,
        facts=bed_facts(bed),
        form=form,
        failure=failure,
    )
