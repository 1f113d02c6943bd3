"""The Redis hold store against the real Redis: reading live holds in one round trip, and keys
whose time to live follows the app's clock, not Redis's."""

from collections.abc import AsyncIterator
from datetime import date

import msgspec
import pytest
import redis.asyncio as redis

from respite.holds.store import (
    HoldLimits,
    HoldStore,
    LiveHold,
    StoredHold,
    facility_key,
    principal_key,
    read_live_holds,
)

# Far from Redis's own clock on purpose: the app's clock is the one holds live by.
LONG_AGO = 1_000_000_000.0  # September 2001
LIMITS = HoldLimits(ttl=600, max_extensions=2, max_age=1800)


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    try:
        yield client
    finally:
        await client.aclose()


def stored(bed: int, expires_at: float, created_at: float, principal_id: int = 1) -> StoredHold:
    return StoredHold(
        bed_id=bed,
        check_in="2030-01-01",
        check_out="2030-01-03",
        expires_at=expires_at,
        created_at=created_at,
        principal_id=principal_id,
        care_recipient_id=1,
        token_hash="x",
    )


async def test_read_live_holds_skips_expired_and_unreadable_entries(client: redis.Redis) -> None:
    now = LONG_AGO
    await client.hset(
        facility_key(7),
        mapping={
            "live": msgspec.json.encode(stored(1, now + 60, now)),
            "old": msgspec.json.encode(stored(2, now - 1, now)),
            "junk": b"{",
        },
    )
    await client.hset(
        facility_key(8), mapping={"other": msgspec.json.encode(stored(3, now + 60, now))}
    )
    holds = await read_live_holds(client, [7, 8, 9], now)
    assert {f: [(h.hold_id, h.bed_id) for h in hs] for f, hs in holds.items()} == {
        7: [("live", 1)],
        8: [("other", 3)],
    }


async def test_read_live_holds_survives_a_redis_that_forgot_the_script(
    client: redis.Redis,
) -> None:
    now = LONG_AGO
    hold = stored(4, now + 60, now)
    await client.hset(facility_key(70), mapping={"h": msgspec.json.encode(hold)})
    first = await read_live_holds(client, [70, 71], now)
    await client.script_flush()  # as a restarted Redis would have
    again = await read_live_holds(client, [70, 71], now)
    live = LiveHold(
        hold_id="h",
        bed_id=4,
        check_in=date(2030, 1, 1),
        check_out=date(2030, 1, 3),
        expires_at=hold.expires_at,
    )
    assert first == again == {70: [live]}


async def test_keys_live_by_the_apps_clock_however_far_it_is_from_redis(
    client: redis.Redis,
) -> None:
    """With an absolute expiry, a clock years behind Redis's would make every key vanish at
    once; the time to live is relative to the app's now, so the hold stays for its TTL."""
    store, now = HoldStore(client), LONG_AGO
    assert await store.reserve(5, "5-a", now + 600, now, cap=3)
    placed = await store.place(9, "5-a", stored(1, now + 600, now, principal_id=5), now)
    assert placed.placed
    kept = await client.hget(facility_key(9), "5-a")
    assert kept is not None
    assert msgspec.json.decode(kept, type=StoredHold) == stored(1, now + 600, now, principal_id=5)
    for key in (facility_key(9), principal_key(5)):
        assert 655_000 < await client.pttl(key) <= 660_000  # the TTL and a minute to clean up
    assert await read_live_holds(client, [9], now + 599) != {}
    assert await read_live_holds(client, [9], now + 600) == {}  # liveness: the app's clock


async def test_an_extension_keeps_both_keys_at_least_as_long_as_the_hold(
    client: redis.Redis,
) -> None:
    store, now = HoldStore(client), LONG_AGO
    assert await store.reserve(6, "6-a", now + 600, now, cap=3)
    assert (await store.place(10, "6-a", stored(2, now + 600, now, principal_id=6), now)).placed
    later = now + 500
    result = await store.extend(10, "6-a", "x", later, LIMITS)
    assert result.status == "ok" and result.hold is not None
    assert result.hold.expires_at == later + 600
    for key in (facility_key(10), principal_key(6)):
        assert 655_000 < await client.pttl(key) <= 660_000  # from the extension's now
    assert await client.zscore(principal_key(6), "6-a") == later + 600
    # The cap counts the extended hold until its new expiry, past its first one.
    assert not await store.reserve(6, "6-b", later + 900, later + 300, cap=1)
    assert await store.reserve(6, "6-b", later + 1200, later + 601, cap=1)


async def test_a_stale_key_never_shortens_a_longer_lived_one(client: redis.Redis) -> None:
    store, now = HoldStore(client), LONG_AGO
    long_lived = stored(3, now + 1800, now)
    assert (await store.place(11, "long", long_lived, now)).placed
    assert (await store.place(11, "short", stored(4, now + 30, now), now)).placed
    assert await client.pttl(facility_key(11)) > 1_800_000


async def test_an_extension_that_gains_nothing_is_not_spent(client: redis.Redis) -> None:
    store, now = HoldStore(client), LONG_AGO
    assert (await store.place(12, "7-a", stored(5, now + 600, now, principal_id=7), now)).placed
    at_once = await store.extend(12, "7-a", "x", now, LIMITS)
    assert at_once.status == "ok" and at_once.hold is not None
    assert (at_once.hold.expires_at, at_once.hold.extensions) == (now + 600, 0)
    later = await store.extend(12, "7-a", "x", now + 60, LIMITS)
    assert later.hold is not None and (later.hold.expires_at, later.hold.extensions) == (
        now + 660,
        1,
    )
