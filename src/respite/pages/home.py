"""The first page: what respite is, and the way to search (no account needed to look). Staff
signed in go on to their desk."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.response import Redirect, Template

from respite.auth.guards import optional_principal
from respite.pages.frame import go, page

__all__ = ["HomePage"]


class HomePage(Controller):
    path = "/"
    include_in_schema = False

    @get("/")
    async def home(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        principal = optional_principal(request)
        if principal is not None and principal.role == "staff":
            return go("/desk")
        return page(request, "home.html")
