"""Retention against real PostgreSQL, with time moved by hand: each kind is purged past its
retention in bounded batches and kept within it, a pending delivery keeps its attempts, a key
of a request in flight is never touched, two purgers at once neither fail nor count a row
twice, and the app purges in the background."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import msgspec
import pytest

from respite import idempotency
from respite.app import create_app
from respite.auth.model import Principal
from respite.clock import ManualClock
from respite.db import Pool, connect, create_pool
from respite.referral.webhook_security import new_secret
from respite.retention import KINDS, Purged, Purger
from respite.settings import Settings
from tests import builders
from tests.conftest import serve_in_loop
from tests.integration.test_webhook_worker import emit, outbox, referral

BATCH = 3
MINUTE = timedelta(minutes=1)
KIND = {kind.name: kind for kind in KINDS}


@pytest.fixture
def purge_settings(settings: Settings) -> Settings:
    return msgspec.structs.replace(settings, purge_batch=BATCH)


@pytest.fixture
async def pool(purge_settings: Settings, database_url: str) -> AsyncIterator[Pool]:
    pool = await create_pool(purge_settings, database_url)
    try:
        yield pool
    finally:
        await pool.close()


@pytest.fixture
def purger(pool: Pool, purge_settings: Settings, clock: ManualClock) -> Purger:
    return Purger(pool, purge_settings, clock=clock)


def days(n: int) -> timedelta:
    return timedelta(days=n)


async def add_keys(db: Any, at: datetime, count: int) -> None:
    principal = await builders.principal(db)
    await db.executemany(
        "INSERT INTO idempotency_keys"
        " (principal_id, scope, key, operation, request_hash, status_code, response, created_at)"
        " VALUES ($1, 'admin:' || $1::bigint::text, $2, 'hold', '\\x00', 201, '{}', $3)",
        [(principal, secrets.token_hex(8), at) for _ in range(count)],
    )


async def add_audit(db: Any, at: datetime, count: int) -> None:
    await db.executemany(
        "INSERT INTO audit_log (action, entity, entity_id, at) VALUES ('create', 'bed', $1, $2)",
        [(str(n), at) for n in range(count)],
    )


async def add_tokens(
    db: Any, count: int, *, expires: datetime | None = None, revoked: datetime | None = None
) -> None:
    principal = await builders.principal(db)
    await db.executemany(
        "INSERT INTO tokens (principal_id, token_hash, expires_at, revoked_at)"
        " VALUES ($1, $2, $3, $4)",
        [(principal, secrets.token_bytes(32), expires, revoked) for _ in range(count)],
    )


async def deliveries(db: Any, clock: ManualClock, count: int) -> list[int]:
    """``count`` deliveries of one referral's events to one endpoint, all pending."""
    box = await outbox(db, "http://127.0.0.1:9/hook", new_secret())
    await emit(db, await referral(db, box), clock, times=count)
    rows = await db.fetch("SELECT id FROM webhook_deliveries ORDER BY id")
    return [row["id"] for row in rows]


async def add_attempts(db: Any, delivery: int, at: datetime, count: int) -> None:
    await db.executemany(
        "INSERT INTO webhook_attempts (delivery_id, attempt, worker, started_at, finished_at)"
        " VALUES ($1, $2, 'w1', $3, $3)",
        [(delivery, n, at) for n in range(1, count + 1)],
    )


async def count(db: Any, table: str) -> int:
    return int(await db.fetchval(f"SELECT count(*) FROM {table}"))


async def test_each_kind_is_purged_past_its_retention_in_batches_and_kept_within(
    db: Any, purger: Purger, purge_settings: Settings, clock: ManualClock
) -> None:
    now = clock.now()
    keys, audit = days(purge_settings.retention_idempotency_days), days(400)
    await add_keys(db, now - keys - MINUTE, 7)
    await add_keys(db, now - keys + MINUTE, 2)
    await add_audit(db, now - audit - MINUTE, 7)
    await add_audit(db, now - audit + MINUTE, 2)
    tokens = days(purge_settings.retention_tokens_days)
    await add_tokens(db, 4, expires=now - tokens - MINUTE)
    await add_tokens(db, 3, expires=now + days(300), revoked=now - tokens - MINUTE)
    await add_tokens(db, 1, expires=now - tokens + MINUTE)  # expired, but not long enough
    await add_tokens(db, 1, expires=now - tokens - MINUTE, revoked=now - MINUTE)  # expired first
    await add_tokens(db, 1)  # never expires, never revoked
    done = await deliveries(db, clock, 2)
    await db.execute("UPDATE webhook_deliveries SET status = 'delivered'")
    attempts = days(purge_settings.retention_webhook_attempts_days)
    await add_attempts(db, done[0], now - attempts - MINUTE, 7)
    await add_attempts(db, done[1], now - attempts + MINUTE, 2)

    # One statement deletes one batch, no more.
    assert await purger.purge_batch(KIND["audit_records"]) == BATCH
    assert await count(db, "audit_log") == 9 - BATCH

    purged = await purger.purge()
    assert purged == Purged(
        idempotency_keys=7, audit_records=7 - BATCH, webhook_attempts=7, dead_tokens=8
    )
    assert await count(db, "idempotency_keys") == 2
    assert await count(db, "audit_log") == 2
    assert await count(db, "webhook_attempts") == 2
    assert await count(db, "tokens") == 2
    assert await purger.purge() == Purged()


