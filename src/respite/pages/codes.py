"""One-time codes on the pages: a forgotten password, and signing in by a code by text message
(or email), through the same use cases as the API (``respite.codes``: the same limits, the same
answer whether or not an account has the login).

Each is two steps. Ask: the login, and a code is sent (the page says where, partly hidden, and
for how long it works). Then the code, with a new password for a reset: a reset signs out every
session of the account and signs this browser in anew; a code sign-in signs in. The second step
can also be opened on its own (``/password/reset``, ``/signin/code/enter``) by whoever has a
code from before. What was typed comes back with an error, never the code or the password.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.response import Redirect, Template
from msgspec import Meta

from respite import codes
from respite.auth.limits import request_address
from respite.auth.model import Password
from respite.codes.model import (
    CODE_DIGITS,
    CodeOnItsWay,
    CodePurpose,
    CodeRequest,
    CodeSignIn,
    PasswordReset,
)
from respite.deps import Deps
from respite.errors import InvalidInputError, RespiteError
from respite.pages.account import Next, session_cookie
from respite.pages.forms import form_fields, read_form
from respite.pages.frame import go, language, local_path, page
from respite.problems import problem_kind

__all__ = ["CodePages"]

Login = Annotated[str, Meta(min_length=3, max_length=254)]
Code = Annotated[str, Meta(min_length=1, max_length=20)]


class AskForm(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    login: Login
    next: str | None = None


class SignInForm(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    login: Login
    code: Code
    next: str | None = None


class ResetForm(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    login: Login
    code: Code
    password: Password


_ASK = "account/code_ask.html"
_ENTER = "account/code_enter.html"


def _ask(request: Request[Any, Any, Any], purpose: CodePurpose, **context: Any) -> Template:
    return page(request, _ASK, purpose=purpose, **{"login": "", "next": "", **context})


def _enter(
    request: Request[Any, Any, Any],
    purpose: CodePurpose,
    sent: CodeOnItsWay | None = None,
    **context: Any,
) -> Template:
    return page(
        request,
        _ENTER,
        purpose=purpose,
        sent=sent,
        digits=CODE_DIGITS,
        **{"login": "", "next": "", **context},
    )


def _refused(exc: RespiteError) -> dict[str, Any]:
    """The page's ``status``, field ``errors`` or ``failure`` for ``exc``."""
    errors = exc.errors if isinstance(exc, InvalidInputError) else []
    return {
        "status": problem_kind(exc).status,
        "errors": errors,
        "failure": None if errors else exc.detail,
    }


class CodePages(Controller):
    path = "/"
    include_in_schema = False

    @get("/password/forgotten")
    async def forgotten(self, request: Request[Any, Any, Any]) -> Template:
        return _ask(request, "password_reset")

    @post("/password/forgotten")
    async def send_reset_code(
        self, request: Request[Any, Any, Any], deps: NamedDependency[Deps]
    ) -> Template:
        return await self._send(request, deps, "password_reset")

    @get("/password/reset")
    async def reset_page(self, request: Request[Any, Any, Any]) -> Template:
        return _enter(request, "password_reset")

    @post("/password/reset")
    async def reset(
        self, request: Request[Any, Any, Any], deps: NamedDependency[Deps]
    ) -> Template | Redirect:
        fields = await form_fields(request)
        try:
            form = read_form(fields, ResetForm)
            issued = await codes.reset_password(
                deps,
                PasswordReset(login=form.login, code=form.code, password=form.password),
                address=request_address(request, deps.settings),
            )
        except RespiteError as exc:
            login = fields.get("login", "")
            return _enter(request, "password_reset", login=login, **_refused(exc))
        return go("/account?password=new", cookies=[session_cookie(deps, issued.token)])

    @get("/signin/code")
    async def sign_in_code(self, request: Request[Any, Any, Any], next_path: Next) -> Template:
        return _ask(request, "sign_in", next=local_path(next_path, ""))

    @post("/signin/code")
    async def send_sign_in_code(
        self, request: Request[Any, Any, Any], deps: NamedDependency[Deps]
    ) -> Template:
        return await self._send(request, deps, "sign_in")

    @get("/signin/code/enter")
    async def enter_page(self, request: Request[Any, Any, Any], next_path: Next) -> Template:
        return _enter(request, "sign_in", next=local_path(next_path, ""))

    @post("/signin/code/enter")
    async def sign_in(
        self, request: Request[Any, Any, Any], deps: NamedDependency[Deps]
    ) -> Template | Redirect:
        fields = await form_fields(request)
        back = local_path(fields.get("next"), "/")
        try:
            form = read_form(fields, SignInForm)
            issued = await codes.sign_in_with_code(
                deps,
                CodeSignIn(login=form.login, code=form.code),
                address=request_address(request, deps.settings),
            )
        except RespiteError as exc:
            login = fields.get("login", "")
            return _enter(request, "sign_in", login=login, next=back, **_refused(exc))
        return go(back, cookies=[session_cookie(deps, issued.token)])

    async def _send(
        self, request: Request[Any, Any, Any], deps: NamedDependency[Deps], purpose: CodePurpose
    ) -> Template:
        fields = await form_fields(request)
        # A new password ends on the account page: only a sign-in returns to where it began.
        back = local_path(fields.get("next"), "") if purpose == "sign_in" else ""
        try:
            form = read_form(fields, AskForm)
            sent = await codes.request_code(
                deps,
                CodeRequest(login=form.login, purpose=purpose),
                address=request_address(request, deps.settings),
                language=language(request),
            )
        except RespiteError as exc:
            login = fields.get("login", "")
            return _ask(request, purpose, login=login, next=back, **_refused(exc))
        minutes = deps.settings.code_minutes
        return _enter(request, purpose, sent, login=form.login, next=back, minutes=minutes)
