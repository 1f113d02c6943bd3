"""A family's inbox on the pages: its notifications, newest first, and marking one read.

The page reads the inbox through ``notifications.list_inbox`` and marks through
``notifications.mark_read``, as the API does: each notification is written in the page's
language when the page is shown, and another family's is "not found".
"""

from __future__ import annotations

from typing import Any, Final

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.response import Redirect, Template

from respite import notifications
from respite.deps import Deps
from respite.notifications.api import NotificationPathId
from respite.notifications.service import InboxFilter
from respite.pages.frame import go, page
from respite.pages.guards import family
from respite.paging import Cursor

__all__ = ["InboxPages"]

PAGE_SIZE: Final = 20


class InboxPages(Controller):
    path = "/inbox"
    include_in_schema = False

    @get("/")
    async def inbox(
        self, request: Request[Any, Any, Any], deps: NamedDependency[Deps], cursor: Cursor = None
    ) -> Template:
        principal = family(request)
        found = await notifications.list_inbox(
            deps, principal, InboxFilter(cursor=cursor, limit=PAGE_SIZE)
        )
        return page(
            request,
            "inbox/inbox.html",
            items=[(item, item.body.split("\n")) for item in found.items],
            next_cursor=found.next_cursor,
        )

    @post("/{notification_id:int}/read")
    async def read(
        self,
        request: Request[Any, Any, Any],
        deps: NamedDependency[Deps],
        notification_id: NotificationPathId,
    ) -> Redirect:
        principal = family(request)
        await notifications.mark_read(deps, principal, notification_id)
        return go(f"/inbox#n-{notification_id}")
