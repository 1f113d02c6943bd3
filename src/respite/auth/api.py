"""HTTP routes of families' accounts and sessions."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from respite.auth import service
from respite.auth.guards import principal_of, requires
from respite.auth.model import FamilyRegistration, Principal, SignIn, TokenIssued
from respite.dto import Strict
from respite.errors import AuthenticationError
from respite.ratelimit import enforce

__all__ = ["AuthController"]


class AuthController(Controller):
    path = "/v1/auth"
    tags = ["auth"]

    @post(
        "/register", dto=Strict[FamilyRegistration], return_dto=None, status_code=HTTP_201_CREATED
    )
    async def register(
        self, request: Request[Any, Any, Any], data: JSONBody[FamilyRegistration]
    ) -> TokenIssued:
        """Create a family account; the answer carries its first token (shown once)."""
        state = request.app.state
        address = request.client.host if request.client else "unknown"
        await enforce(
            state.redis,
            [(f"rl:register:addr:{address}", state.settings.signin_limit_per_address)],
            state.settings.signin_window_seconds,
        )
        return await service.register_family(state.pool, state.settings, data)

    @post("/signin", dto=Strict[SignIn], return_dto=None, status_code=HTTP_200_OK)
    async def sign_in(self, request: Request[Any, Any, Any], data: JSONBody[SignIn]) -> TokenIssued:
        """Sign in with an email address or phone number and a password."""
        state = request.app.state
        address = request.client.host if request.client else "unknown"
        return await service.sign_in(state.pool, state.redis, state.settings, data, address)

    @post(
        "/signout",
        guards=[requires("family", "staff", "hospital", "admin")],
        status_code=HTTP_204_NO_CONTENT,
    )
    async def sign_out(self, request: Request[Any, Any, Any]) -> None:
        """Revoke the token this request was made with."""
        token = request.auth
        if not isinstance(token, str):
            raise AuthenticationError("this route needs a bearer token")
        await service.revoke_token(request.app.state.pool, principal_of(request), token)

    @get("/me", guards=[requires("family", "staff", "hospital", "admin")])
    async def me(self, principal: NamedDependency[Principal]) -> Principal:
        """Who this token acts for."""
        return principal
