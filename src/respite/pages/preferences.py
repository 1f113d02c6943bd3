"""The two switches on every page: the language (中文 / English) and large print (长辈版).

Each is a small form (it works without JavaScript) that keeps the choice in a cookie for a
year and returns to the page it was on. The language cookie is read by the language
middleware before ``Accept-Language``; large print by the frame.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec
from litestar import Controller, Request, post
from litestar.di import NamedDependency
from litestar.response import Redirect

from respite.deps import Deps
from respite.i18n.language import LANGUAGE_COOKIE
from respite.pages.forms import form_fields, read_form
from respite.pages.frame import DISPLAY_COOKIE, cookie, go, local_path

__all__ = ["PreferencePages"]


class LanguageChoice(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    to: Literal["zh-CN", "en"]
    next: str | None = None


class DisplayChoice(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    display: Literal["large", "standard"]
    next: str | None = None


class PreferencePages(Controller):
    path = "/"
    include_in_schema = False

    @post("/language")
    async def language(
        self, request: Request[Any, Any, Any], deps: NamedDependency[Deps]
    ) -> Redirect:
        choice = read_form(await form_fields(request), LanguageChoice)
        secure = deps.settings.cookies_secure
        return go(
            local_path(choice.next), cookies=[cookie(LANGUAGE_COOKIE, choice.to, secure=secure)]
        )

    @post("/display")
    async def display(
        self, request: Request[Any, Any, Any], deps: NamedDependency[Deps]
    ) -> Redirect:
        choice = read_form(await form_fields(request), DisplayChoice)
        secure = deps.settings.cookies_secure
        return go(
            local_path(choice.next), cookies=[cookie(DISPLAY_COOKIE, choice.display, secure=secure)]
        )
