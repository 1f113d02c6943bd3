"""HTTP routes of families' accounts and sessions."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from respite.auth import service
from respite.auth.guards import requires
from respite.auth.limits import request_address
from respite.auth.model import FamilyRegistration, Principal, SignIn, TokenIssued
from respite.deps import Deps
from respite.dto import Strict
from respite.errors import AuthenticationError
from respite.i18n import t
from respite.reference import BEARER

__all__ = ["AuthController"]


class AuthController(Controller):
    path = "/v1/auth"
    tags = ["auth"]

    @post(
        "/register",
        dto=Strict[FamilyRegistration],
        return_dto=None,
        status_code=HTTP_201_CREATED,
        summary="Create a family account",
    )
    async def register(
        self,
        request: Request[Any, Any, Any],
        deps: NamedDependency[Deps],
        data: JSONBody[FamilyRegistration],
    ) -> TokenIssued:
        """Create a family account; the answer carries its first token (shown once)."""
        return await service.register_family(
            deps, data, address=request_address(request, deps.settings)
        )

    @post(
        "/signin",
        dto=Strict[SignIn],
        return_dto=None,
        status_code=HTTP_200_OK,
        summary="Sign in",
    )
    async def sign_in(
        self, request: Request[Any, Any, Any], deps: NamedDependency[Deps], data: JSONBody[SignIn]
    ) -> TokenIssued:
        """Sign in with an email address or phone number and a password; the answer carries a
        new token. Repeated wrong passwords are rate limited (429 with Retry-After)."""
        return await service.sign_in(deps, data, address=request_address(request, deps.settings))

    @post(
        "/signout",
        guards=[requires("family", "staff", "hospital", "admin")],
        status_code=HTTP_204_NO_CONTENT,
        summary="Sign out",
        security=BEARER,
    )
    async def sign_out(
        self,
        request: Request[Any, Any, Any],
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
    ) -> None:
        """Revoke the token this request was made with."""
        token = request.auth
        if not isinstance(token, str):
            raise AuthenticationError(t("auth.token_needed"))
        await service.sign_out(deps, principal, token)

    @get(
        "/me",
        guards=[requires("family", "staff", "hospital", "admin")],
        summary="Who am I",
        security=BEARER,
    )
    async def me(self, principal: NamedDependency[Principal]) -> Principal:
        """Who this token acts for."""
        return principal
