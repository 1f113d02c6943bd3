"""Notifications: one outbox of what each principal is told, sent by inbox, email and SMS.

Other domains call ``notify`` inside their own transaction (the waiting list with an
``OfferMade``; booking's changes reach ``listener`` through ``booking.events``). Where things
are: ``outbox`` (``notify``), ``model`` (kinds, facts, settings, quiet hours, retries),
``words`` (what a notification says, in each language), ``calendar`` (a booking's ``.ics``),
``channels`` (SMTP and the SMS gateway), ``worker`` (sends, and writes reminders through
``reminders``), ``service`` and ``api`` (the caller's settings and inbox, ``/v1/me``).

Import-light: the use cases below are loaded from their modules on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from respite.exports import on_first_use

if TYPE_CHECKING:
    from respite.notifications.model import OfferMade
    from respite.notifications.outbox import notify
    from respite.notifications.service import (
        get_notification_settings,
        list_inbox,
        mark_read,
        put_notification_settings,
    )

__all__ = [
    "OfferMade",
    "get_notification_settings",
    "list_inbox",
    "mark_read",
    "notify",
    "put_notification_settings",
]
__getattr__ = on_first_use(
    __name__,
    {
        "respite.notifications.model": ("OfferMade",),
        "respite.notifications.outbox": ("notify",),
        "respite.notifications.service": (
            "get_notification_settings",
            "list_inbox",
            "mark_read",
            "put_notification_settings",
        ),
    },
)