async def test_time_moving_on_purges_what_was_young(
    db: Any, purger: Purger, clock: ManualClock
) -> None:
    await add_audit(db, clock.now(), 2)
    await add_keys(db, clock.now(), 1)
    assert await purger.purge() == Purged()
    clock.advance(days(2) + MINUTE)
    assert await purger.purge() == Purged(idempotency_keys=1)
    clock.advance(days(400))
    assert await purger.purge() == Purged(audit_records=2)


async def add_holds(db: Any, ends: datetime, ended: list[str | None]) -> None:
    """Holds whose token confirms nothing after ``ends``, each ended as given (None: not)."""
    for how in ended:
        hold_id = f"1-{secrets.token_hex(6)}"
        await db.execute("INSERT INTO hold_starts VALUES ($1, $2)", hold_id, ends)
        if how is not None:
            await db.execute("INSERT INTO ended_holds VALUES ($1, $2, $3)", hold_id, how, ends)


async def test_hold_records_a_day_past_their_maximum_age_are_folded_into_the_tally(
    db: Any, purger: Purger, clock: ManualClock
) -> None:
    old, young = clock.now() - days(1) - MINUTE, clock.now() - days(1) + MINUTE
    await add_holds(db, old, ["confirmed", "confirmed", "released", None, None, None, None])
    await add_holds(db, young, ["confirmed", None])
    # Ended before hold_starts existed (0014): deleted, counted nowhere.
    await db.execute("INSERT INTO ended_holds VALUES ('1-before', 'released', $1)", old)
    await db.execute("INSERT INTO ended_holds VALUES ('1-recent', 'released', $1)", young)

    assert await purger.purge_batch(KIND["hold_records"]) == BATCH
    purged = await purger.purge()
    assert (purged.hold_records, purged.uncounted_hold_ends) == (7 - BATCH, 1)
    tally = await db.fetchrow("SELECT placed, confirmed, released, expired FROM hold_tally")
    assert dict(tally) == {"placed": 7, "confirmed": 2, "released": 1, "expired": 4}
    assert await count(db, "hold_starts") == 2
    assert await count(db, "ended_holds") == 2  # the young hold's end and 1-recent
    assert await purger.purge() == Purged()


async def test_attempts_of_a_pending_delivery_are_kept_until_it_ends(
    db: Any, purger: Purger, clock: ManualClock
) -> None:
    pending, dead = await deliveries(db, clock, 2)
    await db.execute("UPDATE webhook_deliveries SET status = 'dead' WHERE id = $1", dead)
    long_ago = clock.now() - days(90)
    await add_attempts(db, pending, long_ago, 4)
    await add_attempts(db, dead, long_ago, 4)
    assert (await purger.purge()).webhook_attempts == 4
    rows = await db.fetch("SELECT DISTINCT delivery_id FROM webhook_attempts")
    assert [row["delivery_id"] for row in rows] == [pending]

    await db.execute("UPDATE webhook_deliveries SET status = 'delivered' WHERE id = $1", pending)
    assert (await purger.purge()).webhook_attempts == 4
    assert await count(db, "webhook_attempts") == 0


