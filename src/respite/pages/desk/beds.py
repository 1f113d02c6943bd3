"""The facility's beds on the desk: the list, a bed's page, adding, changing and retiring one.

Every member of staff sees the beds and a bed's page (with its blocks: ``desk.blocks``);
adding, changing and retiring a bed are for managers (``guards.manager``), and their buttons
are not shown to the front desk. Each form is read into the API's own command (``NewBed``;
a change is read as a whole ``NewBed`` too, so a required field left blank is named, then
sent as a ``BedChanges`` of every field) and handed to the same use case as the API. The
price is typed in yuan, as people say it, and kept in fen. Another facility's bed is one
that does not exist: the 404 page.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Final

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import QueryParameter
from litestar.response import Redirect, Template

from respite.auth.model import Principal
from respite.clock import local_today
from respite.deps import Deps
from respite.eligibility import CAPABILITIES
from respite.errors import FieldError, InvalidInputError
from respite.i18n import t
from respite.inventory import blocks, service
from respite.inventory.commands import BedCreation, BedFilter, BedRetirement, BedUpdate, BlockFilter
from respite.inventory.errors import BedStillBookedError, LabelTakenError
from respite.inventory.model import MAX_PAGE, MAX_PRICE, Bed, BedChanges, NewBed
from respite.pages.assessments import in_order
from respite.pages.forms import form_fields, read_form
from respite.pages.frame import go, page
from respite.pages.guards import manager, staff
from respite.paging import Cursor
from respite.params import BedPathId

__all__ = ["BedPages", "bed_facts", "bed_page", "facility_today"]

Form = dict[str, Any]
FIELDS: Final = (
    "label",
    "kind",
    "sex_rule",
    "nightly_price",
    "capabilities",
    "pressure_care_stage",
    "active",
)
LISTS: Final = frozenset({"capabilities"})
AllBlocks = Annotated[bool, QueryParameter(name="all_blocks")]
# Yuan as people type them: 280, 280.5, 280.50, ¥280, 280元, 1,280.
_YUAN = re.compile(r"^(\d{1,9})(?:\.(\d{1,2}))?$")


class BedPages(Controller):
    path = "/desk/beds"
    include_in_schema = False

    @get("/")
    async def beds(
        self, request: Request[Any, Any, Any], deps: NamedDependency[Deps], cursor: Cursor = None
    ) -> Template:
        principal = staff(request)
        listing = BedFilter(
            facility_id=_facility(principal), include_retired=True, cursor=cursor, limit=MAX_PAGE
        )
        found = await service.list_beds(deps, principal, listing)
        return page(
            request,
            "desk/beds/list.html",
            beds=found.items,
            next_cursor=found.next_cursor,
            may_manage=principal.staff_role == "manager",
            facts=bed_facts,
        )

    @get("/new")
    async def new_page(self, request: Request[Any, Any, Any]) -> Template:
        manager(request)
        return _form(request, None, _blank())

    @post("/new")
    async def add(
        self, request: Request[Any, Any, Any], deps: NamedDependency[Deps]
    ) -> Template | Redirect:
        principal = manager(request)
        fields = await form_fields(request)
        try:
            new = _read_bed(fields, None)
            creation = BedCreation(facility_id=_facility(principal), bed=new)
            bed = await service.create_bed(deps, principal, creation)
        except (InvalidInputError, LabelTakenError) as exc:
            return _again(request, None, fields, exc)
        return go(f"/desk/beds/{bed.id}")

    @get("/{bed_id:int}")
    async def bed(
        self,
        request: Request[Any, Any, Any],
        deps: NamedDependency[Deps],
        bed_id: BedPathId,
        all_blocks: AllBlocks = False,
    ) -> Template:
        principal = staff(request)
        bed = await service.get_bed(deps, principal, bed_id)
        return await bed_page(request, deps, principal, bed, all_blocks=all_blocks)

    @get("/{bed_id:int}/edit")
    async def edit_page(
        self, request: Request[Any, Any, Any], deps: NamedDependency[Deps], bed_id: BedPathId
    ) -> Template | Redirect:
        principal = manager(request)
        bed = await service.get_bed(deps, principal, bed_id)
        if bed.retired_at is not None:  # a retired bed no longer changes: its page says so
            return go(f"/desk/beds/{bed_id}")
        return _form(request, bed, _as_form(bed))

    @post("/{bed_id:int}/edit")
    async def change(
        self, request: Request[Any, Any, Any], deps: NamedDependency[Deps], bed_id: BedPathId
    ) -> Template | Redirect:
        principal = manager(request)
        bed = await service.get_bed(deps, principal, bed_id)
        if bed.retired_at is not None:
            return go(f"/desk/beds/{bed_id}")
        fields = await form_fields(request)
        try:
            changes = _changes(_read_bed(fields, bed))
            await service.update_bed(deps, principal, BedUpdate(bed_id=bed_id, changes=changes))
        except (InvalidInputError, LabelTakenError) as exc:
            return _again(request, bed, fields, exc)
        return go(f"/desk/beds/{bed_id}")

    @get("/{bed_id:int}/retire")
    async def retire_page(
        self, request: Request[Any, Any, Any], deps: NamedDependency[Deps], bed_id: BedPathId
    ) -> Template:
        principal = manager(request)
        bed = await service.get_bed(deps, principal, bed_id)
        return page(request, "desk/beds/retire.html", bed=bed, failure=None)

    @post("/{bed_id:int}/retire")
    async def retire(
        self, request: Request[Any, Any, Any], deps: NamedDependency[Deps], bed_id: BedPathId
    ) -> Template | Redirect:
        principal = manager(request)
        bed = await service.get_bed(deps, principal, bed_id)
        try:
            await service.retire_bed(deps, principal, BedRetirement(bed_id=bed_id))
        except BedStillBookedError as exc:
            return page(request, "desk/beds/retire.html", status=409, bed=bed, failure=exc.detail)
        return go(f"/desk/beds/{bed_id}")


def _facility(principal: Principal) -> int:
    assert principal.facility_id is not None, "guards.staff lets only a facility's staff in"
    return principal.facility_id


async def facility_zone(deps: Deps, principal: Principal) -> str:
    """The facility's time zone: its staff read moments by its own clock."""
    return (await service.get_facility(deps, principal, _facility(principal))).timezone


