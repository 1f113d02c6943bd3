"""HTTP routes of holds: place, confirm, extend, release."""

from __future__ import annotations

import time
from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, post
from litestar.params import FromPath, HeaderParameter, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT

from respite import idempotency
from respite.auth.guards import principal_of, requires
from respite.booking.hold_model import ConfirmRequest, HoldRequest
from respite.booking.hold_service import (
    HoldContext,
    confirm_hold,
    extend_hold,
    place_hold,
    release_hold,
)
from respite.dto import Strict
from respite.errors import InvalidInputError
from respite.params import IdempotencyHeader, RequiredIdempotencyHeader

__all__ = ["HoldController", "clock"]

HoldTokenHeader = Annotated[
    str | None,
    HeaderParameter(
        name="Hold-Token", description="The token the hold was placed with", required=False
    ),
]


def clock() -> float:
    """Unix time; the one clock of holds (tests replace it)."""
    return time.time()


def _context(request: Request[Any, Any, Any]) -> HoldContext:
    state = request.app.state
    return HoldContext(pool=state.pool, store=state.holds, settings=state.settings, now=clock())


class HoldController(Controller):
    path = "/v1/holds"
    tags = ["holds"]
    guards = [requires("family", "staff", "hospital", "admin")]

    @post("", dto=Strict[HoldRequest], return_dto=None)
    async def place(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[HoldRequest],
        idempotency_key: IdempotencyHeader = None,
    ) -> Response[Any]:
        """Hold a bed (or let the service pick the tightest fit in a facility) for a few minutes."""
        key = idempotency.optional_key(idempotency_key)
        status, body = await place_hold(_context(request), principal_of(request), data, key)
        return Response(body, status_code=status)

    @post("/{hold_id:str}/confirm", dto=Strict[ConfirmRequest], return_dto=None)
    async def confirm(
        self,
        request: Request[Any, Any, Any],
        hold_id: FromPath[str],
        data: JSONBody[ConfirmRequest],
        idempotency_key: RequiredIdempotencyHeader = None,
    ) -> Response[Any]:
        """Turn the hold into a booking; a replayed Idempotency-Key returns the same booking."""
        key = idempotency.require_key(idempotency_key)
        status, body = await confirm_hold(
            _context(request), principal_of(request), hold_id, data.token, key
        )
        return Response(body, status_code=status)

    @post(
        "/{hold_id:str}/extend",
        dto=Strict[ConfirmRequest],
        return_dto=None,
        status_code=HTTP_200_OK,
    )
    async def extend(
        self,
        request: Request[Any, Any, Any],
        hold_id: FromPath[str],
        data: JSONBody[ConfirmRequest],
    ) -> dict[str, Any]:
        """Keep the hold longer, a bounded number of times and never past its maximum age."""
        return await extend_hold(_context(request), principal_of(request), hold_id, data.token)

    @delete("/{hold_id:str}", status_code=HTTP_204_NO_CONTENT)
    async def release(
        self,
        request: Request[Any, Any, Any],
        hold_id: FromPath[str],
        hold_token: HoldTokenHeader = None,
    ) -> None:
        """Give the bed back at once."""
        if not hold_token:
            raise InvalidInputError.one(
                "Hold-Token", "send the hold's token in the Hold-Token header"
            )
        await release_hold(_context(request), principal_of(request), hold_id, hold_token)
