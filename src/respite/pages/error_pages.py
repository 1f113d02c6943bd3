"""What a page shows when something goes wrong: a page in the reader's language, never JSON.

The use cases raise the same errors for pages as for the API; here each becomes an error page
(a missing stay, another family's elder: 404, as the API; a refused form: 403), a sign-in
when the page needs an account, and the form's own errors are shown on the form itself by its
handler (``frame.page(errors=...)``). A request the CSRF check refuses changed nothing: its
page says so and how to try again.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any
from urllib.parse import quote

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, NotAuthorizedException, PermissionDeniedException
from litestar.response import Redirect, Template

from respite.errors import RespiteError
from respite.i18n import Text, t
from respite.pages.frame import NO_STORE, page
from respite.pages.guards import SignInNeeded
from respite.problems import exception_handlers, on_http_exception, problem_kind

__all__ = ["on_http_exception_anywhere", "page_exception_handlers"]

log = logging.getLogger("respite.pages")
_KNOWN = frozenset({400, 404, 405, 413, 429, 503})
API_PREFIXES = ("/v1/", "/schema", "/health", "/metrics", "/problems")


def _error(request: Request[Any, Any, Any], status: int, title: Text, detail: Text) -> Template:
    return page(request, "error.html", status=status, title=title, detail=detail)


def on_sign_in_needed(request: Request[Any, Any, Any], exc: SignInNeeded) -> Redirect:
    return Redirect(f"/signin?next={quote(exc.path, safe='/')}", status_code=303, headers=NO_STORE)


def on_respite_error(request: Request[Any, Any, Any], exc: RespiteError) -> Template:
    kind = problem_kind(exc)
    return _error(request, kind.status, kind.title, exc.detail)


def on_http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    if isinstance(exc, PermissionDeniedException) and "CSRF" in str(exc.detail):
        return _error(
            request, 403, t("page.error.form_expired.title"), t("page.error.form_expired.detail")
        )
    if isinstance(exc, NotAuthorizedException):
        return on_sign_in_needed(request, SignInNeeded(request.url.path))
    if status >= 500:
        return on_unexpected(request, exc)
    key = status if status in _KNOWN else 400
    return _error(request, status, t(f"page.error.{key}.title"), t(f"page.error.{key}.detail"))


def on_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Template:
    error_id = secrets.token_hex(8)
    log.error("unhandled error %s", error_id, exc_info=exc, extra={"error_id": error_id})
    return _error(
        request, 500, t("page.error.500.title"), t("page.error.500.detail", error_id=error_id)
    )


def page_exception_handlers() -> dict[type[Exception] | int, Any]:
    """The pages' handlers: every error the API's handlers know, shown as a page."""
    handlers: dict[type[Exception] | int, Any] = {
        kind: _as_page(handler) for kind, handler in exception_handlers().items()
    }
    handlers.update(
        {
            SignInNeeded: on_sign_in_needed,
            RespiteError: on_respite_error,
            HTTPException: on_http_error,
            Exception: on_unexpected,
        }
    )
    return handlers


def _as_page(handler: Any) -> Any:
    """The API's handler of an error (a database down, a lock wait too long) for a page: the
    page of the status the API would answer with."""

    def handle(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
        status = handler(request, exc).status_code
        if status == 503:
            return _error(request, 503, t("page.error.503.title"), t("page.error.503.detail"))
        if status >= 500:
            return on_unexpected(request, exc)
        return _error(request, status, t("page.error.400.title"), t("page.error.400.detail"))

    return handle


def on_http_exception_anywhere(
    request: Request[Any, Any, Any], exc: HTTPException
) -> Response[Any]:
    """The app's handler of an HTTP error outside any route (an unknown path): a page for a
    browser asking for one off the API, the API's problem otherwise."""
    path = request.url.path
    wants_html = MediaType.HTML in request.headers.get("accept", "")
    if wants_html and not path.startswith(API_PREFIXES):
        return on_http_error(request, exc)
    return on_http_exception(request, exc)