async def facility_today(deps: Deps, principal: Principal) -> Any:
    """The facility's today (invariant 8), by its own timezone."""
    facility = await service.get_facility(deps, principal, _facility(principal))
    return local_today(facility.timezone, deps.clock.now())


async def bed_page(
    request: Request[Any, Any, Any],
    deps: Deps,
    principal: Principal,
    bed: Bed,
    *,
    all_blocks: bool = False,
    status: int = 200,
    errors: list[FieldError] | None = None,
    block_form: Form | None = None,
    failure: Any = None,
) -> Template:
    """A bed's page: what it is, its blocks, and the form to block it (again with what was
    typed and what is wrong, when ``desk.blocks`` refused it)."""
    today = await facility_today(deps, principal)
    listing = BlockFilter(
        facility_id=bed.facility_id,
        bed_id=bed.id,
        start=None if all_blocks else today,
        include_lifted=all_blocks,
        limit=MAX_PAGE,
    )
    found = await blocks.list_blocks(deps, principal, listing)
    return page(
        request,
        "desk/beds/bed.html",
        status=status,
        zone=await facility_zone(deps, principal),
        errors=errors,
        bed=bed,
        facts=bed_facts(bed),
        blocks=found.items,
        all_blocks=all_blocks,
        may_manage=principal.staff_role == "manager",
        form=block_form or {"check_in": today.isoformat(), "reason": "maintenance"},
        failure=failure,
    )


def bed_facts(bed: Bed) -> dict[str, Any]:
    """What the list and the bed's page say of a bed, in words."""
    state = "active" if bed.active else "inactive"
    if bed.retired_at is not None:
        state = "retired"
    return {
        "kind": t(f"desk.beds.kind.{bed.kind}"),
        "sex_rule": t(f"desk.beds.sex_rule.{bed.sex_rule}"),
        "capabilities": [t(f"desk.beds.capability.{c}") for c in bed.capabilities],
        "pressure": t(f"desk.beds.pressure.{bed.pressure_care_stage}"),
        "state": state,
        "state_words": t(f"desk.beds.state.{state}"),
    }


