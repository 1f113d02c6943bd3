"""The scene the notification tests share: families whose settings are written straight to the
table, a booking's facts, the outbox's deliveries as rows, and a module's real SMTP server and
SMS gateway on loopback with the settings that send to them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, time
from typing import Any

import msgspec
import pytest

from respite.clock import ManualClock
from respite.crypto import cipher_for
from respite.db import Pool
from respite.notifications import notify
from respite.notifications.model import BookingConfirmed
from respite.notifications.worker import NotificationWorker
from respite.settings import Settings
from tests import builders
from tests.sms import SECRET, SmsGateway
from tests.smtp import SmtpServer

MOBILE = "+8613912345678"


@pytest.fixture(scope="module")
async def smtp() -> AsyncIterator[SmtpServer]:
    async with SmtpServer() as server:
        yield server


@pytest.fixture(scope="module")
async def gateway() -> AsyncIterator[SmsGateway]:
    async with SmsGateway() as server:
        yield server


def sending_to(settings: Settings, smtp: SmtpServer, gateway: SmsGateway) -> Settings:
    """``settings`` with email to ``smtp`` and SMS to ``gateway``, polled often."""
    return msgspec.structs.replace(
        settings,
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        smtp_starttls=False,
        mail_from="respite <no-reply@respite.test>",
        sms_gateway_url=gateway.url,
        sms_gateway_secret=SECRET,
        notify_poll_seconds=0.05,
    )


def worker(
    pool: Pool, settings: Settings, clock: ManualClock, name: str = "w1"
) -> NotificationWorker:
    # rand 1.0: each delay is its whole step, so the schedule can be checked exactly.
    return NotificationWorker(pool, settings, clock=clock, name=name, rand=lambda: 1.0)


async def family(
    db: Any,
    settings: Settings,
    *,
    language: str = "en",
    email: bool = True,
    sms: bool = False,
    quiet: tuple[time, time] | None = None,
) -> int:
    """A family with its notification settings written straight to the table."""
    principal = await builders.principal(db, "family")
    sealed = cipher_for(settings).encrypt("notification_phone", MOBILE) if sms else None
    await db.execute(
        "INSERT INTO notification_settings (principal_id, email_enabled, sms_enabled,"
        " sms_phone_enc, sms_phone_last4, quiet_start, quiet_end, timezone, language, updated_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, 'Asia/Shanghai', $8, now())",
        principal,
        email,
        sms,
        sealed,
        MOBILE[-4:] if sms else None,
        quiet[0] if quiet else None,
        quiet[1] if quiet else None,
        language,
    )
    return principal


def stay(booking_id: int = 1207) -> BookingConfirmed:
    return BookingConfirmed(
        booking_id=booking_id,
        facility_name="新华街道为老服务中心",
        facility_address="上海市长宁区新华路 365 号",
        facility_phone="021-6283 1234",
        bed_label="3F-12",
        check_in=date(2027, 5, 3),
        check_out=date(2027, 5, 8),
    )


async def confirm(db: Any, principal: int, clock: ManualClock, booking_id: int = 1207) -> None:
    async with db.transaction():
        await notify(
            db,
            principal_id=principal,
            kind="booking.confirmed",
            facts=stay(booking_id),
            key=f"booking:{booking_id}:confirmed",
            now=clock.now(),
        )


async def deliveries(db: Any) -> list[dict[str, Any]]:
    rows = await db.fetch(
        "SELECT d.id, d.channel, d.status, d.attempts, d.next_attempt_at, d.last_error"
        " FROM notification_deliveries d ORDER BY d.id"
    )
    return [dict(row) for row in rows]
