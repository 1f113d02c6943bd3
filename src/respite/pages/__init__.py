"""The web pages: server-rendered HTML for families, in Chinese and English.

Pages call the same use cases as the API, in process (``deps`` and ``principal`` come from the
same dependency injection); they never call the HTTP API. Each module is one part of what a
family does (``account``: register, sign in and out; ``preferences``: the language and
large-print switches); ``frame`` is what every page has, ``forms`` reads a posted form into
the API's Structs, ``error_pages`` shows failures as pages, ``templating`` says every word in the
page's language. Templates are in ``templates/``, the one style sheet and the little script
in ``static/``: both served by the app itself, never from a CDN.

Every form carries a CSRF token (Litestar's CSRF middleware, on the pages' routes only: the
API takes bearer tokens, never cookies; ``csrf`` writes its cookie).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

from litestar import Request, Router
from litestar.config.csrf import CSRFConfig
from litestar.middleware import DefineMiddleware
from litestar.static_files import create_static_files_router
from litestar.types import ControllerRouterHandler

from respite.keys import PAGE_CSRF, derive_key
from respite.pages.account import AccountPages
from respite.pages.assessments import AssessmentPages
from respite.pages.codes import CodePages
from respite.pages.csrf import PageCSRFMiddleware
from respite.pages.desk import DESK_PAGES
from respite.pages.elders import ElderPages
from respite.pages.error_pages import page_exception_handlers
from respite.pages.facilities import FacilityPage
from respite.pages.holds import HoldPages
from respite.pages.home import HomePage
from respite.pages.inbox import InboxPages
from respite.pages.notification_settings import NotificationSettingsPages
from respite.pages.preferences import PreferencePages
from respite.pages.search import SearchPage
from respite.pages.stays import StayPages
from respite.pages.waitlist import WaitlistPages
from respite.settings import Settings

__all__ = ["STATIC_PATH", "pages_router", "static_router"]

STATIC: Final = Path(__file__).parent / "static"
STATIC_PATH: Final = "/static"
CSRF_COOKIE: Final = "respite_csrf"

PAGES: Final[list[ControllerRouterHandler]] = [
    HomePage,
    AccountPages,
    CodePages,
    PreferencePages,
    SearchPage,
    FacilityPage,
    ElderPages,
    AssessmentPages,
    HoldPages,
    StayPages,
    WaitlistPages,
    InboxPages,
    NotificationSettingsPages,
    *DESK_PAGES,
]


async def _any_query(request: Request[Any, Any, Any]) -> None:
    """Pages read the query parameters they declare and ignore the rest (a link shared with
    ``?from=wechat`` still opens); only the API refuses unknown ones."""


def pages_router(settings: Settings) -> Router:
    csrf = CSRFConfig(
        secret=derive_key(settings.secret_key, PAGE_CSRF).hex(),
        cookie_name=CSRF_COOKIE,
        cookie_secure=settings.cookies_secure,
        cookie_httponly=True,
        cookie_samesite="lax",
    )
    return Router(
        "/",
        route_handlers=PAGES,
        middleware=[DefineMiddleware(PageCSRFMiddleware, config=csrf)],
        exception_handlers=page_exception_handlers(),
        before_request=_any_query,
        include_in_schema=False,
    )


def static_router() -> Router:
    """The style sheet and script, cached by browsers for a day (their names do not change
    yet, so not longer)."""
    return create_static_files_router(
        path=STATIC_PATH,
        directories=[STATIC],
        include_in_schema=False,
        cache_control=None,
        send_as_attachment=False,
    )
