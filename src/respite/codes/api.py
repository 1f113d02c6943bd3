"""HTTP routes of one-time codes, beside the rest of signing in under ``/v1/auth``."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, post
from litestar.di import NamedDependency
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_202_ACCEPTED

from respite.auth.limits import request_address
from respite.auth.model import TokenIssued
from respite.codes import service
from respite.codes.model import CodeOnItsWay, CodeRequest, CodeSignIn, PasswordReset
from respite.deps import Deps
from respite.dto import Strict
from respite.i18n import current_language

__all__ = ["CodeController"]


class CodeController(Controller):
    path = "/v1/auth"
    tags = ["auth"]

    @post(
        "/codes",
        dto=Strict[CodeRequest],
        return_dto=None,
        status_code=HTTP_202_ACCEPTED,
        summary="Send a one-time code",
    )
    async def send_code(
        self,
        request: Request[Any, Any, Any],
        deps: NamedDependency[Deps],
        data: JSONBody[CodeRequest],
    ) -> CodeOnItsWay:
        """Send a one-time code to an account's email address (by email) or phone number (by
        SMS): to set a new password (``password_reset``) or to sign in without one
        (``sign_in``). It works once, for ``RESPITE_CODE_MINUTES`` (10), until typed wrong
        ``RESPITE_CODE_TRIES`` (5) times; a new code ends the ones before it. The message is in
        the language of ``Accept-Language``, or the account's own when none is sent. The
        answer is the same whether or not an account has the login (and takes as long), and
        no code is sent when none has. Limited per login and per client address (429 with
        Retry-After); a login of a channel this deployment does not send on is a 422 naming
        ``login``."""
        address = request_address(request, deps.settings)
        # Written in the language the request named; without one, in the account's own.
        named = current_language() if "accept-language" in request.headers else None
        return await service.request_code(deps, data, address=address, language=named)

    @post(
        "/signin/code",
        dto=Strict[CodeSignIn],
        return_dto=None,
        status_code=HTTP_200_OK,
        summary="Sign in with a one-time code",
    )
    async def sign_in_with_code(
        self,
        request: Request[Any, Any, Any],
        deps: NamedDependency[Deps],
        data: JSONBody[CodeSignIn],
    ) -> TokenIssued:
        """Sign in with the code ``POST /v1/auth/codes`` sent for ``sign_in``; the answer
        carries a new token. A wrong or expired code, and a login without an account, are
        the same 401."""
        return await service.sign_in_with_code(
            deps, data, address=request_address(request, deps.settings)
        )

    @post(
        "/password/reset",
        dto=Strict[PasswordReset],
        return_dto=None,
        status_code=HTTP_200_OK,
        summary="Set a new password with a one-time code",
    )
    async def reset_password(
        self,
        request: Request[Any, Any, Any],
        deps: NamedDependency[Deps],
        data: JSONBody[PasswordReset],
    ) -> TokenIssued:
        """Set a new password with the code ``POST /v1/auth/codes`` sent for
        ``password_reset``. Every token of the account is revoked (each browser and API client
        is signed out); the answer carries a new one. A wrong or expired code, and a login
        without an account, are the same 401."""
        return await service.reset_password(
            deps, data, address=request_address(request, deps.settings)
        )
