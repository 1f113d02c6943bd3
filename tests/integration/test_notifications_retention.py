"""Notifications are kept for their retention, then purged with their deliveries in bounded
batches; one whose email or SMS is still being sent stays."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import msgspec
import pytest

from respite.clock import ManualClock
from respite.db import Pool, create_pool
from respite.retention import KINDS, Purger
from respite.settings import Settings
from tests.notified import confirm, family

NOTIFICATIONS = next(kind for kind in KINDS if kind.name == "notifications")


@pytest.fixture
async def pool(settings: Settings, database_url: str) -> AsyncIterator[Pool]:
    pool = await create_pool(settings, database_url)
    try:
        yield pool
    finally:
        await pool.close()


async def counts(db: Any) -> tuple[int, int]:
    return (
        await db.fetchval("SELECT count(*) FROM notifications"),
        await db.fetchval("SELECT count(*) FROM notification_deliveries"),
    )


async def test_old_notifications_go_with_their_deliveries_but_not_while_being_sent(
    db: Any, pool: Pool, settings: Settings, clock: ManualClock
) -> None:
    purge_settings = msgspec.structs.replace(settings, purge_batch=2)
    purger = Purger(pool, purge_settings, clock=clock)
    principal = await family(db, settings)
    for booking_id in range(1, 6):
        await confirm(db, principal, clock, booking_id=booking_id)
    await db.execute(
        "UPDATE notification_deliveries SET status = 'sent' WHERE notification_id IN"
        " (SELECT id FROM notifications WHERE dedupe_key <> 'booking:5:confirmed')"
    )
    days = settings.retention_notifications_days
    clock.advance(timedelta(days=days) - timedelta(minutes=1))
    assert await purger.purge_batch(NOTIFICATIONS) == 0  # within the retention
    clock.advance(timedelta(minutes=2))
    assert await purger.purge_batch(NOTIFICATIONS) == 2  # one batch
    purged = await purger.purge()
    assert purged.notifications == 2
    # The one still pending stays, with its delivery.
    assert await counts(db) == (1, 1)
    assert await db.fetchval("SELECT dedupe_key FROM notifications") == "booking:5:confirmed"
