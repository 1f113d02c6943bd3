"""The hold store against the real Redis: reading live holds in one round trip."""

import time
from datetime import date

import msgspec
import redis.asyncio as redis

from respite.booking.holds import LiveHold, StoredHold, facility_key, read_live_holds


async def test_read_live_holds_skips_expired_and_unreadable_entries(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    now = time.time()

    def stored(bed: int, expires_at: float) -> bytes:
        hold = StoredHold(
            bed_id=bed,
            check_in="2030-01-01",
            check_out="2030-01-03",
            expires_at=expires_at,
            created_at=now,
            principal_id=1,
            care_recipient_id=1,
            token_hash="x",
        )
        return msgspec.json.encode(hold)

    try:
        await client.hset(
            facility_key(7),
            mapping={"live": stored(1, now + 60), "old": stored(2, now - 1), "junk": b"{"},
        )
        await client.hset(facility_key(8), mapping={"other": stored(3, now + 60)})
        holds = await read_live_holds(client, [7, 8, 9], now)
    finally:
        await client.aclose()
    assert {f: [(h.hold_id, h.bed_id) for h in hs] for f, hs in holds.items()} == {
        7: [("live", 1)],
        8: [("other", 3)],
    }


async def test_read_live_holds_survives_a_redis_that_forgot_the_script(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    now = time.time()
    hold = StoredHold(
        bed_id=4,
        check_in="2030-01-01",
        check_out="2030-01-03",
        expires_at=now + 60,
        created_at=now,
        principal_id=1,
        care_recipient_id=1,
        token_hash="x",
    )
    try:
        await client.hset(facility_key(70), mapping={"h": msgspec.json.encode(hold)})
        first = await read_live_holds(client, [70, 71], now)
        await client.script_flush()  # as a restarted Redis would have
        again = await read_live_holds(client, [70, 71], now)
    finally:
        await client.aclose()
    assert first == again == {70: [msgspec.structs.replace(hold_as_live(hold), hold_id="h")]}


def hold_as_live(hold: StoredHold) -> LiveHold:
    return LiveHold(
        bed_id=hold.bed_id,
        check_in=date.fromisoformat(hold.check_in),
        check_out=date.fromisoformat(hold.check_out),
        expires_at=hold.expires_at,
    )
