"""Examples the API reference shows for notifications: a daughter in Shanghai who wants email
and SMS about her mother's stays, but no SMS at night. Built from the Structs themselves."""

from __future__ import annotations

from datetime import UTC, datetime

from respite.notifications.model import InboxItem, NotificationSettings, Preferences, QuietHours
from respite.paging import Page
from respite.reference import example

__all__ = ["INBOX", "SETTINGS", "SETTINGS_CHANGE", "SETTINGS_KEEP_PHONE"]

_NIGHT = QuietHours(start="22:00", end="07:30")

SETTINGS_CHANGE = example(
    "Email and SMS, in Chinese, quiet from 22:00 to 07:30",
    Preferences(
        email_enabled=True,
        sms_enabled=True,
        email=None,
        phone="+86 139 1234 5678",
        quiet_hours=_NIGHT,
        timezone="Asia/Shanghai",
        language="zh-CN",
    ),
)
SETTINGS_KEEP_PHONE = example(
    "Email only, to another address, in English; the stored phone is kept",
    Preferences(
        email_enabled=True,
        sms_enabled=False,
        email="li.min@example.com",
        quiet_hours=None,
        timezone=None,
        language="en",
    ),
)
SETTINGS = example(
    "Email to the account's address and SMS, quiet at night",
    NotificationSettings(
        email_enabled=True,
        sms_enabled=True,
        email=None,
        email_to="li.min@example.com",
        phone_last4="5678",
        quiet_hours=_NIGHT,
        timezone="Asia/Shanghai",
        language="zh-CN",
        deployment_channels=["email", "sms"],
    ),
)
INBOX = example(
    "A booking confirmed, read the same evening",
    Page(
        items=[
            InboxItem(
                id=41,
                kind="booking.confirmed",
                title="Booking confirmed: 长宁区新华街道综合为老服务中心",
                body="Bed 3F-12 at 长宁区新华街道综合为老服务中心 is booked for 5 nights, "
                "May 3, 2027 to May 8, 2027.\nAddress: 上海市长宁区新华路 365 号.\n"
                "The facility's phone: 021-6283 1234.",
                booking_id=1207,
                offer_id=None,
                created_at=datetime(2027, 4, 20, 9, 12, 5, tzinfo=UTC),
                read_at=datetime(2027, 4, 20, 11, 40, 0, tzinfo=UTC),
            )
        ],
        next_cursor=None,
    ),
)
