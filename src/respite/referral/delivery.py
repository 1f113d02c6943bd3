"""The delivery worker: posts the outbox's callbacks, and expires referrals nobody booked
(``expiry``) now and then.

An asyncio task in every app process (``delivery_lifespan``), each with a small pool of its
own so that slow receivers never take connections from requests. Several processes share the
work safely: a delivery is leased with ``FOR UPDATE SKIP LOCKED`` before it is attempted, so
no two attempt it at once, and only the first pending event of each (endpoint, referral) is
ever due, so a referral's events arrive in order. Every attempt is written when it starts and
completed when it ends. A failure (no 2xx within the timeout; redirects are not followed) is
retried after an exponential delay with full jitter until the retry window is over. A failure
no retry can cure — a URL that cannot be sent to, a certificate that fails verification — is
given up (dead) at once, with its error, so it never holds back the referral's next event.
Every failed attempt is logged (a warning: the delivery, referral and hospital ids, the attempt,
the HTTP status or the kind of error, and when it is retried or that it is given up). Time is
the app's one clock, so tests move it instead of sleeping.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import random
import secrets
import socket
import ssl
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Final, Literal

import asyncpg
import httpx
import msgspec

from respite import __version__
from respite.clock import Clock
from respite.db import Pool, create_pool
from respite.referral import queries as q
from respite.referral.expiry import expire_due
from respite.referral.webhook_model import gives_up, retry_delay
from respite.referral.webhook_security import (
    MalformedUrlError,
    UnsafeUrlError,
    parse_callback_url,
    resolve_target,
    signature_headers,
)
from respite.settings import Settings

__all__ = ["Claimed", "DeliveryWorker", "Outcome", "delivery_lifespan"]

log = logging.getLogger("respite.webhooks")
USER_AGENT: Final = f"respite-webhooks/{__version__}"
MAX_ERROR_TEXT: Final = 500
# After a database error the loop waits this long, doubling up to the cap.
IDLE_CAP_SECONDS: Final = 30.0


class Claimed(msgspec.Struct, frozen=True, kw_only=True):
    """A delivery leased for one attempt."""

    id: int
    referral_id: int
    hospital_id: int
    attempt: int
    failures: int
    first_attempt_at: datetime
    event_id: str
    body: bytes
    url: str
    secrets: list[str]


ErrorKind = Literal[
    "http_status", "timeout", "connection", "refused_url", "invalid_url", "tls_certificate", "bug"
]


class Outcome(msgspec.Struct, frozen=True, kw_only=True):
    status_code: int | None
    error: str | None
    kind: ErrorKind | None = None
    """What went wrong, as a short word for the log (None when delivered)."""
    permanent: bool = False
    """No later attempt can succeed: give the delivery up now."""

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def _claimed(row: asyncpg.Record, now: datetime) -> Claimed:
    keys = [row["secret"]]
    if row["previous_secret"] and row["previous_until"] and row["previous_until"] > now:
        keys.append(row["previous_secret"])
    return Claimed(
        id=row["id"],
        referral_id=row["referral_id"],
        hospital_id=row["hospital_id"],
        attempt=row["attempts"],
        failures=row["failures"],
        first_attempt_at=row["first_attempt_at"],
        event_id=row["event_id"],
        body=row["body"].encode(),
        url=row["url"],
        secrets=keys,
    )


class DeliveryWorker:
    """One process's share of the deliveries, by ``clock``; ``rand`` (the jitter) is
    injectable so that tests can check the retry schedule exactly, and ``tls`` (the
    certificate authorities trusted) so that they can run receivers of their own over HTTPS."""

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
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self.clock = clock
        self.rand = rand
        self.tls = tls or _tls_context()
        self._last_sweep: datetime | None = None

    def now(self) -> datetime:
        return self.clock.now()

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver and sweep until ``stop`` is set; database trouble only slows it down.

        It waits one poll interval before its first round: an app that starts and stops at
        once (a command, a test) costs the database nothing."""
        idle, done = self.settings.webhook_poll_seconds, 0
        while not stop.is_set():
            if done == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), idle)
                if stop.is_set():
                    break
            try:
                done = await self.tick()
                idle = self.settings.webhook_poll_seconds
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
                log.warning("webhook worker: %s; retrying in %.1f s", type(exc).__name__, idle)
                done, idle = 0, min(idle * 2, IDLE_CAP_SECONDS)
            except Exception:
                # A bug must not stop every hospital's callbacks: log it and keep going.
                log.exception("webhook worker round failed")
                done, idle = 0, min(idle * 2, IDLE_CAP_SECONDS)

    async def tick(self) -> int:
        """One round: expire what is due (now and then), then one batch of deliveries."""
        now = self.now()
        every = timedelta(seconds=self.settings.referral_sweep_seconds)
        if self._last_sweep is None or now - self._last_sweep >= every:
            await self.expire_due()
            self._last_sweep = now
        return await self.deliver_due()

    async def claim(self) -> list[Claimed]:
        now = self.now()
        lease = now + timedelta(seconds=self.settings.webhook_timeout * 2 + 10)
        async with self.pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                q.CLAIM_DUE_DELIVERIES, now, lease, self.settings.webhook_batch, self.name
            )
            claimed = [_claimed(r, now) for r in rows]
            if claimed:
                await conn.execute(
                    q.INSERT_ATTEMPTS,
                    [c.id for c in claimed],
                    [c.attempt for c in claimed],
                    self.name,
                    now,
                )
        return claimed

    async def deliver_due(self) -> int:
        """Attempt every delivery due now (one batch, concurrently); how many were tried."""
        claimed = await self.claim()
        if claimed:
            async with self._client() as client:
                # Every attempt ends (and records its outcome) before the client closes.
                results = await asyncio.gather(
                    *(self._deliver(client, c) for c in claimed), return_exceptions=True
                )
            for result in results:
                if isinstance(result, BaseException):
                    raise result
        return len(claimed)

    def _client(self) -> httpx.AsyncClient:
        # No connection reuse: each attempt connects to the address it has just checked.
        # No proxies from the environment: they would connect to the host by name.
        return httpx.AsyncClient(
            follow_redirects=False,
            trust_env=False,
            verify=self.tls,
            timeout=self.settings.webhook_timeout,
            limits=httpx.Limits(max_keepalive_connections=0),
            headers={"user-agent": USER_AGENT},
        )

    async def _deliver(self, client: httpx.AsyncClient, claimed: Claimed) -> None:
        started = time.monotonic()
        try:
            outcome = await self._post(client, claimed)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._finish(claimed, None, started), 2)
            raise
        await self._finish(claimed, outcome, started)

    async def _post(self, client: httpx.AsyncClient, claimed: Claimed) -> Outcome:
        try:
            request = await self._pinned_request(client, claimed)
            async with asyncio.timeout(self.settings.webhook_timeout):
                # Streamed and closed unread: a receiver's answer body is of no use, and a
                # huge one must not fill memory.
                response = await client.send(request, stream=True)
                await response.aclose()
        except MalformedUrlError as exc:
            error = f"refused: {exc}"
            return Outcome(status_code=None, error=error, kind="refused_url", permanent=True)
        except UnsafeUrlError as exc:
            return Outcome(status_code=None, error=f"refused: {exc}", kind="refused_url")
        except (httpx.HTTPError, httpx.InvalidURL, OSError, TimeoutError) as exc:
            return _failure(exc)
        except Exception as exc:
            # A bug must cost this delivery its attempt, not leave it leased and retried
            # forever: recorded, it is retried within the window like any failure.
            log.exception(
                "delivery %s: attempt failed unexpectedly", claimed.id, extra=_ids(claimed)
            )
            return Outcome(status_code=None, error=_describe(exc), kind="bug")
        if 200 <= response.status_code < 300:
            return Outcome(status_code=response.status_code, error=None)
        error = f"HTTP {response.status_code}"
        return Outcome(status_code=response.status_code, error=error, kind="http_status")

    async def _pinned_request(self, client: httpx.AsyncClient, claimed: Claimed) -> httpx.Request:
        """The signed POST, addressed to an IP just checked to be allowed (DNS rebinding)."""
        target = parse_callback_url(
            claimed.url, allow_loopback_http=self.settings.webhook_allow_loopback_http
        )
        address = (await resolve_target(target))[0]
        url = httpx.URL(claimed.url)
        timestamp = int(self.now().timestamp())
        headers = signature_headers(claimed.secrets, claimed.event_id, timestamp, claimed.body)
        headers["host"] = url.netloc.decode("ascii")
        extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
        return client.build_request(
            "POST",
            url.copy_with(host=str(address)),
            content=claimed.body,
            headers=headers,
            extensions=extensions,
        )

    async def _finish(self, claimed: Claimed, outcome: Outcome | None, started: float) -> None:
        now = self.now()
        elapsed = int((time.monotonic() - started) * 1000)
        common = (claimed.id, claimed.attempt, now)
        async with self.pool.acquire() as conn:
            if outcome is None:
                await conn.execute(q.FINISH_INTERRUPTED, *common, None, "interrupted", elapsed)
            elif outcome.delivered:
                await conn.execute(q.FINISH_DELIVERED, *common, outcome.status_code, None, elapsed)
            else:
                delay = retry_delay(
                    claimed.failures + 1, self.settings.webhook_backoff_scale, self.rand()
                )
                dead = outcome.permanent or gives_up(
                    claimed.first_attempt_at, now, self.settings.webhook_retry_window_seconds
                )
                retry_at = None if dead else now + timedelta(seconds=delay)
                await conn.execute(
                    q.FINISH_FAILED,
                    *common,
                    outcome.status_code,
                    (outcome.error or "")[:MAX_ERROR_TEXT],
                    elapsed,
                    now + timedelta(seconds=delay),
                    dead,
                )
                _log_failure(claimed, outcome, retry_at)

    async def expire_due(self) -> int:
        """Expire the referrals nobody booked by their discharge date; how many."""
        return await expire_due(self.pool, self.now())


