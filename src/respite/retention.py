"""Bounded growth: how long respite keeps what only accumulates, and the purge of the rest.

- idempotency keys: ``retention_idempotency_days`` (2) after the key's first use;
- audit records: ``retention_audit_days`` (400) after the change they record;
- callback attempts: ``retention_webhook_attempts_days`` (30) after the attempt began, and
  never while their delivery is still pending;
- dead tokens: ``retention_tokens_days`` (30) after the token expired or was revoked, the
  earlier of the two;
- ended staff invitations: as long as dead tokens, after the invitation was used, withdrawn
  or expired, the earliest of the three (its account, once made, stays);
- notifications, with their email and SMS deliveries: ``retention_notifications_days`` (400)
  after they were made, and never while a delivery of theirs is still pending;
- the records of a hold (``hold_starts``, ``ended_holds``): a day after its maximum age, when
  its token has long confirmed nothing. They are counted into ``hold_tally`` by the statement
  that deletes them, so the operators' figures of holds never go down (``respite.figures``);
- the waiting list's passes (why an entry was passed over): ``retention_waitlist_days`` (90)
  after the pass; its jobs done that made no offer and explain no pass, as long after they
  were done. Entries and offers stay, like bookings;
- one-time codes: a day after they expired (or were used, which is earlier; ``CODE_DAYS``).

An idempotency key is claimed in the transaction of the write it protects, and its answer is
stored in that same transaction: a request still in flight holds a row nobody else can see yet,
so the purge never takes a key from under it, and a committed key always has its answer. A
retry after the retention is a new request.

Every process purges every ``purge_seconds`` (``retention_lifespan``, beside the delivery
worker), borrowing the app's pool one statement at a time. Each statement deletes at most
``purge_batch`` rows, oldest first along an index of the age column (migration 0011), as its
own short transaction, so no purge holds locks for long or grows one transaction without end.
The rows of a batch are picked ``FOR UPDATE SKIP LOCKED``: several processes purging at once
delete different rows, none waits for another, and no row is counted twice. "Now" is the app's
one clock, so tests move it instead of sleeping.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Final

import asyncpg
import msgspec

from respite.clock import Clock
from respite.db import Pool
from respite.settings import Settings

__all__ = ["KINDS", "Kind", "Purged", "Purger", "retention_lifespan"]

log = logging.getLogger("respite.retention")

# $1: the cutoff (rows older than it go), $2: the batch size. By ctid, the row itself, so that
# a statement needs no knowledge of its table's key.
PURGE_IDEMPOTENCY_KEYS: Final = """
DELETE FROM idempotency_keys WHERE ctid = ANY (ARRAY(
    SELECT ctid FROM idempotency_keys WHERE created_at < $1
    ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED
))
"""

PURGE_AUDIT_RECORDS: Final = """
DELETE FROM audit_log WHERE ctid = ANY (ARRAY(
    SELECT ctid FROM audit_log WHERE at < $1
    ORDER BY at LIMIT $2 FOR UPDATE SKIP LOCKED
))
"""

# A pending delivery's attempts say why it is still being retried (and one of them may be
# under way): they stay until the delivery is delivered or dead.
PURGE_WEBHOOK_ATTEMPTS: Final = """
DELETE FROM webhook_attempts WHERE ctid = ANY (ARRAY(
    SELECT a.ctid FROM webhook_attempts a
    WHERE a.started_at < $1
      AND NOT EXISTS (
          SELECT 1 FROM webhook_deliveries d WHERE d.id = a.delivery_id AND d.status = 'pending'
      )
    ORDER BY a.started_at LIMIT $2 FOR UPDATE OF a SKIP LOCKED
))
"""

# least() ignores a null: a token is dead from its expiry or its revocation, whichever came
# first; one that neither expires nor was revoked is never purged.
PURGE_DEAD_TOKENS: Final = """
DELETE FROM tokens WHERE ctid = ANY (ARRAY(
    SELECT ctid FROM tokens WHERE least(expires_at, revoked_at) < $1
    ORDER BY least(expires_at, revoked_at) LIMIT $2 FOR UPDATE SKIP LOCKED
))
"""

# A batch of hold starts, with how each hold ended, goes into the tally in the statement that
# deletes them and their ends: a count read at any moment sees either the rows or the tally.
# The hold cannot end any more (its maximum age is long past), so nothing waits on its end.
PURGE_HOLD_RECORDS: Final = """
WITH batch AS (
    SELECT s.ctid AS row, s.hold_id, e.ended
    FROM hold_starts s LEFT JOIN ended_holds e ON e.hold_id = s.hold_id
    WHERE s.max_expires_at < $1
    ORDER BY s.max_expires_at LIMIT $2
    FOR UPDATE OF s SKIP LOCKED
), ends AS (
    DELETE FROM ended_holds e USING batch b WHERE e.hold_id = b.hold_id
), tally AS (
    UPDATE hold_tally SET
        placed = placed + (SELECT count(*) FROM batch),
        confirmed = confirmed + (SELECT count(*) FROM batch WHERE ended = 'confirmed'),
        released = released + (SELECT count(*) FROM batch WHERE ended = 'released'),
        expired = expired + (SELECT count(*) FROM batch WHERE ended IS NULL)
)
DELETE FROM hold_starts WHERE ctid = ANY (ARRAY(SELECT row FROM batch))
"""

# Ends of holds placed before hold_starts existed (0014), which no tally counts.
PURGE_UNCOUNTED_HOLD_ENDS: Final = """
DELETE FROM ended_holds WHERE ctid = ANY (ARRAY(
    SELECT e.ctid FROM ended_holds e
    WHERE e.max_expires_at < $1
      AND NOT EXISTS (SELECT 1 FROM hold_starts s WHERE s.hold_id = e.hold_id)
    ORDER BY e.max_expires_at LIMIT $2 FOR UPDATE OF e SKIP LOCKED
))
"""

# A day past a hold's maximum age: no request that could still end it is in flight.
HOLD_RECORD_DAYS: Final = 1


class Kind(msgspec.Struct, frozen=True):
    """One kind of row with a retention."""

    name: str
    """Its field in ``Purged``."""
    purge: str
    """Deletes one batch of rows older than ``$1``, at most ``$2``."""
    days: Callable[[Settings], int]


# An invitation ends when it is used, withdrawn or expires: least() of the three (sql/0017).
PURGE_ENDED_INVITATIONS: Final = """
DELETE FROM staff_invitations WHERE ctid = ANY (ARRAY(
    SELECT ctid FROM staff_invitations WHERE least(accepted_at, withdrawn_at, expires_at) < $1
    ORDER BY least(accepted_at, withdrawn_at, expires_at) LIMIT $2 FOR UPDATE SKIP LOCKED
))
"""

# A notification goes with its deliveries, in one statement (the deliveries' key to it is
# checked at its end); one still being sent stays.
PURGE_NOTIFICATIONS: Final = """
WITH batch AS (
    SELECT n.id FROM notifications n
    WHERE n.created_at < $1
      AND NOT EXISTS (
          SELECT 1 FROM notification_deliveries d
          WHERE d.notification_id = n.id AND d.status = 'pending'
      )
    ORDER BY n.created_at LIMIT $2 FOR UPDATE OF n SKIP LOCKED
), deliveries AS (
    DELETE FROM notification_deliveries d USING batch b WHERE d.notification_id = b.id
)
DELETE FROM notifications WHERE id IN (SELECT id FROM batch)
"""

# Why entries were passed over, by when; then the jobs done that neither made an offer nor
# still explain a pass (after the passes' purge in the same round).
PURGE_WAITLIST_PASSES: Final = """
DELETE FROM waitlist_passes WHERE ctid = ANY (ARRAY(
    SELECT ctid FROM waitlist_passes WHERE passed_at < $1
    ORDER BY passed_at LIMIT $2 FOR UPDATE SKIP LOCKED
))
"""
PURGE_WAITLIST_JOBS: Final = """
DELETE FROM waitlist_jobs WHERE ctid = ANY (ARRAY(
    SELECT j.ctid FROM waitlist_jobs j
    WHERE j.done_at < $1
      AND NOT EXISTS (SELECT 1 FROM waitlist_offers o WHERE o.job_id = j.id)
      AND NOT EXISTS (SELECT 1 FROM waitlist_passes p WHERE p.job_id = j.id)
    ORDER BY j.done_at LIMIT $2 FOR UPDATE OF j SKIP LOCKED
))
"""

# A code is used before it expires, so its expiry bounds both; its notification stays with
# the rest (the inbox keeps that a code was sent, never the code).
PURGE_ONE_TIME_CODES: Final = """
DELETE FROM one_time_codes WHERE ctid = ANY (ARRAY(
    SELECT ctid FROM one_time_codes WHERE expires_at < $1
    ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED
))
"""
CODE_DAYS: Final = 1

KINDS: Final = (
    Kind("idempotency_keys", PURGE_IDEMPOTENCY_KEYS, lambda s: s.retention_idempotency_days),
    Kind("audit_records", PURGE_AUDIT_RECORDS, lambda s: s.retention_audit_days),
    Kind("webhook_attempts", PURGE_WEBHOOK_ATTEMPTS, lambda s: s.retention_webhook_attempts_days),
    Kind("dead_tokens", PURGE_DEAD_TOKENS, lambda s: s.retention_tokens_days),
    Kind("ended_invitations", PURGE_ENDED_INVITATIONS, lambda s: s.retention_tokens_days),
    Kind("hold_records", PURGE_HOLD_RECORDS, lambda s: HOLD_RECORD_DAYS),
    Kind("uncounted_hold_ends", PURGE_UNCOUNTED_HOLD_ENDS, lambda s: HOLD_RECORD_DAYS),
    Kind("notifications", PURGE_NOTIFICATIONS, lambda s: s.retention_notifications_days),
    Kind("waitlist_passes", PURGE_WAITLIST_PASSES, lambda s: s.retention_waitlist_days),
    Kind("waitlist_jobs", PURGE_WAITLIST_JOBS, lambda s: s.retention_waitlist_days),
    Kind("one_time_codes", PURGE_ONE_TIME_CODES, lambda s: CODE_DAYS),
)


class Purged(msgspec.Struct, frozen=True, kw_only=True):
    """How many rows of each kind one round deleted."""

    idempotency_keys: int = 0
    audit_records: int = 0
    webhook_attempts: int = 0
    dead_tokens: int = 0
    ended_invitations: int = 0
    hold_records: int = 0
    uncounted_hold_ends: int = 0
    notifications: int = 0
    waitlist_passes: int = 0
    waitlist_jobs: int = 0
    one_time_codes: int = 0

    @property
    def total(self) -> int:
        return sum(msgspec.structs.astuple(self))


class Purger:
    """One process's purge, by ``clock``."""

    def __init__(self, pool: Pool, settings: Settings, *, clock: Clock) -> None:
        self.pool = pool
        self.settings = settings
        self.clock = clock

    def cutoff(self, kind: Kind) -> datetime:
        """Rows of ``kind`` older than this are past their retention."""
        return self.clock.now() - timedelta(days=kind.days(self.settings))

    async def purge_batch(self, kind: Kind) -> int:
        """Delete one batch of ``kind`` past its retention; how many rows."""
        status = await self.pool.execute(kind.purge, self.cutoff(kind), self.settings.purge_batch)
        return int(status.split()[-1])  # "DELETE <count>"

    async def purge(self) -> Purged:
        """One round: every kind, batch after batch, until a batch comes back short."""
        counts: dict[str, int] = {}
        for kind in KINDS:
            counts[kind.name] = 0
            while True:
                deleted = await self.purge_batch(kind)
                counts[kind.name] += deleted
                if deleted < self.settings.purge_batch:
                    break
        purged = Purged(**counts)
        if purged.total:
            log.info("purged past their retention: %s", msgspec.structs.asdict(purged))
        return purged

    async def run(self, stop: asyncio.Event) -> None:
        """Purge every ``purge_seconds`` until ``stop`` is set; a failed round is only logged.

        The first round waits one interval: an app that starts and stops at once (a command,
        a test) costs the database nothing."""
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.settings.purge_seconds)
            if stop.is_set():
                break
            try:
                await self.purge()
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
                log.warning("purge: %s; trying again next round", type(exc).__name__)
            except Exception:
                # A bug must not end the purge for the life of the process.
                log.exception("purge round failed")


@asynccontextmanager
async def retention_lifespan(settings: Settings, pool: Pool, clock: Clock) -> AsyncIterator[Purger]:
    """Purge in the background for the life of the app."""
    purger = Purger(pool, settings, clock=clock)
    stop = asyncio.Event()
    task = asyncio.create_task(purger.run(stop), name="respite-retention")
    try:
        yield purger
    finally:
        stop.set()
        try:
            await asyncio.wait_for(asyncio.shield(task), 1.0)
        except TimeoutError:
            task.cancel()  # a batch under way rolls back; the next round deletes it
            with contextlib.suppress(asyncio.CancelledError):
                await task
