"""HTTP routes of notifications: the caller's settings and inbox, under ``/v1/me``."""

from __future__ import annotations

from typing import Annotated, Final

from litestar import Controller, get, post, put
from litestar.di import NamedDependency
from litestar.params import JSONBody, PathParameter
from litestar.status_codes import HTTP_200_OK

from respite import idempotency
from respite.auth.guards import requires
from respite.auth.model import Principal
from respite.deps import Deps
from respite.dto import Strict
from respite.notifications import examples, service
from respite.notifications.model import InboxItem, NotificationSettings, Preferences
from respite.paging import Cursor, Page, limit_parameter
from respite.params import MAX_ID, IdempotencyHeader
from respite.reference import documented

__all__ = ["NotificationController", "NotificationPathId"]

MAX_PAGE: Final = 100
NotificationPathId = Annotated[
    int,
    PathParameter(ge=1, le=MAX_ID, description="The id of the notification (an inbox item)."),
]


class NotificationController(Controller):
    path = "/v1/me"
    tags = ["notifications"]
    # Admins act for no family, hospital or facility: nothing is sent to them.
    guards = [requires("family", "staff", "hospital")]

    @get(
        "/notification-settings",
        summary="Read my notification settings",
        operation_class=documented(answers={200: [examples.SETTINGS]}),
    )
    async def get_settings(
        self, deps: NamedDependency[Deps], principal: NamedDependency[Principal]
    ) -> NotificationSettings:
        """How the caller is told of offers, bookings, reminders and cancellations besides
        the inbox, which always has them: email (on by default, to the account's address),
        SMS (off until a mobile number is given), quiet hours and the language. Also which
        channels this deployment sends on."""
        return await service.get_notification_settings(deps, principal)

    @put(
        "/notification-settings",
        dto=Strict[Preferences],
        return_dto=None,
        status_code=HTTP_200_OK,
        summary="Change my notification settings",
        operation_class=documented(
            request=[examples.SETTINGS_CHANGE, examples.SETTINGS_KEEP_PHONE],
            answers={200: [examples.SETTINGS]},
        ),
    )
    async def put_settings(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        data: JSONBody[Preferences],
        idempotency_key: IdempotencyHeader = None,
    ) -> NotificationSettings:
        """Replace the settings; every field but ``phone`` is required (``phone`` left out
        keeps the stored number, null removes it). Email and SMS that fall in the quiet
        hours wait until they end, except a waiting-list offer whose deadline would pass
        first. A bad address, a number that is not a mobile one, or quiet hours out of range
        is 422 naming the field, and changes nothing."""
        command = service.ChangeSettings(
            preferences=data, idempotency_key=idempotency.optional_key(idempotency_key)
        )
        return await service.put_notification_settings(deps, principal, command)

    @get(
        "/inbox",
        summary="List my inbox",
        operation_class=documented(answers={200: [examples.INBOX]}),
    )
    async def list_inbox(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        limit: Annotated[int, limit_parameter(MAX_PAGE)] = 20,
        cursor: Cursor = None,
    ) -> Page[InboxItem]:
        """The caller's notifications, newest first, each written in the language of the
        request (``Accept-Language``) however it was sent."""
        filters = service.InboxFilter(cursor=cursor, limit=limit)
        return await service.list_inbox(deps, principal, filters)

    @post(
        "/inbox/{notification_id:int}/read",
        status_code=HTTP_200_OK,
        summary="Mark a notification read",
    )
    async def mark_read(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        notification_id: NotificationPathId,
    ) -> InboxItem:
        """Mark one of the caller's notifications read. Safe to retry without a key: the
        first time it was read is kept, and every retry answers the same. Another account's
        notification is 404."""
        return await service.mark_read(deps, principal, notification_id)
