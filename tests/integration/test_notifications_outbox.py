"""``notify`` inside the caller's transaction, against real PostgreSQL: one key writes once even
when transactions race, a rolled-back transaction tells no one, and facts of the wrong kind
are a bug."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from respite.clock import ManualClock
from respite.db import create_pool
from respite.notifications import notify
from respite.settings import Settings
from tests import builders
from tests.notified import confirm, family, stay


async def test_one_key_writes_once_even_when_two_transactions_race(
    db: Any, settings: Settings, database_url: str, clock: ManualClock
) -> None:
    principal = await family(db, settings, sms=True)
    await confirm(db, principal, clock)
    await confirm(db, principal, clock)
    pools = await create_pool(settings, database_url)
    try:

        async def racer() -> None:
            async with pools.acquire() as conn, conn.transaction():
                await notify(
                    conn,
                    principal_id=principal,
                    kind="booking.confirmed",
                    facts=stay(9),
                    key="booking:9:confirmed",
                    now=clock.now(),
                )

        await asyncio.gather(*(racer() for _ in range(5)))
    finally:
        await pools.close()
    assert await db.fetchval("SELECT count(*) FROM notifications") == 2
    channels = await db.fetch(
        "SELECT n.dedupe_key, d.channel FROM notification_deliveries d"
        " JOIN notifications n ON n.id = d.notification_id ORDER BY 1, 2"
    )
    assert [tuple(row) for row in channels] == [
        ("booking:1207:confirmed", "email"),
        ("booking:1207:confirmed", "sms"),
        ("booking:9:confirmed", "email"),
        ("booking:9:confirmed", "sms"),
    ]


async def test_a_rolled_back_transaction_tells_no_one(
    db: Any, settings: Settings, clock: ManualClock
) -> None:
    principal = await family(db, settings)

    async def booking_that_fails_after_notify() -> None:
        async with db.transaction():
            await notify(
                db,
                principal_id=principal,
                kind="booking.confirmed",
                facts=stay(),
                key="booking:1207:confirmed",
                now=clock.now(),
            )
            raise RuntimeError("the booking failed after notify")

    with pytest.raises(RuntimeError):
        await booking_that_fails_after_notify()
    assert await db.fetchval("SELECT count(*) FROM notifications") == 0
    assert await db.fetchval("SELECT count(*) FROM notification_deliveries") == 0


async def test_the_wrong_facts_for_a_kind_are_a_bug(db: Any, clock: ManualClock) -> None:
    principal = await builders.principal(db, "family")
    with pytest.raises(TypeError):
        await notify(
            db,
            principal_id=principal,
            kind="waitlist.offer_made",
            facts=stay(),
            key="offer:1",
            now=clock.now(),
        )
