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
import msgspec
import redis.exceptions

from respite.clock import local_today
from respite.db import Conn, connect, create_pool
from respite.deps import Deps
from respite.eligibility.model import DEFAULT_TIMEZONE
from respite.holds.errors import HoldsUnavailable
from respite.holds.store import offer_hold_id
from respite.nights import WAITLIST_CHANNEL
from respite.waitlist import queries as q
from respite.waitlist.matching import Run
from respite.waitlist.offering import HeldMeanwhile, Job, offer_freed, offer_token_hash
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
            except HeldMeanwhile as exc:
                # Held by someone else since the run was read: looked at again shortly, when
                # the run leaves the held nights out (or the hold has ended).
                await self._retry(conn, job, exc)
                return True
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
        """Try the job again later. Its offer's hold, if Redis took it before the failure,
        is taken out (the retry places it again). A job is given up only after many
        failures that are not Redis being away or the bed held meanwhile: those delay an
        offer, never lose one."""
        error = f"{type(exc).__name__}: {exc}"[:500]
        await self._take_back(conn, job)
        waiting = isinstance(exc, (HeldMeanwhile, HoldsUnavailable, redis.exceptions.RedisError))
        if job.attempts + 1 >= MAX_ATTEMPTS and not waiting:
            log.error("waitlist job %s given up after %s attempts: %s", job.id, MAX_ATTEMPTS, error)
            await conn.execute(q.RETRY_JOB, job.id, self.deps.clock.now(), error)
            await conn.execute(q.FINISH_JOB, job.id, self.deps.clock.now(), "given_up")
            return
        base = self.deps.settings.waitlist_retry_seconds * 2 ** min(job.attempts, 10)
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

    async def _take_back(self, conn: Conn, job: Job) -> None:
        if job.bed_id is None:
            return
        facility = await conn.fetchval("SELECT facility_id FROM beds WHERE id = $1", job.bed_id)
        hashed = offer_token_hash(self.deps.settings.secret_key, job.id)
        with contextlib.suppress(HoldsUnavailable, redis.exceptions.RedisError):
            await self.deps.holds.release(facility, offer_hold_id(facility, job.id), hashed, 0)

    async def drain(self) -> int:
        """Sweep, then process due jobs until none is; how many were processed."""
        await sweep_all(self.deps)
        done = 0
        while await self.process_one():
            done += 1
        return done

    async def run(self, stop: asyncio.Event) -> None:
        """Sweep now and then, and process due jobs whenever woken or a poll interval passed,
        until ``stop`` is set; database or Redis trouble only slows it down. It waits one
        poll interval (or a wake-up) before its first round: an app that starts and stops at
        once (a command, a test) costs the database nothing."""
        settings = self.deps.settings
        loop = asyncio.get_running_loop()
        next_sweep = loop.time() + settings.waitlist_poll_seconds
        while not stop.is_set():
            wait = min(settings.waitlist_poll_seconds, max(0.0, next_sweep - loop.time()))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.woken.wait(), timeout=wait)
            self.woken.clear()
            if stop.is_set():
                break
            try:
                if loop.time() >= next_sweep:
                    next_sweep = loop.time() + settings.waitlist_sweep_seconds
                    await sweep_all(self.deps)
                while not stop.is_set() and await self.process_one():
                    pass
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("waitlist worker: %s; trying again shortly", type(exc).__name__)
            except Exception:
                # A bug must not stop every offer: log it and keep going.
                log.exception("waitlist worker round failed")

    async def listen(self, database_url: str, stop: asyncio.Event) -> None:
        """Wake the worker on every NOTIFY of the channel until ``stop`` is set; reconnect
        when the connection drops (meanwhile, polling keeps the worker going)."""
        retry = self.deps.settings.waitlist_poll_seconds
        while not stop.is_set():
            try:
                conn = await connect(database_url)
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("waitlist listener cannot connect: %s", type(exc).__name__)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), retry)
                continue
            lost = asyncio.Event()
            conn.add_termination_listener(functools.partial(_set, lost))
            try:
                await conn.add_listener(WAITLIST_CHANNEL, functools.partial(_set, self.woken))
                ended = [asyncio.ensure_future(e.wait()) for e in (lost, stop)]
                try:
                    await asyncio.wait(ended, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    for waiting in ended:
                        waiting.cancel()
            except Exception as exc:
                # Whatever the server or the driver does (a restart mid-LISTEN raises
                # asyncpg's InternalClientError), the listener reconnects; polling goes on.
                log.warning("waitlist listener lost: %s", type(exc).__name__)
            finally:
                conn.terminate()  # never waits, whatever state the server is in


def _set(event: asyncio.Event, *_args: object) -> None:
    event.set()


@asynccontextmanager
async def waitlist_lifespan(deps: Deps, database_url: str) -> AsyncIterator[None]:
    """Run the offer worker (and its listener) while the app runs, if this process is to,
    on a small pool of its own so that offers never take connections from requests."""
    if not deps.settings.waitlist_worker:
        yield
        return
    own = msgspec.structs.replace(deps.settings, db_pool_min=0, db_pool_max=2)
    pool = await create_pool(own, database_url)
    worker = OfferWorker(
        Deps(
            pool=pool,
            redis=deps.redis,
            holds=deps.holds,
            clock=deps.clock,
            settings=deps.settings,
            listeners=deps.listeners,
        )
    )
    stop = asyncio.Event()
    tasks = [
        asyncio.create_task(worker.run(stop), name="waitlist-worker"),
        asyncio.create_task(worker.listen(database_url, stop), name="waitlist-listener"),
    ]
    try:
        yield
    finally:
        stop.set()
        worker.woken.set()
        for task in tasks:
            try:
                await asyncio.wait_for(asyncio.shield(task), 2.0)
            except TimeoutError:
                task.cancel()  # a job in flight rolls back; its retry is the next process's
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            except Exception:  # a bug in the loop must not fail the app's shutdown
                log.exception("waitlist task %s ended with an error", task.get_name())
        try:
            await asyncio.wait_for(pool.close(), 2.0)
        except TimeoutError:
            pool.terminate()
