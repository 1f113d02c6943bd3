"""The notification worker against real PostgreSQL, a real SMTP server and a real SMS gateway on
loopback, with time moved by hand: each channel in both languages, quiet hours, retries that
back off and then give up, two workers that never send one delivery twice, and a channel
turned off before its message went out."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
import pytest
from icalendar import Calendar

from respite.clock import ManualClock
from respite.db import Pool, create_pool
from respite.notifications import OfferMade, notify
from respite.notifications.worker import NotificationWorker
from respite.settings import Settings
from tests.certificates import Authority, server_context
from tests.notified import MOBILE, confirm, deliveries, family, worker
from tests.sms import SECRET, SmsGateway
from tests.smtp import SmtpServer

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
async def smtp() -> AsyncIterator[SmtpServer]:
    async with SmtpServer() as server:
        yield server


@pytest.fixture
async def gateway() -> AsyncIterator[SmsGateway]:
    async with SmsGateway() as server:
        yield server


@pytest.fixture
def sending(settings: Settings, smtp: SmtpServer, gateway: SmsGateway) -> Settings:
    return msgspec.structs.replace(
        settings,
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        smtp_starttls=False,
        mail_from="respite <no-reply@respite.test>",
        sms_gateway_url=gateway.url,
        sms_gateway_secret=SECRET,
        notify_timeout=2.0,
        notify_retry_window_seconds=3600.0,
        notify_batch=10,
    )


@pytest.fixture
async def pool(sending: Settings, database_url: str) -> AsyncIterator[Pool]:
    pool = await create_pool(sending, database_url)
    try:
        yield pool
    finally:
        await pool.close()


@pytest.mark.parametrize(
    ("language", "subject", "line"),
    [
        ("en", "Booking confirmed: 新华街道为老服务中心", "is booked for 5 nights"),
        ("zh-CN", "预订已确认：新华街道为老服务中心", "共 5 晚"),
    ],
)
async def test_a_confirmation_email_in_each_language_carries_the_stay_calendar(
    db: Any,
    pool: Pool,
    sending: Settings,
    clock: ManualClock,
    smtp: SmtpServer,
    language: str,
    subject: str,
    line: str,
) -> None:
    principal = await family(db, sending, language=language)
    account = await db.fetchval("SELECT email FROM principals WHERE id = $1", principal)
    await confirm(db, principal, clock)
    assert await worker(pool, sending, clock).deliver_due() == 1
    [message] = smtp.messages
    assert smtp.recipients == [[account]]
    assert message["Subject"] == subject
    # Non-ASCII words travel as RFC 2047 encoded words, never raw bytes in the header.
    raw_subject = next(h for h in smtp.raw[0].split(b"\r\n") if h.startswith(b"Subject:"))
    assert raw_subject.isascii() and b"=?utf-8?" in raw_subject
    assert message["Message-ID"].endswith("@respite.test>")
    body = message.get_body(("plain",))
    assert body is not None and line in body.get_content()
    assert body.get_content_charset() == "utf-8"
    [attached] = list(message.iter_attachments())
    assert attached.get_content_type() == "text/calendar"
    assert attached.get_filename() == "booking-1207.ics"
    calendar = Calendar.from_ical(attached.get_content())
    [event] = list(calendar.walk("VEVENT"))
    assert event.decoded("DTSTART") == date(2027, 5, 3)
    assert event.decoded("DTEND") == date(2027, 5, 9)
    assert str(event["UID"]) == "booking-1207@respite.test"
    [sent] = await deliveries(db)
    assert (sent["channel"], sent["status"], sent["attempts"]) == ("email", "sent", 1)


@pytest.mark.parametrize(
    ("language", "title"),
    [
        ("en", "A bed is offered to you at 静安寺社区养老院"),
        ("zh-CN", "静安寺社区养老院为您提供了一张床位"),
    ],
)
async def test_an_offer_by_sms_in_each_language_is_signed(
    db: Any,
    pool: Pool,
    sending: Settings,
    clock: ManualClock,
    gateway: SmsGateway,
    language: str,
    title: str,
) -> None:
    principal = await family(db, sending, language=language, email=False, sms=True)
    deadline = clock.now() + timedelta(hours=6)
    facts = OfferMade(
        offer_id=12,
        facility_name="静安寺社区养老院",
        facility_timezone="Asia/Shanghai",
        facility_phone=None,
        bed_label="2F-05",
        check_in=date(2027, 3, 12),
        check_out=date(2027, 3, 15),
        deadline=deadline,
    )
    async with db.transaction():
        await notify(
            db,
            principal_id=principal,
            kind="waitlist.offer_made",
            facts=facts,
            key="offer:12",
            now=clock.now(),
        )
    assert await worker(pool, sending, clock).deliver_due() == 1
    [sms] = gateway.received
    assert sms.valid
    assert sms.headers["x-respite-timestamp"] == str(int(clock.now().timestamp()))
    assert sms.message["to"] == MOBILE
    text = sms.message["text"]
    assert text.startswith(title + "\n")
    local = deadline.astimezone(SHANGHAI)
    assert str(local.year) in text and f"{local.minute:02d}" in text
    [sent] = await deliveries(db)
    assert (sent["channel"], sent["status"]) == ("sms", "sent")


async def test_quiet_hours_hold_a_message_until_they_end_then_it_is_sent(
    db: Any, pool: Pool, sending: Settings, clock: ManualClock, smtp: SmtpServer
) -> None:
    principal = await family(db, sending, quiet=(time(22, 0), time(7, 0)))
    night = datetime(2027, 3, 10, 23, 0, tzinfo=SHANGHAI)
    clock.set(night)
    await confirm(db, principal, clock)
    [waiting] = await deliveries(db)
    morning = datetime(2027, 3, 11, 7, 0, tzinfo=SHANGHAI)
    assert waiting["next_attempt_at"] == morning
    sender = worker(pool, sending, clock)
    assert await sender.deliver_due() == 0
    clock.set(morning - timedelta(minutes=1))
    assert await sender.deliver_due() == 0
    assert smtp.messages == []
    clock.set(morning)
    assert await sender.deliver_due() == 1
    assert len(smtp.messages) == 1
    [sent] = await deliveries(db)
    assert (sent["status"], sent["attempts"]) == ("sent", 1)


async def test_quiet_hours_chosen_after_a_message_was_written_still_hold_it(
    db: Any, pool: Pool, sending: Settings, clock: ManualClock, smtp: SmtpServer
) -> None:
    principal = await family(db, sending)
    clock.set(datetime(2027, 3, 10, 23, 0, tzinfo=SHANGHAI))
    await confirm(db, principal, clock)
    await db.execute(
        "UPDATE notification_settings SET quiet_start = '22:00', quiet_end = '07:00'"
        " WHERE principal_id = $1",
        principal,
    )
    sender = worker(pool, sending, clock)
    assert await sender.deliver_due() == 1  # leased, then put back: not an attempt
    [waiting] = await deliveries(db)
    assert (waiting["status"], waiting["attempts"]) == ("pending", 0)
    assert waiting["next_attempt_at"] == datetime(2027, 3, 11, 7, 0, tzinfo=SHANGHAI)
    assert smtp.messages == []


async def test_an_offer_that_would_lapse_in_quiet_hours_is_sent_at_night(
    db: Any, pool: Pool, sending: Settings, clock: ManualClock, gateway: SmsGateway
) -> None:
    principal = await family(db, sending, email=False, sms=True, quiet=(time(22, 0), time(7, 0)))
    clock.set(datetime(2027, 3, 10, 23, 0, tzinfo=SHANGHAI))
    for offer_id, hours in ((1, 4), (2, 12)):  # lapses at 03:00; at 11:00
        facts = OfferMade(
            offer_id=offer_id,
            facility_name="静安寺社区养老院",
            facility_timezone="Asia/Shanghai",
            facility_phone="021-6248 0000",
            bed_label="2F-05",
            check_in=date(2027, 3, 12),
            check_out=date(2027, 3, 15),
            deadline=clock.now() + timedelta(hours=hours),
        )
        async with db.transaction():
            await notify(
                db,
                principal_id=principal,
                kind="waitlist.offer_made",
                facts=facts,
                key=f"offer:{offer_id}",
                now=clock.now(),
            )
    assert await worker(pool, sending, clock).deliver_due() == 1
    assert len(gateway.received) == 1
    statuses = [d["status"] for d in await deliveries(db)]
    assert statuses == ["sent", "pending"]


async def test_a_failing_smtp_server_is_retried_with_backoff_then_given_up(
    db: Any,
    pool: Pool,
    sending: Settings,
    clock: ManualClock,
    smtp: SmtpServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    principal = await family(db, sending)
    account = await db.fetchval("SELECT email FROM principals WHERE id = $1", principal)
    smtp.script = ["451 4.3.0 Try again later"] * 20
    await confirm(db, principal, clock)
    sender = worker(pool, sending, clock)
    start = clock.now()
    delays = []
    with caplog.at_level(logging.WARNING, logger="respite.notifications"):
        while (row := (await deliveries(db))[0])["status"] == "pending":
            clock.set(row["next_attempt_at"])
            assert await sender.deliver_due() == 1
            delays.append((await deliveries(db))[0]["next_attempt_at"] - clock.now())
    dead = (await deliveries(db))[0]
    assert dead["status"] == "dead" and dead["last_error"] == "SMTP 451: recipient refused"
    # 30 s, 2 min, 10 min, 30 min, then the hour's window is over.
    assert [d.total_seconds() for d in delays[:4]] == [30.0, 120.0, 600.0, 1800.0]
    assert clock.now() - start >= timedelta(seconds=3600)
    assert smtp.messages == []
    assert "given up" in caplog.records[-1].getMessage()
    assert all(account not in record.getMessage() for record in caplog.records)
    assert all(account not in str(record.__dict__) for record in caplog.records)


async def test_a_refused_address_is_given_up_at_once(
    db: Any, pool: Pool, sending: Settings, clock: ManualClock, smtp: SmtpServer
) -> None:
    principal = await family(db, sending)
    smtp.script = ["550 5.1.1 No such mailbox"]
    await confirm(db, principal, clock)
    assert await worker(pool, sending, clock).deliver_due() == 1
    [dead] = await deliveries(db)
    assert (dead["status"], dead["attempts"]) == ("dead", 1)
    assert dead["last_error"] == "SMTP 550: recipient refused"


async def test_a_failing_sms_gateway_is_retried_then_given_up_and_a_refusal_at_once(
    db: Any, pool: Pool, sending: Settings, clock: ManualClock, gateway: SmsGateway
) -> None:
    principal = await family(db, sending, email=False, sms=True)
    gateway.script = [503] * 20
    await confirm(db, principal, clock)
    sender = worker(pool, sending, clock)
    while (row := (await deliveries(db))[0])["status"] == "pending":
        clock.set(row["next_attempt_at"])
        await sender.deliver_due()
    dead = (await deliveries(db))[0]
    assert (dead["status"], dead["last_error"]) == ("dead", "HTTP 503")
    assert dead["attempts"] == len(gateway.received) >= 5
    assert all(sms.valid for sms in gateway.received)
    gateway.script = [400]
    await confirm(db, principal, clock, booking_id=1208)
    await sender.deliver_due()
    refused = (await deliveries(db))[1]
    assert (refused["status"], refused["attempts"], refused["last_error"]) == (
        "dead",
        1,
        "HTTP 400",
    )


async def test_two_workers_never_send_one_delivery_twice(
    db: Any, sending: Settings, database_url: str, clock: ManualClock, smtp: SmtpServer
) -> None:
    principal = await family(db, sending)
    for booking_id in range(1, 41):
        await confirm(db, principal, clock, booking_id=booking_id)
    pools = [await create_pool(sending, database_url) for _ in range(2)]
    try:
        first, second = (worker(p, sending, clock, name=f"w{i}") for i, p in enumerate(pools))
        while True:
            done = await asyncio.gather(first.deliver_due(), second.deliver_due())
            if sum(done) == 0:
                break
    finally:
        for p in pools:
            await p.close()
    ids = [message["Message-ID"] for message in smtp.messages]
    assert len(ids) == 40 == len(set(ids))
    rows = await deliveries(db)
    assert {(row["status"], row["attempts"]) for row in rows} == {("sent", 1)}
    workers = await db.fetch("SELECT DISTINCT locked_by FROM notification_deliveries")
    assert len(workers) == 2  # both took a share


async def test_a_channel_turned_off_after_the_message_was_written_is_not_sent(
    db: Any, pool: Pool, sending: Settings, clock: ManualClock, smtp: SmtpServer
) -> None:
    principal = await family(db, sending)
    await confirm(db, principal, clock)
    await db.execute(
        "UPDATE notification_settings SET email_enabled = false WHERE principal_id = $1",
        principal,
    )
    await worker(pool, sending, clock).deliver_due()
    [dead] = await deliveries(db)
    assert (dead["status"], dead["last_error"]) == ("dead", "email turned off")
    assert smtp.messages == []


async def test_email_goes_over_starttls_with_the_configured_login(
    db: Any, sending: Settings, database_url: str, clock: ManualClock, tmp_path: Path
) -> None:
    authority = Authority()
    certificate, key = authority.issue(tmp_path, "smtp.test")
    async with SmtpServer(tls=server_context(certificate, key), login=("respite", "s3cret")) as tls:
        secure = msgspec.structs.replace(
            sending,
            smtp_port=tls.port,
            smtp_starttls=True,
            smtp_username="respite",
            smtp_password="s3cret",
        )
        pool = await create_pool(secure, database_url)
        try:
            principal = await family(db, secure)
            await confirm(db, principal, clock)
            sender = NotificationWorker(pool, secure, clock=clock, tls=authority.client_context())
            assert await sender.deliver_due() == 1
            # Without a certificate the worker trusts, nothing is sent and it is retried.
            await confirm(db, principal, clock, booking_id=1208)
            assert await NotificationWorker(pool, secure, clock=clock).deliver_due() == 1
        finally:
            await pool.close()
    assert tls.logins == ["respite"]
    assert len(tls.messages) == 1
    statuses = [(d["status"], d["last_error"]) for d in await deliveries(db)]
    assert statuses[0] == ("sent", None)
    assert statuses[1][0] == "pending" and statuses[1][1] is not None
