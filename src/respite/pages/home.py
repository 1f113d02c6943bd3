"""The first page: what respite is, and the way to search (no account needed to look)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.response import Template

from respite.pages.frame import page

__all__ = ["HomePage"]


class HomePage(Controller):
    path = "/"
    include_in_schema = False

    @get("/")
    async def home(self, request: Request[Any, Any, Any]) -> Template:
        return page(request, "home.html")
