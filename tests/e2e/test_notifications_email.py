"""The whole way, in the running app: a family books through the API, and the app's own worker
sends the confirmation to a real SMTP server on loopback, in the language the family chose,
with the stay's calendar file; and by SMS to a real gateway that checks the signature."""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import httpx
import pytest
from icalendar import Calendar

from respite.settings import Settings
from tests import builders
from tests.conftest import MakeToken, settings_for
from tests.e2e.test_notifications_api import book
from tests.notified import gateway, sending_to, smtp
from tests.sms import SmsGateway
from tests.smtp import SmtpServer

__all__ = ["gateway", "smtp"]  # the module's servers, as fixtures


@pytest.fixture
def settings(database_url: str, redis_url: str, smtp: SmtpServer, gateway: SmsGateway) -> Settings:
    return sending_to(settings_for(database_url, redis_url), smtp, gateway)


async def test_a_family_booking_reaches_its_email_and_phone_from_the_running_app(
    client: httpx.AsyncClient, make_token: MakeToken, db: Any, smtp: SmtpServer, gateway: SmsGateway
) -> None:
    facility = await builders.facility(db, address="上海市长宁区新华路 365 号")
    name = await db.fetchval("SELECT name FROM facilities WHERE id = $1", facility)
    bed = await builders.bed(db, facility)
    family, headers = await make_token("family")
    chosen = await client.put(
        "/v1/me/notification-settings",
        json={
            "email_enabled": True,
            "sms_enabled": True,
            "email": "daughter@example.test",
            "phone": "139 1234 5678",
            "quiet_hours": None,
            "timezone": None,
            "language": "zh-CN",
        },
        headers=headers,
    )
    assert chosen.status_code == 200, chosen.text
    assert chosen.json()["deployment_channels"] == ["email", "sms"]
    elder = await builders.recipient(db, family_id=family.id)
    booking = await book(client, headers, elder, bed, "email-1")

    def mine(messages: list[EmailMessage]) -> bool:
        return any(m["To"] == "daughter@example.test" for m in messages)

    messages = await smtp.wait_for(mine)
    message = next(m for m in messages if m["To"] == "daughter@example.test")
    assert message["Subject"] == f"预订已确认：{name}"
    [attached] = list(message.iter_attachments())
    [event] = list(Calendar.from_ical(attached.get_content()).walk("VEVENT"))
    check_in = builders.today() + timedelta(days=10)
    assert event.decoded("DTSTART") == check_in
    assert event.decoded("DTEND") == check_in + timedelta(days=4)
    assert str(event["UID"]) == f"booking-{booking['id']}@respite.test"
    received = await gateway.wait_for(
        lambda got: any(s.message["to"] == "+8613912345678" for s in got)
    )
    sms = next(s for s in received if s.message["to"] == "+8613912345678")
    assert sms.valid
    assert sms.message["text"].startswith(f"预订已确认：{name}\n")
