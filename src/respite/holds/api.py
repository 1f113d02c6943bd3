"""HTTP routes of holds: place, confirm, extend, release."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, delete, post
from litestar.di import NamedDependency
from litestar.params import FromPath, HeaderParameter, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from respite import idempotency
from respite.auth.guards import requires
from respite.auth.model import Principal
from respite.booking.model import Booking
from respite.deps import Deps
from respite.dto import Strict
from respite.errors import InvalidInputError
from respite.holds import service
from respite.holds.model import (
    ConfirmHold,
    ExtendHold,
    Hold,
    HoldExtended,
    HoldRequest,
    HoldTokenBody,
    PlaceHold,
    ReleaseHold,
)
from respite.i18n import t
from respite.observability import REFUSAL_OPT
from respite.params import IdempotencyHeader, RequiredIdempotencyHeader

__all__ = ["HoldController"]

HoldTokenHeader = Annotated[
    str | None,
    HeaderParameter(
        name="Hold-Token", description="The token the hold was placed with", required=False
    ),
]


class HoldController(Controller):
    path = "/v1/holds"
    tags = ["holds"]
    guards = [requires("family", "staff", "hospital", "admin")]

    @post("", dto=Strict[HoldRequest], return_dto=None, status_code=HTTP_201_CREATED)
    async def place(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        data: JSONBody[HoldRequest],
        idempotency_key: IdempotencyHeader = None,
    ) -> Hold:
        """Hold a bed (or let the service pick the tightest fit in a facility) for a few minutes."""
        command = PlaceHold(request=data, idempotency_key=idempotency.optional_key(idempotency_key))
        return await service.place_hold(deps, principal, command)

    @post(
        "/{hold_id:str}/confirm",
        dto=Strict[HoldTokenBody],
        return_dto=None,
        status_code=HTTP_201_CREATED,
        opt={REFUSAL_OPT: "confirm refused"},
    )
    async def confirm(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        hold_id: FromPath[str],
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
    )
    async def extend(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        hold_id: FromPath[str],
        data: JSONBody[HoldTokenBody],
    ) -> HoldExtended:
        """Keep the hold longer, a bounded number of times and never past its maximum age."""
        command = ExtendHold(hold_id=hold_id, token=data.token)
        return await service.extend_hold(deps, principal, command)

    @delete("/{hold_id:str}", status_code=HTTP_204_NO_CONTENT)
    async def release(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        hold_id: FromPath[str],
        hold_token: HoldTokenHeader = None,
    ) -> None:
        """Give the bed back at once, for good: the hold's token never confirms again."""
        if not hold_token:
            raise InvalidInputError.one("Hold-Token", t("hold.token_header"))
        await service.release_hold(deps, principal, ReleaseHold(hold_id=hold_id, token=hold_token))
