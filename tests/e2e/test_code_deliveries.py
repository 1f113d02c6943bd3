"""A one-time code's email and SMS as the notification worker sends them, driven by hand on
the app's clock: at once in the family's quiet hours and with both channels turned off in its
settings, to the account's own address (not the one its settings give) and the typed number,
in the language of the request; a code ended before its delivery is not sent; one expired
while its delivery failed is given up."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import time, timedelta
from typing import Any

import httpx
import msgspec
import pytest

from respite.clock import ManualClock
from respite.db import Pool, create_pool
from respite.settings import Settings
from tests.conftest import settings_for
from tests.notified import gateway, sending_to, smtp, worker
from tests.sms import SmsGateway
from tests.smtp import SmtpServer

__all__ = ["gateway", "smtp"]  # the module's servers, as fixtures


@pytest.fixture
def settings(database_url: str, redis_url: str, smtp: SmtpServer, gateway: SmsGateway) -> Settings:
    sending = sending_to(settings_for(database_url, redis_url), smtp, gateway)
    return msgspec.structs.replace(sending, notify_worker=False, notify_timeout=2.0)


@pytest.fixture
async def pool(settings: Settings, database_url: str) -> AsyncIterator[Pool]:
    pool = await create_pool(settings, database_url)
    try:
        yield pool
    finally:
        await pool.close()


async def quiet_family(client: httpx.AsyncClient, db: Any, **login: str) -> None:
    """A family that turned email and SMS off, wants another address, and sleeps all day."""
    registered = await client.post(
        "/v1/auth/register", json={"name": "Li", "password": "a long password", **login}
    )
    assert registered.status_code == 201, registered.text
    await db.execute(
        "INSERT INTO notification_settings (principal_id, email_enabled, sms_enabled, email,"
        " quiet_start, quiet_end, timezone, language, updated_at)"
        " VALUES ($1, false, false, 'elsewhere@example.test', $2, $3, 'Asia/Shanghai', 'en',"
        " now())",
        registered.json()["principal"]["id"],
        time(0, 0),
        time(23, 59),
    )


async def test_a_code_goes_at_once_where_it_was_asked_for_in_the_requests_language(
    client: httpx.AsyncClient,
    db: Any,
    pool: Pool,
    settings: Settings,
    clock: ManualClock,
    smtp: SmtpServer,
    gateway: SmsGateway,
) -> None:
    await quiet_family(client, db, email="quiet@example.test", phone="139 8765 4321")
    for login in ("quiet@example.test", "13987654321"):
        asked = await client.post(
            "/v1/auth/codes",
            json={"login": login, "purpose": "sign_in"},
            headers={"Accept-Language": "zh-CN"},
        )
        assert asked.status_code == 202, asked.text
        assert await worker(pool, settings, clock).deliver_due() == 1
    [email] = [m for m in smtp.messages if m["To"] == "quiet@example.test"]
    assert email["Subject"] == "【喘息床位】登录验证码"
    assert not [m for m in smtp.messages if m["To"] == "elsewhere@example.test"]
    [sms] = [s for s in gateway.received if s.message["to"] == "+8613987654321"]
    assert sms.valid and sms.message["text"].startswith("【喘息床位】登录验证码\n")
    # The first (email) code was ended by the second one asked for: its delivery had gone.
    statuses = await db.fetch("SELECT status FROM notification_deliveries ORDER BY id")
    assert [r["status"] for r in statuses] == ["sent", "sent"]


async def test_a_code_ended_before_its_delivery_is_not_sent(
    client: httpx.AsyncClient,
    db: Any,
    pool: Pool,
    settings: Settings,
    clock: ManualClock,
    smtp: SmtpServer,
) -> None:
    await quiet_family(client, db, email="twice@example.test")
    for _ in range(2):
        await client.post(
            "/v1/auth/codes", json={"login": "twice@example.test", "purpose": "password_reset"}
        )
    before = len(smtp.messages)
    assert await worker(pool, settings, clock).deliver_due() == 2
    rows = await db.fetch("SELECT status, last_error FROM notification_deliveries ORDER BY id")
    assert [(r["status"], r["last_error"]) for r in rows] == [
        ("dead", "the code was used, ended or has expired"),
        ("sent", None),
    ]
    assert len(smtp.messages) == before + 1


async def test_a_code_that_expires_while_its_email_fails_is_given_up(
    client: httpx.AsyncClient,
    db: Any,
    pool: Pool,
    settings: Settings,
    clock: ManualClock,
    smtp: SmtpServer,
) -> None:
    await quiet_family(client, db, email="late@example.test")
    await client.post("/v1/auth/codes", json={"login": "late@example.test", "purpose": "sign_in"})
    smtp.script.append("451 4.3.0 Try again later")
    assert await worker(pool, settings, clock).deliver_due() == 1
    [row] = await db.fetch("SELECT status, next_attempt_at FROM notification_deliveries")
    assert row["status"] == "pending"
    clock.advance(timedelta(minutes=settings.code_minutes, seconds=1))
    assert await worker(pool, settings, clock).deliver_due() == 1
    [row] = await db.fetch("SELECT status, last_error FROM notification_deliveries")
    assert (row["status"], row["last_error"]) == ("dead", "the code was used, ended or has expired")
