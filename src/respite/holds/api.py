"""HTTP routes of holds: place, confirm, extend, release, and read back."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, delete, get, post
from litestar.di import NamedDependency
from litestar.params import HeaderParameter, JSONBody, PathParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from respite import idempotency
from respite.auth.guards import requires
from respite.auth.model import Principal
from respite.booking.model import Booking
from respite.deps import Deps
from respite.dto import Strict
from respite.errors import InvalidInputError
from respite.holds import examples, mine, service
from respite.holds.model import (
    ConfirmHold,
    ExtendHold,
    Hold,
    HoldExtended,
    HoldRequest,
    HoldTokenBody,
    HoldView,
    MyHolds,
    PlaceHold,
    ReleaseHold,
)
from respite.i18n import t
from respite.observability import REFUSAL_OPT
from respite.params import IdempotencyHeader, RequiredIdempotencyHeader
from respite.reference import documented

__all__ = ["HoldController"]

# Required, and checked by the handler so that its absence is named like any field.
HoldTokenHeader = Annotated[
    str | None,
    HeaderParameter(
        name="Hold-Token",
        description="The token the hold was placed with. Without it, only a live hold is "
        "released, and only by its holder, its facility's staff or an admin.",
        required=False,
        schema_extra={"oneOf": None, "type": "string"},
    ),
]
HoldIdPath = Annotated[
    str, PathParameter(description="The hold's id (hold_id of the hold's answer).")
]


class HoldController(Controller):
    path = "/v1/holds"
    tags = ["holds"]
    guards = [requires("family", "staff", "hospital", "admin")]

    @post(
        "",
        dto=Strict[HoldRequest],
        return_dto=None,
        status_code=HTTP_201_CREATED,
        summary="Hold a bed",
        response_description="The hold, with the token that confirms it",
        operation_class=documented(
            request=[examples.HOLD_A_BED, examples.HOLD_IN_A_FACILITY],
            answers={201: [examples.HELD]},
        ),
    )
    async def place(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        data: JSONBody[HoldRequest],
        idempotency_key: IdempotencyHeader = None,
    ) -> Hold:
        """Keep a bed for the elder for a few minutes (10 by default) at the price shown,
        while the booking is finished. Name the bed (``bed_id``), or a facility and a kind of
        bed and let the service pick the free bed the stay fills most tightly. The elder must
        be eligible for the bed and the stay (422 ``not-eligible`` lists the reasons); 409 if
        a night is taken. An account keeps only a few live holds at once."""
        command = PlaceHold(request=data, idempotency_key=idempotency.optional_key(idempotency_key))
        return await service.place_hold(deps, principal, command)

    @post(
        "/{hold_id:str}/confirm",
        dto=Strict[HoldTokenBody],
        return_dto=None,
        status_code=HTTP_201_CREATED,
        opt={REFUSAL_OPT: "confirm refused"},
        summary="Confirm a hold into a booking",
        response_description="The booking",
        operation_class=documented(request=[examples.CONFIRM], answers={201: [examples.CONFIRMED]}),
    )
    async def confirm(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        hold_id: HoldIdPath,
        data: JSONBody[HoldTokenBody],
        idempotency_key: RequiredIdempotencyHeader = None,
    ) -> Booking:
        """Turn the hold into a booking at the price the hold showed; a replayed
        Idempotency-Key returns the same booking. An expired hold still confirms while its bed
        is free, up to its maximum age; 409 ``price-changed`` if the bed's price changed since
        the hold, 409 ``hold-ended`` once it was released or is past its maximum age."""
        command = ConfirmHold(
            hold_id=hold_id,
            token=data.token,
            idempotency_key=idempotency.require_key(idempotency_key),
        )
        return await service.confirm_hold(deps, principal, command)

    @post(
        "/{hold_id:str}/extend",
        dto=Strict[HoldTokenBody],
        return_dto=None,
        status_code=HTTP_200_OK,
        summary="Extend a hold",
        response_description="The hold's new end",
        operation_class=documented(request=[examples.CONFIRM], answers={200: [examples.EXTENDED]}),
    )
    async def extend(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        hold_id: HoldIdPath,
        data: JSONBody[HoldTokenBody],
    ) -> HoldExtended:
        """Keep the hold another hold period, a bounded number of times
        (``extensions_left``) and never past ``max_expires_at``."""
        command = ExtendHold(hold_id=hold_id, token=data.token)
        return await service.extend_hold(deps, principal, command)

    @get(
        "",
        summary="My live holds",
        description="The caller's live holds, soonest to end first, each with its bed, the "
        "facility's name, address and phone, its nights and price, when it ends "
        "(`expires_at`, ISO 8601) and the seconds left. Never more than `cap` of them: no one "
        "keeps more live holds than that, so the list needs no pages. Tokens are not shown.",
    )
    async def list_mine(
        self, deps: NamedDependency[Deps], principal: NamedDependency[Principal]
    ) -> MyHolds:
        return await mine.list_my_holds(deps, principal)

    @get(
        "/{hold_id:str}",
        summary="One live hold",
        description="A live hold of the caller (or, for staff, of their facility; admins: any), "
        "as in the list. Anyone else's hold, and one that has ended, is 404.",
    )
    async def get_one(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        hold_id: HoldIdPath,
    ) -> HoldView:
        return await mine.get_hold(deps, principal, hold_id)

    @delete(
        "/{hold_id:str}",
        status_code=HTTP_204_NO_CONTENT,
        summary="Release a hold",
        description="Give the bed back at once, for good: the hold's token never confirms "
        "again. With the `Hold-Token` header, its holder releases it even once it expired "
        "(up to its maximum age). Without it, its holder, staff of its facility or an admin "
        "release it while it is live. Anyone else's hold is 404.",
    )
    async def release(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        hold_id: HoldIdPath,
        hold_token: HoldTokenHeader = None,
    ) -> None:
        if hold_token is None:
            await mine.release_live_hold(deps, principal, hold_id)
            return
        if not hold_token:
            raise InvalidInputError.one("Hold-Token", t("hold.token_header"))
        await service.release_hold(deps, principal, ReleaseHold(hold_id=hold_id, token=hold_token))