def _fen(typed: str) -> int | FieldError:
    cleaned = typed.replace(",", "").replace("，", "").strip().lstrip("¥￥").rstrip("元").strip()
    found = _YUAN.match(cleaned)
    if found is None:
        return FieldError("nightly_price", t("desk.beds.form.price_not_yuan", typed=typed[:40]))
    fen = int(found[1]) * 100 + int((found[2] or "0").ljust(2, "0"))
    if fen > MAX_PRICE:
        return FieldError("nightly_price", t("desk.beds.form.price_too_high", most=MAX_PRICE))
    return fen


def _read_bed(fields: Form, bed: Bed | None) -> NewBed:
    """The API's command from the form, or InvalidInputError naming every wrong field in the
    form's order; a change keeps the bed's kind (it is fixed at creation)."""
    data = {name: value for name, value in fields.items() if name in FIELDS}
    data["active"] = fields.get("active") == "true"
    if bed is not None:
        data["kind"] = bed.kind
    errors: list[FieldError] = []
    if "nightly_price" in data:
        fen = _fen(str(data["nightly_price"]))
        if isinstance(fen, FieldError):
            errors.append(fen)
            del data["nightly_price"]
        else:
            data["nightly_price"] = fen
    try:
        new = read_form(data, NewBed, lists=LISTS)
    except InvalidInputError as exc:
        found = [e for e in exc.errors if e.field != "nightly_price" or not errors]
        raise InvalidInputError(in_order([*found, *errors], FIELDS)) from None
    if errors:
        raise InvalidInputError(errors)
    return new


def _changes(new: NewBed) -> BedChanges:
    return BedChanges(
        label=new.label,
        sex_rule=new.sex_rule,
        capabilities=list(new.capabilities),
        pressure_care_stage=new.pressure_care_stage,
        nightly_price=new.nightly_price,
        active=new.active,
    )


def _yuan(fen: int) -> str:
    return f"{fen // 100}" if fen % 100 == 0 else f"{fen // 100}.{fen % 100:02d}"


def _blank() -> Form:
    return {
        "kind": "respite",
        "sex_rule": "any",
        "capabilities": [],
        "pressure_care_stage": "0",
        "active": "true",
    }


def _as_form(bed: Bed) -> Form:
    return {
        "label": bed.label,
        "kind": bed.kind,
        "sex_rule": bed.sex_rule,
        "nightly_price": _yuan(bed.nightly_price),
        "capabilities": list(bed.capabilities),
        "pressure_care_stage": str(bed.pressure_care_stage),
        "active": "true" if bed.active else "",
    }


def _form(
    request: Request[Any, Any, Any],
    bed: Bed | None,
    form: Form,
    *,
    status: int = 200,
    errors: list[FieldError] | None = None,
) -> Template:
    return page(
        request,
        "desk/beds/form.html",
        status=status,
        errors=errors,
        bed=bed,
        heading=(
            t("desk.beds.new.title") if bed is None else t("desk.beds.edit.title", label=bed.label)
        ),
        action="/desk/beds/new" if bed is None else f"/desk/beds/{bed.id}/edit",
        form=form,
        capabilities=CAPABILITIES,
    )


def _again(
    request: Request[Any, Any, Any],
    bed: Bed | None,
    fields: Form,
    exc: InvalidInputError | LabelTakenError,
) -> Template:
    """The form again with what was typed and what is wrong (a label in use is the label
    field's problem)."""
    if isinstance(exc, LabelTakenError):
        errors, status = [FieldError("label", exc.detail)], 409
    else:
        errors, status = in_order(exc.errors, FIELDS), 422
    kept: Form = {**_blank(), "active": "", **fields}
    if bed is not None:
        kept["kind"] = bed.kind
    capabilities = fields.get("capabilities", [])
    kept["capabilities"] = [capabilities] if isinstance(capabilities, str) else capabilities
    return _form(request, bed, kept, status=status, errors=errors)
