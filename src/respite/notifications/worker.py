"""The notification worker: sends the outbox's email and SMS, and writes the stays' reminders
(``reminders``) now and then.

An asyncio task in every app process (``notification_lifespan``), each with a small pool of its
own so that a slow mail server never takes connections from requests. Several processes share
the work safely: a delivery is leased with ``FOR UPDATE SKIP LOCKED`` before it is sent, for
longer than an attempt may take, so no two send it at once, and each attempt's outcome is
written against the attempt it ends. A delivery is written in the language the principal
chose, to the address the principal's settings hold when it is sent: a channel turned off
meanwhile is not sent (dead, with why). One that falls in the principal's quiet hours waits
until they end, and is not counted as an attempt. A failure is retried after an exponential
delay with full jitter until the retry window is over (an offer's, until its deadline), then
given up (dead); a refused address or number is given up at once. Every failure is logged as
a warning with ids, the channel and the error's kind, never an address, a number or the
words. Time is the app's one clock, so tests move it instead of sleeping.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import secrets
import socket
import ssl
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Final

import asyncpg
import httpx
import msgspec

from respite import __version__
from respite.clock import Clock, zone
from respite.crypto import UnreadableIdentifierError, cipher_for
from respite.db import Conn, Pool, create_pool
from respite.i18n import Lang
from respite.keys import one_time_code
from respite.notifications import queries as q
from respite.notifications.calendar import stay_calendar
from respite.notifications.channels import (
    Attachment,
    Letter,
    Outcome,
    email_message,
    mail_domain,
    send_email,
    send_sms,
    to_letterbox,
)
from respite.notifications.model import (
    CODE_DIGITS,
    DEFAULT_TIMEZONE,
    FACTS,
    BookingConfirmed,
    Channel,
    CodeSent,
    Facts,
    gives_up,
    not_before,
    retry_delay,
)
from respite.notifications.outbox import Choices, choices
from respite.notifications.reminders import remind_due
from respite.notifications.words import written
from respite.settings import Settings

__all__ = ["Claimed", "NotificationWorker", "notification_lifespan"]

log = logging.getLogger("respite.notifications")
USER_AGENT: Final = f"respite-notifications/{__version__}"
MAX_ERROR_TEXT: Final = 200
IDLE_CAP_SECONDS: Final = 30.0


class Claimed(msgspec.Struct, frozen=True, kw_only=True):
    """A delivery leased for one attempt, with what it needs to be written and addressed."""

    id: int
    channel: Channel
    attempt: int
    first_attempt_at: datetime
    notification_id: int
    principal_id: int
    facts: Facts
    language: Lang | None
    created_at: datetime
    chosen: Choices
    code: LiveCode | None = None
    """A one-time code's, read when it is about to be sent; None for every other kind."""


class LiveCode(msgspec.Struct, frozen=True, kw_only=True):
    """A one-time code still usable, as its email or SMS needs it."""

    text: str
    phone: bytes | None
    """Sealed: where its SMS goes."""


def _claimed(row: asyncpg.Record) -> Claimed:
    facts = msgspec.json.decode(row["facts"], type=FACTS[row["kind"]])
    return Claimed(
        id=row["id"],
        channel=row["channel"],
        attempt=row["attempts"],
        first_attempt_at=row["first_attempt_at"],
        notification_id=row["notification_id"],
        principal_id=row["principal_id"],
        facts=facts,
        language=row["language"],
        created_at=row["created_at"],
        chosen=choices(row),
    )