def _ids(claimed: Claimed) -> dict[str, int]:
    return {
        "delivery_id": claimed.id,
        "referral_id": claimed.referral_id,
        "hospital_id": claimed.hospital_id,
        "attempt": claimed.attempt,
    }


def _log_failure(claimed: Claimed, outcome: Outcome, retry_at: datetime | None) -> None:
    """One warning per failed attempt; the error is the network's, never the event's data."""
    what = f"HTTP {outcome.status_code}" if outcome.status_code is not None else outcome.kind
    fields = {
        **_ids(claimed),
        "status": outcome.status_code,
        "error_kind": outcome.kind,
        "error": (outcome.error or "")[:MAX_ERROR_TEXT],
        "retry_at": retry_at,
        "dead": retry_at is None,
    }
    then = "given up" if retry_at is None else f"retried at {retry_at.isoformat()}"
    log.warning(
        "callback delivery %s failed (%s), attempt %d: %s",
        claimed.id,
        what,
        claimed.attempt,
        then,
        extra=fields,
    )


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """Made once: loading the certificate authorities is slow."""
    return httpx.create_ssl_context()


def _describe(exc: BaseException) -> str:
    if isinstance(exc, httpx.TimeoutException | TimeoutError):
        return "timeout"
    return f"{type(exc).__name__}: {exc}"[:MAX_ERROR_TEXT]


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception and those it was raised from (httpx wraps httpcore wraps ssl)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _failure(exc: BaseException) -> Outcome:
    """A failed attempt; permanent when the same request can never get through: a URL httpx
    will not send to, or a certificate that fails verification (expired, self-signed, for
    another name), which only the receiver can fix (and then ask for a redelivery)."""
    if isinstance(exc, httpx.InvalidURL | httpx.UnsupportedProtocol):
        error = f"invalid URL: {exc}"
        return Outcome(status_code=None, error=error, kind="invalid_url", permanent=True)
    for cause in _causes(exc):
        if isinstance(cause, ssl.SSLCertVerificationError):
            why = cause.verify_message or str(cause)
            error = f"TLS certificate verification failed: {why}"
            return Outcome(status_code=None, error=error, kind="tls_certificate", permanent=True)
    error = _describe(exc)
    return Outcome(
        status_code=None, error=error, kind="timeout" if error == "timeout" else "connection"
    )


@asynccontextmanager
async def delivery_lifespan(
    settings: Settings, dsn: str, clock: Clock
) -> AsyncIterator[DeliveryWorker | None]:
    """Run the worker for the life of the app, unless ``webhook_worker`` is off."""
    if not settings.webhook_worker:
        yield None
        return
    own = msgspec.structs.replace(settings, db_pool_min=0, db_pool_max=2)
    pool = await create_pool(own, dsn)
    worker = DeliveryWorker(pool, settings, clock=clock)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop), name="respite-webhooks")
    try:
        yield worker
    finally:
        stop.set()
        try:
            await asyncio.wait_for(asyncio.shield(task), 1.0)
        except TimeoutError:
            task.cancel()  # a slow receiver: the attempt is recorded as interrupted
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await pool.close()
