"""What every page has: who is signed in, the language, large print, and how it is answered.

``page(request, "name.html", ...)`` answers a template with the frame's values in its context;
``go(path)`` answers a form that worked with a redirect (303: the browser then GETs, so a
reload never posts twice). Pages are personal: no cache keeps them (``Cache-Control``).
"""

from __future__ import annotations

from typing import Any, Final

from litestar import MediaType, Request
from litestar.datastructures import Cookie
from litestar.response import Redirect, Template

from respite.auth.guards import optional_principal
from respite.auth.model import Principal
from respite.errors import FieldError
from respite.i18n.language import DEFAULT_LANGUAGE, Lang, request_language

__all__ = ["DISPLAY_COOKIE", "NO_STORE", "go", "local_path", "page"]

DISPLAY_COOKIE: Final = "respite_display"
"""``large``: the large-print version (长辈版) a switch on every page turns on."""
NO_STORE: Final = {"Cache-Control": "no-store", "X-Frame-Options": "DENY"}
_YEAR: Final = 365 * 24 * 3600


def language(request: Request[Any, Any, Any]) -> Lang:
    """The page's language: the one negotiated for the request (read from the request, since
    an error page is rendered outside the language middleware)."""
    default: Lang = request.app.state.get("default_language", DEFAULT_LANGUAGE)
    return request_language(request.scope, default)


def large_print(request: Request[Any, Any, Any]) -> bool:
    return request.cookies.get(DISPLAY_COOKIE) == "large"


def page(
    request: Request[Any, Any, Any],
    template: str,
    *,
    status: int = 200,
    errors: list[FieldError] | None = None,
    cookies: list[Cookie] | None = None,
    **context: Any,
) -> Template:
    """The page ``template`` with ``context``; ``errors`` are shown in the error summary at
    the top of its form and beside each field."""
    principal: Principal | None = optional_principal(request)
    lang = language(request)
    return Template(
        template_name=template,
        media_type=MediaType.HTML,  # said, not guessed from the template's name each time
        status_code=status,
        headers=NO_STORE,
        cookies=cookies or [],
        context={
            "principal": principal,
            "large_print": large_print(request),
            # request.url's path and query, without building the URL (a page's one use of it)
            "path": request.scope.get("root_path", "") + request.scope["path"],
            "query": request.scope.get("query_string", b"").decode(),
            "errors": errors or [],
            "field_errors": {error.field: error.message for error in errors or []},
            "html_lang": lang,
            **context,
        },
    )


def go(path: str, *, cookies: list[Cookie] | None = None) -> Redirect:
    """After a form that worked: see ``path`` (303, so the browser GETs it)."""
    return Redirect(path, status_code=303, headers=NO_STORE, cookies=cookies or [])


def local_path(candidate: str | None, fallback: str = "/") -> str:
    """``candidate`` when it is a path of this site (a ``next`` to return to), else
    ``fallback``: never another site (``//evil.example``, ``https:``), so a link cannot send
    a family elsewhere after signing in."""
    if (
        not candidate
        or not candidate.startswith("/")
        or candidate.startswith("//")
        or "\\" in candidate
        or any(ord(ch) < 32 for ch in candidate)
    ):
        return fallback
    return candidate


def cookie(name: str, value: str, *, secure: bool, max_age: int = _YEAR) -> Cookie:
    """A cookie of the pages: HttpOnly, SameSite=Lax, Secure where served over HTTPS."""
    return Cookie(
        key=name,
        value=value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=secure,
    )


def forget(name: str, *, secure: bool) -> Cookie:
    return cookie(name, "", secure=secure, max_age=0)