class NotificationWorker:
    """One process's share of the deliveries, by ``clock``; ``rand`` (the jitter) is
    injectable so that tests can check the retry schedule exactly, and ``tls`` (what an SMTP
    server's certificate is checked against) so that they can run a server of their own."""

    def __init__(
        self,
        pool: Pool,
        settings: Settings,
        *,
        clock: Clock,
        name: str | None = None,
        rand: Callable[[], float] = random.random,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.pool = pool
        self.settings = settings
        self.clock = clock
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self.rand = rand
        self.tls = tls
        self.cipher = cipher_for(settings)
        self.domain = mail_domain(settings)
        self._last_scan: datetime | None = None

    async def run(self, stop: asyncio.Event) -> None:
        """Send and remind until ``stop`` is set; database trouble only slows it down. It
        waits one poll interval first: an app that starts and stops at once costs nothing."""
        idle, done = self.settings.notify_poll_seconds, 0
        while not stop.is_set():
            if done == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), idle)
                if stop.is_set():
                    break
            try:
                done = await self.tick()
                idle = self.settings.notify_poll_seconds
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
                log.warning("notification worker: %s; retrying in %.1f s", type(exc).__name__, idle)
                done, idle = 0, min(idle * 2, IDLE_CAP_SECONDS)
            except Exception:
                # A bug must not stop every family's notifications: log it and keep going.
                log.exception("notification worker round failed")
                done, idle = 0, min(idle * 2, IDLE_CAP_SECONDS)

    async def tick(self) -> int:
        """One round: write the reminders that are due (now and then), then send one batch."""
        now = self.clock.now()
        every = timedelta(seconds=self.settings.notify_reminder_seconds)
        if self._last_scan is None or now - self._last_scan >= every:
            await self.remind()
            self._last_scan = now
        return await self.deliver_due()

    async def remind(self) -> int:
        """Notify the stays due a reminder today, by their facilities' dates; how many."""
        return await remind_due(self.pool, self.clock.now(), self.settings.notify_batch)

    async def claim(self) -> list[Claimed]:
        now = self.clock.now()
        lease = now + timedelta(seconds=self.settings.notify_timeout * 2 + 10)
        async with self.pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(q.CLAIM_DUE, now, lease, self.settings.notify_batch, self.name)
        return [_claimed(row) for row in rows]

    async def deliver_due(self) -> int:
        """Send every delivery due now (one batch, concurrently); how many were leased."""
        claimed = await self.claim()
        if claimed:
            async with self._client() as client:
                results = await asyncio.gather(
                    *(self._deliver(client, c) for c in claimed), return_exceptions=True
                )
            for result in results:
                if isinstance(result, BaseException):
                    raise result
        return len(claimed)

    def _client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            follow_redirects=False,
            trust_env=False,
            timeout=self.settings.notify_timeout,
            headers={"user-agent": USER_AGENT},
        )

    async def _deliver(self, client: httpx.AsyncClient, claimed: Claimed) -> None:
        now = self.clock.now()
        chosen = claimed.chosen
        until = not_before(
            claimed.facts, now, chosen.quiet, zone(chosen.timezone or DEFAULT_TIMEZONE)
        )
        async with self.pool.acquire() as conn:
            if until > now:
                await conn.execute(q.POSTPONE, claimed.id, claimed.attempt, now, until)
                return
            if isinstance(claimed.facts, CodeSent):
                claimed = await self._with_code(conn, claimed.facts, claimed)
            skipped = self._not_sendable(claimed)
            if skipped is not None:
                await conn.execute(q.FINISH_SKIPPED, claimed.id, claimed.attempt, now, skipped)
                return
        outcome = await self._attempt(client, claimed)
        await self._finish(claimed, outcome)

    async def _with_code(self, conn: Conn, facts: CodeSent, claimed: Claimed) -> Claimed:
        """``claimed`` with its code, if the code can still be used."""
        row = await conn.fetchrow(
            q.SELECT_LIVE_CODE, facts.code_id, self.clock.now(), self.settings.code_tries
        )
        if row is None:
            return claimed
        text = one_time_code(self.settings.secret_key, row["salt"], CODE_DIGITS)
        code = LiveCode(text=text, phone=row["phone_enc"])
        return msgspec.structs.replace(claimed, code=code)

    def _not_sendable(self, claimed: Claimed) -> str | None:
        """Why this delivery can never go out as things stand, or None."""
        if isinstance(claimed.facts, CodeSent):
            return self._code_not_sendable(claimed)
        chosen = claimed.chosen
        if claimed.channel == "email":
            if not self.settings.sends_email:
                return "email is not configured (RESPITE_SMTP_HOST)"
            if not chosen.email_enabled:
                return "email turned off"
            if chosen.email_to is None:
                return "no email address"
        else:
            if not self.settings.sends_sms:
                return "SMS is not configured (RESPITE_SMS_GATEWAY_URL)"
            if not chosen.sms_enabled or chosen.sms_phone is None:
                return "SMS turned off"
        return None

    def _code_not_sendable(self, claimed: Claimed) -> str | None:
        """A code goes where it was asked for, whatever the principal chose for the rest."""
        if claimed.code is None:
            return "the code was used, ended or has expired"
        if claimed.channel == "email":
            if not self.settings.sends_email:
                return "email is not configured (RESPITE_SMTP_HOST)"
            if claimed.chosen.account_email is None:
                return "no email address"
        elif not self.settings.sends_sms:
            return "SMS is not configured (RESPITE_SMS_GATEWAY_URL)"
        return None

    async def _attempt(self, client: httpx.AsyncClient, claimed: Claimed) -> Outcome:
        try:
            if claimed.channel == "email":
                message = self._email(claimed)
                if self.settings.letterbox_dir is not None:
                    name = f"{claimed.id}-email.eml"
                    return await to_letterbox(self.settings.letterbox_dir, name, message.as_bytes())
                return await send_email(self.settings, message, self.tls)
            return await self._sms(client, claimed)
        except UnreadableIdentifierError:
            return Outcome(sent=False, error="the SMS number does not decrypt", permanent=True)
        except Exception:
            # A bug must cost this delivery its attempt, not leave it leased and retried
            # forever: recorded, it is retried within the window like any failure.
            log.exception("notification delivery %s failed unexpectedly", claimed.id)
            return Outcome(sent=False, error="bug")

    def _language(self, claimed: Claimed) -> Lang:
        return claimed.language or self.settings.default_language

    def _email(self, claimed: Claimed) -> EmailMessage:
        lang = self._language(claimed)
        code = claimed.code
        words = written(claimed.facts, lang, code=code.text if code else None)
        attachment = None
        if isinstance(claimed.facts, BookingConfirmed):
            attachment = Attachment(
                filename=f"booking-{claimed.facts.booking_id}.ics",
                text=stay_calendar(claimed.facts, lang, claimed.created_at, self.domain),
                subtype="calendar",
                params={"method": "PUBLISH"},
            )
        to = claimed.chosen.account_email if code else claimed.chosen.email_to
        assert to is not None  # checked by _not_sendable
        letter = Letter(
            to=to,
            subject=words.title,
            body=words.body,
            message_id=f"<notification-{claimed.notification_id}@{self.domain}>",
            attachment=attachment,
        )
        return email_message(self.settings, letter, self.clock.now())

    async def _sms(self, client: httpx.AsyncClient, claimed: Claimed) -> Outcome:
        code = claimed.code
        sealed = code.phone if code else claimed.chosen.sms_phone
        assert sealed is not None  # checked by _not_sendable, and by the table for a code
        phone = self.cipher.decrypt("notification_phone", sealed)
        words = written(claimed.facts, self._language(claimed), code=code.text if code else None)
        text = f"{words.title}\n{words.body}"
        if self.settings.letterbox_dir is not None:
            body = msgspec.json.encode({"to": phone, "text": text})
            return await to_letterbox(self.settings.letterbox_dir, f"{claimed.id}-sms.json", body)
        return await send_sms(client, self.settings, phone, text, self.clock.now())

    async def _finish(self, claimed: Claimed, outcome: Outcome) -> None:
        now = self.clock.now()
        async with self.pool.acquire() as conn:
            if outcome.sent:
                await conn.execute(q.FINISH_SENT, claimed.id, claimed.attempt, now)
                return
            delay = retry_delay(claimed.attempt, self.settings.notify_backoff_scale, self.rand())
            dead = outcome.permanent or gives_up(
                claimed.facts,
                claimed.first_attempt_at,
                now,
                self.settings.notify_retry_window_seconds,
            )
            error = (outcome.error or "")[:MAX_ERROR_TEXT]
            retry_at = now + timedelta(seconds=delay)
            await conn.execute(
                q.FINISH_FAILED, claimed.id, claimed.attempt, now, error, retry_at, dead
            )
        then = "given up" if dead else f"retried at {retry_at.isoformat()}"
        log.warning(
            "notification delivery %s (%s) failed (%s), attempt %d: %s",
            claimed.id,
            claimed.channel,
            error,
            claimed.attempt,
            then,
            extra={
                "delivery_id": claimed.id,
                "notification_id": claimed.notification_id,
                "principal_id": claimed.principal_id,
                "channel": claimed.channel,
                "attempt": claimed.attempt,
                "error": error,
                "retry_at": None if dead else retry_at,
                "dead": dead,
            },
        )


@asynccontextmanager
async def notification_lifespan(
    settings: Settings, dsn: str, clock: Clock
) -> AsyncIterator[NotificationWorker | None]:
    """Run the worker for the life of the app, unless ``notify_worker`` is off."""
    if not settings.notify_worker:
        yield None
        return
    own = msgspec.structs.replace(settings, db_pool_min=0, db_pool_max=2)
    pool = await create_pool(own, dsn)
    worker = NotificationWorker(pool, settings, clock=clock)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop), name="respite-notifications")
    try:
        yield worker
    finally:
        stop.set()
        try:
            await asyncio.wait_for(asyncio.shield(task), 1.0)
        except TimeoutError:
            # A slow server: the lease runs out and another round sends it again.
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        try:
            await asyncio.wait_for(pool.close(), 2.0)
        except TimeoutError:  # a connection a cancelled round left mid-query
            pool.terminate()
