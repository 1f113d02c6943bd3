"""HTTP routes of holds: place, confirm, extend, release, and read back."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, delete, get, post
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
from respite.holds import mine, service
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
        hold_id: FromPath[str],
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
        hold_id: FromPath[str],
        hold_token: HoldTokenHeader = None,
    ) -> None:
        if hold_token is None:
            await mine.release_live_hold(deps, principal, hold_id)
            return
        if not hold_token:
            raise InvalidInputError.one(
                "Hold-Token", "send the hold's token in the Hold-Token header"
            )
        await service.release_hold(deps, principal, ReleaseHold(hold_id=hold_id, token=hold_token))
