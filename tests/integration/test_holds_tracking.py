"""Holds kept in process while Redis vouches for them (``holds.tracking``), against the real
Redis: a change by anyone, anywhere, drops what was kept; a change reported while a read was
on its way keeps that read from being kept; a lost listener serves nothing until it is back.

Waiting for Redis's word (it travels on another connection) is a bounded wait for a state,
never a timed assertion: ``until`` fails only if the state never comes."""

import asyncio
from collections.abc import AsyncIterator, Callable

import msgspec
import pytest
import redis.asyncio as redis

from respite.holds.store import HoldStore, StoredHold, facility_key, read_live_holds
from respite.holds.tracking import TrackedHolds

NOW = 1_000_000_000.0
BOUND_S = 10.0


def stored(bed: int, expires_at: float = NOW + 600) -> bytes:
    hold = StoredHold(
        bed_id=bed,
        check_in="2030-01-01",
        check_out="2030-01-03",
        expires_at=expires_at,
        created_at=NOW,
        principal_id=1,
        care_recipient_id=1,
        token_hash="x",
    )
    return msgspec.json.encode(hold)


async def until(condition: Callable[[], bool], what: str) -> None:
    for _ in range(int(BOUND_S / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never: {what}")


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
async def tracked(redis_url: str) -> AsyncIterator[TrackedHolds]:
    tracked = TrackedHolds(redis_url, timeout=2.0)
    await tracked.start()
    assert tracked.trusted
    try:
        yield tracked
    finally:
        await tracked.stop()


async def beds_held(client: redis.Redis, tracked: TrackedHolds, facility: int) -> list[int]:
    live = await read_live_holds(client, [facility], NOW, tracked)
    return sorted(hold.bed_id for hold in live.get(facility, []))


async def test_a_hash_read_is_kept_until_anyone_changes_it(
    client: redis.Redis, tracked: TrackedHolds
) -> None:
    await client.hset(facility_key(7), "7-a", stored(1))
    await until(lambda: 7 in tracked._stamps, "Redis reports facility 7's first hold")
    assert await beds_held(client, tracked, 7) == [1]
    assert 7 in tracked.kept([7, 8])  # read once, then served from the process
    await client.hset(facility_key(8), "8-a", stored(5))  # another facility: 7 stays kept
    await until(lambda: 8 in tracked._stamps, "Redis reports facility 8's change")
    assert 7 in tracked.kept([7])

    # Another process (this client, not the tracked store) places a hold, one is released.
    await client.hset(facility_key(7), "7-b", stored(2))
    await until(lambda: 7 not in tracked.kept([7]), "Redis reports facility 7's change")
    assert await beds_held(client, tracked, 7) == [1, 2]
    await client.hdel(facility_key(7), "7-a")
    await until(lambda: 7 not in tracked.kept([7]), "Redis reports the release")
    assert await beds_held(client, tracked, 7) == [2]


async def test_an_expired_key_is_dropped_and_liveness_is_judged_at_each_read(
    client: redis.Redis, tracked: TrackedHolds
) -> None:
    await client.hset(facility_key(9), mapping={"9-a": stored(1, NOW + 30), "9-b": stored(2)})
    await until(lambda: 9 in tracked._stamps, "Redis reports facility 9's holds")
    assert await beds_held(client, tracked, 9) == [1, 2]
    assert 9 in tracked.kept([9])
    live = await read_live_holds(client, [9], NOW + 60, tracked)  # kept, yet one has ended
    assert [hold.bed_id for hold in live[9]] == [2]
    await client.pexpire(facility_key(9), 50)
    for _ in range(int(BOUND_S / 0.01)):
        if not await client.exists(facility_key(9)):
            break
        await asyncio.sleep(0.01)
    await until(lambda: 9 not in tracked.kept([9]), "Redis reports the key's expiry")
    assert await beds_held(client, tracked, 9) == []


async def test_a_change_reported_while_a_read_travels_keeps_the_read_from_being_kept(
    tracked: TrackedHolds,
) -> None:
    before = tracked.mark()
    tracked.changed(3)  # Redis's word arrives before the answer is handled
    tracked.keep(before, {3: [(b"3-a", stored(1))], 4: [(b"4-a", stored(2))]})
    assert list(tracked.kept([3, 4])) == [4]
    after = tracked.mark()
    tracked.keep(after, {3: [(b"3-a", stored(1))]})
    assert list(tracked.kept([3, 4])) == [3, 4]


async def test_this_processs_own_write_is_read_back_at_once(
    client: redis.Redis, tracked: TrackedHolds
) -> None:
    store = HoldStore(client, tracked)
    assert await beds_held(client, tracked, 11) == []
    assert 11 in tracked.kept([11])
    hold = msgspec.json.decode(stored(4), type=StoredHold)
    placed = await store.place(11, "11-a", hold, NOW)
    assert placed.placed
    # No wait for Redis's word: the store dropped what was kept when it wrote.
    assert await beds_held(client, tracked, 11) == [4]


async def test_a_flush_drops_everything(client: redis.Redis, tracked: TrackedHolds) -> None:
    await client.hset(facility_key(12), "12-a", stored(1))
    await until(lambda: 12 in tracked._stamps, "Redis reports facility 12's hold")
    assert await beds_held(client, tracked, 12) == [1]
    assert 12 in tracked.kept([12])
    await client.flushdb()
    await until(lambda: 12 not in tracked.kept([12]), "Redis reports the flush")
    assert await beds_held(client, tracked, 12) == []


async def test_a_lost_listener_serves_nothing_until_it_is_back(
    client: redis.Redis, tracked: TrackedHolds
) -> None:
    await client.hset(facility_key(13), "13-a", stored(1))
    await until(lambda: 13 in tracked._stamps, "Redis reports facility 13's hold")
    assert await beds_held(client, tracked, 13) == [1]
    assert 13 in tracked.kept([13])
    killed = await client.client_kill_filter(_type="pubsub")
    assert killed >= 1
    await until(lambda: not tracked.trusted, "the listener notices it was cut off")
    assert tracked.kept([13]) == {}
    # Meanwhile a change nobody can report: reads go to Redis and see it.
    await client.hset(facility_key(13), "13-b", stored(2))
    assert await beds_held(client, tracked, 13) == [1, 2]
    await until(lambda: tracked.trusted, "the listener is back")
    assert await beds_held(client, tracked, 13) == [1, 2]
    assert 13 in tracked.kept([13])


async def test_a_redis_that_cannot_be_reached_only_costs_the_cache(redis_url: str) -> None:
    nowhere = redis_url.rsplit(":", 1)[0] + ":1/0"
    tracked = TrackedHolds(nowhere, timeout=0.2)
    await tracked.start()
    try:
        assert not tracked.trusted
        tracked.keep(tracked.mark(), {1: []})
        assert tracked.kept([1]) == {}
    finally:
        await tracked.stop()
