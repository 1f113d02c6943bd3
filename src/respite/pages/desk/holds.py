"""A live hold on one of the facility's beds, as the board's held cell opens it:
``GET /desk/holds/{id}`` (its bed, nights, price, the elder when staff may see them, how long
it has left) and ``POST /desk/holds/{id}/release`` (give the bed back at once).

The page reads the hold with ``holds.get_hold`` and releases it with
``holds.release_live_hold``, as ``GET`` and ``DELETE /v1/holds/{id}`` do without a token: staff
of the hold's facility may do both while it is live. A hold of another facility is not found
(404), even one this staff member placed there; so is one that ended by running out (Redis
forgets it: nothing tells it apart from an id that never was). One that ended for good, booked
or released, says so. The elder is named only if staff may see them (``recipients``: an elder
the facility registered, or with a stay there); who placed the hold is not in what the API
shows staff, so the page does not say it either.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from babel.dates import format_time
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import PathParameter
from litestar.response import Redirect, Template

from respite import holds
from respite.auth.model import Principal
from respite.clock import zone
from respite.deps import Deps
from respite.errors import NotFoundError
from respite.holds.ends import how_ended
from respite.holds.model import HoldView
from respite.holds.store import hold_facility
from respite.i18n import formats
from respite.inventory.service import get_facility
from respite.pages.frame import go, language, page
from respite.pages.guards import staff
from respite.recipients.service import get_recipient

__all__ = ["DeskHoldPages"]

HoldId = Annotated[str, PathParameter(max_length=64)]


class DeskHoldPages(Controller):
    path = "/desk/holds"
    include_in_schema = False

    @get("/{hold_id:str}")
    async def hold(
        self, request: Request[Any, Any, Any], deps: NamedDependency[Deps], hold_id: HoldId
    ) -> Template:
        principal = staff(request)
        try:
            hold = await _own_hold(deps, principal, hold_id)
        except NotFoundError:
            return await _ended(request, deps, principal, hold_id)
        facility = await get_facility(deps, principal, hold.bed.facility_id)
        local = hold.expires_at.astimezone(zone(facility.timezone))
        ends_at = format_time(
            local, "short", tzinfo=local.tzinfo, locale=formats.locale(language(request))
        )
        return page(
            request,
            "desk/board/hold.html",
            hold=hold,
            elder=await _elder_name(deps, principal, hold.care_recipient_id),
            minutes_left=max(1, math.ceil(hold.seconds_left / 60)),
            ends_at=ends_at,
        )

    @post("/{hold_id:str}/release")
    async def release(
        self, request: Request[Any, Any, Any], deps: NamedDependency[Deps], hold_id: HoldId
    ) -> Template | Redirect:
        principal = staff(request)
        try:
            hold = await _own_hold(deps, principal, hold_id)
            await holds.release_live_hold(deps, principal, hold_id)
        except NotFoundError:  # ended meanwhile (booked, released, ran out), or not ours
            return await _ended(request, deps, principal, hold_id, refused=True)
        return go(f"/desk/board?start={hold.check_in.isoformat()}&notice=released")


async def _own_hold(deps: Deps, principal: Principal, hold_id: str) -> HoldView:
    """The live hold, if it is on a bed of the principal's facility; else not found."""
    hold = await holds.get_hold(deps, principal, hold_id)
    if hold.bed.facility_id != principal.facility_id:
        raise NotFoundError("hold", hold_id)
    return hold


async def _elder_name(deps: Deps, principal: Principal, care_recipient_id: int) -> str | None:
    try:
        return (await get_recipient(deps, principal, care_recipient_id)).name
    except NotFoundError:
        return None


async def _ended(
    request: Request[Any, Any, Any],
    deps: Deps,
    principal: Principal,
    hold_id: str,
    *,
    refused: bool = False,
) -> Template:
    """A hold of this facility that ended for good (booked or released): a page that says so
    (410 when it was to be released); anything else is not found."""
    if len(hold_id) <= 64 and hold_facility(hold_id) == principal.facility_id:
        async with deps.pool.acquire() as conn:
            ended = await how_ended(conn, hold_id)
        if ended is not None:
            status = 410 if refused else 200
            return page(request, "desk/board/hold_ended.html", status=status, ended=ended)
    raise NotFoundError("hold", hold_id)
