"""The offer worker: turns the outbox's jobs into offers, and sweeps what lapses.

An asyncio task in every app process (``waitlist_lifespan``), on the app's pool. Several
processes share the work safely: each job is leased with ``FOR UPDATE SKIP LOCKED`` in the
transaction that processes it, so no two process one job, and ``waitlist_offers.job_id`` is
unique, so a job never makes two offers; one bed's jobs take turns under an advisory lock
(``offering.py``). A job that fails (Redis does not answer, say) rolls back everything it
wrote and is retried after a delay that doubles; a hold placed in Redis before a failed commit
is replaced by the retry, whose hold id and token are the same.

The worker wakes on PostgreSQL's ``NOTIFY`` (sent by every transaction that queues a job, and
delivered at its commit) on a connection of its own, and polls besides, so a lost notification
or a lost listening connection only delays. Time is the app's one clock: tests move it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import asyncpg
import redis.exceptions

from respite.clock import local_today
from respite.db import Conn, connect
from respite.deps import Deps
from respite.eligibility.model import DEFAULT_TIMEZONE
from respite.holds.errors import HoldsUnavailable
from respite.nights import WAITLIST_CHANNEL
from respite.waitlist import queries as q
from respite.waitlist.matching import Run
from respite.waitlist.offering import HeldMeanwhile, Job, offer_freed
from respite.waitlist.seeking import seek_for_entry
from respite.waitlist.sweep import sweep_all

__all__ = ["MAX_ATTEMPTS", "OfferWorker", "waitlist_lifespan"]

log = logging.getLogger("respite.waitlist")
MAX_ATTEMPTS = 20
"""A job failing this often is given up, with its last error, so it never blocks others."""
MAX_RETRY_SECONDS = 600.0


class OfferWorker:
    """Processes due jobs one transaction each; ``drain`` runs until none is due (tests call
    it directly), ``run`` forever (the lifespan's task)."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.woken = asyncio.Event()

    async def process_one(self) -> bool:
        """Lease and process one due job; False when none is due."""
        deps = self.deps
        now = deps.clock.now()
        async with deps.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(q.LEASE_JOBS, now, 1)
            if row is None:
                return False
            job = Job(**dict(row))
            try:
                async with conn.transaction():
                    outcome = await self._run(conn, job)
            except HeldMeanwhile:
                outcome = "held"
            except (HoldsUnavailable, redis.exceptions.RedisError, asyncpg.PostgresError) as exc:
                await self._retry(conn, job, exc)
                return True
            except Exception as exc:  # a bug: logged whole, and the job retried like any
                log.exception("waitlist job %s failed", job.id)
                await self._retry(conn, job, exc)
                return True
            await conn.execute(q.FINISH_JOB, job.id, deps.clock.now(), outcome)
        return True

    async def _run(self, conn: Conn, job: Job) -> str:
        if job.kind == "entry":
            assert job.entry_id is not None
            today = local_today(DEFAULT_TIMEZONE, self.deps.clock.now())
            return await seek_for_entry(conn, job.entry_id, job.cause, today)
        assert job.bed_id is not None and job.from_night and job.until_night
        return await offer_freed(
            self.deps, conn, job, job.bed_id, Run(job.from_night, job.until_night)
        )

    async def _retry(self, conn: Conn, job: Job, exc: BaseException) -> None:
        error = f"{type(exc).__name__}: {exc}"[:500]
        if job.attempts + 1 >= MAX_ATTEMPTS:
            log.error("waitlist job %s given up after %s attempts: %s", job.id, MAX_ATTEMPTS, error)
            await conn.execute(q.RETRY_JOB, job.id, self.deps.clock.now(), error)
            await conn.execute(q.FINISH_JOB, job.id, self.deps.clock.now(), "given_up")
            return
        base = self.deps.settings.waitlist_retry_seconds * 2**job.attempts
        delay = min(MAX_RETRY_SECONDS, base) * random.uniform(0.5, 1.0)
        log.warning(
            "waitlist job %s failed (attempt %s), retried in %.1f s: %s",
            job.id,
            job.attempts + 1,
            delay,
            error,
        )
        await conn.execute(
            q.RETRY_JOB, job.id, self.deps.clock.now() + timedelta(seconds=delay), error
        )

    async def drain(self) -> int:
        """Sweep, then process due jobs until none is; how many were processed."""
        await sweep_all(self.deps)
        done = 0
        while await self.process_one():
            done += 1
        return done

    async def run(self) -> None:
        settings = self.deps.settings
        loop = asyncio.get_running_loop()
        next_sweep = 0.0
        while True:
            try:
                if loop.time() >= next_sweep:
                    await sweep_all(self.deps)
                    next_sweep = loop.time() + settings.waitlist_sweep_seconds
                while await self.process_one():
                    pass
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("waitlist worker: %s; trying again shortly", exc)
            self.woken.clear()
            wait = min(settings.waitlist_poll_seconds, max(0.0, next_sweep - loop.time()))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.woken.wait(), timeout=wait)

    async def listen(self, database_url: str) -> None:
        """Wake the worker on every NOTIFY of the channel; reconnect when the connection
        drops (meanwhile, polling keeps it going)."""
        while True:
            try:
                conn = await connect(database_url)
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("waitlist listener cannot connect: %s", exc)
                await asyncio.sleep(self.deps.settings.waitlist_poll_seconds)
                continue
            lost = asyncio.Event()
            conn.add_termination_listener(functools.partial(_set, lost))
            try:
                await conn.add_listener(WAITLIST_CHANNEL, lambda *_args: self.woken.set())
                self.woken.set()  # whatever was queued while not listening
                await lost.wait()
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("waitlist listener lost: %s", exc)
            finally:
                with contextlib.suppress(Exception):
                    await conn.close()


def _set(event: asyncio.Event, *_args: object) -> None:
    event.set()


@asynccontextmanager
async def waitlist_lifespan(deps: Deps, database_url: str) -> AsyncIterator[None]:
    """Run the offer worker (and its listener) while the app runs, if this process is to."""
    if not deps.settings.waitlist_worker:
        yield
        return
    worker = OfferWorker(deps)
    tasks = [
        asyncio.create_task(worker.run(), name="waitlist-worker"),
        asyncio.create_task(worker.listen(database_url), name="waitlist-listener"),
    ]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