async def test_the_key_of_a_request_in_flight_is_never_touched(
    db: Any, database_url: str, purger: Purger, clock: ManualClock
) -> None:
    """Its claim is not committed yet, so the purge neither sees it nor waits for it; it is
    committed with its answer, which a retry then replays."""
    principal = Principal(id=await builders.principal(db), role="family", name="Family")
    request = idempotency.body_hash("hold", 1)
    clock.advance(days(3))  # the key's created_at (the database's now) is past the retention
    writer = await connect(database_url)
    try:
        async with writer.transaction():
            assert await idempotency.claim(writer, principal, "k1", "hold", request) is None
            assert await asyncio.wait_for(purger.purge(), 5) == Purged()
            await idempotency.remember(writer, principal, "k1", 201, {"hold_id": "h1"})
        replay = await idempotency.claim(db, principal, "k1", "hold", request)
        assert replay == idempotency.Replay(201, {"hold_id": "h1"})
        assert await purger.purge() == Purged(idempotency_keys=1)  # old by the clock
    finally:
        await writer.close()


async def test_two_purgers_at_once_neither_fail_nor_count_a_row_twice(
    db: Any, pool: Pool, purge_settings: Settings, clock: ManualClock
) -> None:
    old = clock.now() - days(401)
    await add_audit(db, old, 200)
    await add_keys(db, old, 50)
    both = [Purger(pool, purge_settings, clock=clock) for _ in range(2)]
    first, second = await asyncio.gather(*(p.purge() for p in both))
    assert first.audit_records + second.audit_records == 200
    assert first.idempotency_keys + second.idempotency_keys == 50
    assert await count(db, "audit_log") == 0
    assert await count(db, "idempotency_keys") == 0


async def test_the_app_purges_in_the_background(
    db: Any, settings: Settings, clock: ManualClock
) -> None:
    await add_audit(db, clock.now() - days(401), 5)
    await add_audit(db, clock.now(), 1)
    quick = msgspec.structs.replace(settings, purge_seconds=0.05, webhook_worker=False)
    app = create_app(quick, clock=clock, configure_logs=False)
    async with serve_in_loop(app):
        for _ in range(200):
            if await count(db, "audit_log") == 1:
                break
            await asyncio.sleep(0.05)
    assert await count(db, "audit_log") == 1


async def test_waitlist_passes_and_jobs_that_made_nothing_go_those_with_an_offer_stay(
    db: Any, purger: Purger, purge_settings: Settings, clock: ManualClock
) -> None:
    old = clock.now() - days(purge_settings.retention_waitlist_days) - MINUTE
    young = clock.now() - MINUTE
    facility = await builders.facility(db)
    bed = await builders.bed(db, facility)
    family = await builders.principal(db)
    elder = await builders.recipient(db, family_id=family)
    today = builders.today()
    entry = await db.fetchval(
        "INSERT INTO waitlist_entries (owner_id, care_recipient_id, kind, facility_ids,"
        " earliest_check_in, latest_check_out, nights, min_nights, joined_at)"
        " VALUES ($1, $2, 'respite', $3, $4, $5, 3, 3, $6) RETURNING id",
        family,
        elder,
        [facility],
        today,
        today + days(5),
        old,
    )

    async def job(done: datetime) -> int:
        return int(
            await db.fetchval(
                "INSERT INTO waitlist_jobs (kind, cause, bed_id, from_night, until_night,"
                " done_at, outcome) VALUES ('freed', 'cancelled', $1, $2, $3, $4, 'x')"
                " RETURNING id",
                bed,
                today,
                today + days(3),
                done,
            )
        )

    nothing, passed, offered, recent = (
        await job(old),
        await job(old),
        await job(old),
        await job(young),
    )
    for job_id, at in ((passed, old), (recent, young)):
        await db.execute(
            "INSERT INTO waitlist_passes (job_id, entry_id, bed_id, facility_id, check_in,"
            " check_out, reason, passed_at) VALUES ($1, $2, $3, $4, $5, $6, 'not_eligible', $7)",
            job_id,
            entry,
            bed,
            facility,
            today,
            today + days(3),
            at,
        )
    await db.execute(
        "INSERT INTO waitlist_offers (entry_id, job_id, facility_id, bed_id, check_in, check_out,"
        " nightly_price, hold_id, hold_token_hash, made_at, deadline, status, ended_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, 100, 'h', 'x', $7, $8, 'lapsed', $8)",
        entry,
        offered,
        facility,
        bed,
        today,
        today + days(3),
        old,
        old + days(1),
    )
    assert await purger.purge() == Purged(waitlist_passes=1, waitlist_jobs=2)
    left = {r["id"] for r in await db.fetch("SELECT id FROM waitlist_jobs")}
    assert left == {offered, recent}
    assert nothing not in left and passed not in left
    assert await count(db, "waitlist_passes") == 1
