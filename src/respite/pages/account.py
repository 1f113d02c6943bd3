"""A family's account on the pages: register, sign in, sign out (here or everywhere). A
forgotten password and signing in by a code are ``pages/codes.py``.

Signing in makes a token exactly as the API does (``auth.service``: the same rate limits, the
same audit) and keeps it in the ``respite_session`` cookie: HttpOnly, so no script reads it;
SameSite=Lax, so another site's form does not carry it; Secure where ``RESPITE_COOKIES_SECURE``
says the site is HTTPS. Signing out revokes that token; signing out everywhere revokes every
token of the account (each browser, each API client).
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.params import QueryParameter
from litestar.response import Redirect, Template
from msgspec import Meta

from respite.auth import service
from respite.auth.guards import SESSION_COOKIE, optional_principal
from respite.auth.limits import request_address
from respite.auth.model import FamilyRegistration, SignIn
from respite.deps import Deps
from respite.errors import FieldError, InvalidInputError, RespiteError
from respite.field_errors import from_msgspec
from respite.pages.forms import form_fields, read_form
from respite.pages.frame import cookie, forget, go, local_path, page
from respite.pages.guards import signed_in
from respite.problems import problem_kind

__all__ = ["AccountPages", "Next", "session_cookie"]

Next = Annotated[str | None, QueryParameter(name="next", max_length=2000)]
# ``new`` after a new password was set with a code (pages/codes.py).
PasswordDone = Annotated[str | None, QueryParameter(max_length=10)]


class Registration(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The sign-up form: one field for an email address or a phone number."""

    name: Annotated[str, Meta(min_length=1, max_length=100)]
    login: Annotated[str, Meta(min_length=3, max_length=254)]
    password: Annotated[str, Meta(min_length=10, max_length=200)]
    next: str | None = None


class SignInForm(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    login: Annotated[str, Meta(min_length=3, max_length=254)]
    password: Annotated[str, Meta(min_length=1, max_length=200)]
    next: str | None = None


def _registration(form: Registration) -> FamilyRegistration:
    """The API's registration for the form: the login is an email address when it has an @."""
    try:
        if "@" in form.login:
            return FamilyRegistration(name=form.name, password=form.password, email=form.login)
        return FamilyRegistration(name=form.name, password=form.password, phone=form.login)
    except msgspec.ValidationError as exc:
        raise InvalidInputError(_on_login([from_msgspec(exc, FamilyRegistration)])) from None


def _on_login(errors: list[FieldError]) -> list[FieldError]:
    """The API's ``email`` and ``phone`` are the form's one ``login`` field."""
    return [
        FieldError("login", error.message) if error.field in {"email", "phone"} else error
        for error in errors
    ]


class AccountPages(Controller):
    path = "/"
    include_in_schema = False

    @get("/signin")
    async def sign_in_page(self, request: Request[Any, Any, Any], next_path: Next) -> Template:
        return page(request, "account/signin.html", next=local_path(next_path, ""), login="")

    @post("/signin")
    async def sign_in(
        self, request: Request[Any, Any, Any], deps: NamedDependency[Deps]
    ) -> Template | Redirect:
        fields = await form_fields(request)
        back = local_path(fields.get("next"), "/")
        try:
            form = read_form(fields, SignInForm)
            issued = await service.sign_in(
                deps,
                SignIn(login=form.login, password=form.password),
                address=request_address(request, deps.settings),
            )
        except RespiteError as exc:
            return _again(request, "account/signin.html", exc, fields, back)
        return go(back, cookies=[session_cookie(deps, issued.token)])

    @get("/register")
    async def register_page(self, request: Request[Any, Any, Any], next_path: Next) -> Template:
        return page(
            request, "account/register.html", next=local_path(next_path, ""), name="", login=""
        )

    @post("/register")
    async def register(
        self, request: Request[Any, Any, Any], deps: NamedDependency[Deps]
    ) -> Template | Redirect:
        fields = await form_fields(request)
        back = local_path(fields.get("next"), "/elders")
        try:
            form = read_form(fields, Registration)
            issued = await service.register_family(
                deps, _registration(form), address=request_address(request, deps.settings)
            )
        except RespiteError as exc:
            return _again(request, "account/register.html", exc, fields, back)
        return go(back, cookies=[session_cookie(deps, issued.token)])

    @get("/account")
    async def account(
        self, request: Request[Any, Any, Any], password: PasswordDone = None
    ) -> Template:
        signed_in(request)
        return page(request, "account/account.html", password_new=password == "new")

    @post("/signout")
    async def sign_out(
        self, request: Request[Any, Any, Any], deps: NamedDependency[Deps]
    ) -> Redirect:
        principal = optional_principal(request)
        token = request.auth
        if principal is not None and isinstance(token, str):
            await service.sign_out(deps, principal, token)
        return go("/", cookies=[forget(SESSION_COOKIE, secure=deps.settings.cookies_secure)])

    @post("/signout/everywhere")
    async def sign_out_everywhere(
        self, request: Request[Any, Any, Any], deps: NamedDependency[Deps]
    ) -> Redirect:
        principal = signed_in(request)
        await service.sign_out_everywhere(deps, principal)
        return go("/", cookies=[forget(SESSION_COOKIE, secure=deps.settings.cookies_secure)])


def session_cookie(deps: Deps, token: str) -> Cookie:
    """The session cookie of a token just issued: the browser is signed in with it."""
    days = deps.settings.family_token_days
    return cookie(
        SESSION_COOKIE, token, secure=deps.settings.cookies_secure, max_age=days * 24 * 3600
    )


def _again(
    request: Request[Any, Any, Any],
    template: str,
    exc: RespiteError,
    fields: dict[str, Any],
    back: str,
) -> Template:
    """The form again, with what was typed (never the password) and what went wrong."""
    kept = {name: value for name, value in fields.items() if name != "password"}
    errors = _on_login(exc.errors) if isinstance(exc, InvalidInputError) else []
    return page(
        request,
        template,
        status=problem_kind(exc).status,
        errors=errors,
        failure=None if errors else exc.detail,
        next=back,
        name=kept.get("name", ""),
        login=kept.get("login", ""),
    )
