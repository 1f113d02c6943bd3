"""Holds in Redis: short claims on (bed, stay), kept atomic by one Lua script per operation.

Layout (every key of a facility carries the hash tag ``{f:<id>}``, so each script touches one
cluster slot and runs unchanged on Redis Cluster):

- ``{f:<id>}:holds`` — hash, field = hold id, value = JSON of the hold (bed_id, check_in,
  check_out, expires_at, ...). One HGETALL per facility shows every hold of it.

A hold is live while ``expires_at`` is in the future: expiry is checked on every read and every
script, never left to keyspace notifications. Redis may lose a hold at any moment; the worst
outcome is a failed confirm, never an overbooking (confirm re-checks in PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import msgspec
import redis.asyncio as redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

__all__ = ["HoldsUnavailable", "LiveHold", "facility_key", "read_live_holds"]


class HoldsUnavailable(Exception):
    """Redis did not answer: which beds are held is unknown right now."""


class LiveHold(msgspec.Struct, frozen=True, kw_only=True):
    hold_id: str = ""
    bed_id: int
    check_in: date
    check_out: date
    expires_at: float


_decode_hold = msgspec.json.Decoder(LiveHold).decode


def facility_key(facility_id: int) -> str:
    return f"{{f:{facility_id}}}:holds"


async def read_live_holds(
    client: redis.Redis, facility_ids: Sequence[int], now: float
) -> dict[int, list[LiveHold]]:
    """Every live hold of the given facilities, in one round trip."""
    if not facility_ids:
        return {}
    try:
        async with client.pipeline(transaction=False) as pipe:
            for facility_id in facility_ids:
                pipe.hgetall(facility_key(facility_id))
            replies = await pipe.execute()
    except (RedisConnectionError, RedisTimeoutError) as exc:
        raise HoldsUnavailable(str(exc)) from exc
    live: dict[int, list[LiveHold]] = {}
    for facility_id, reply in zip(facility_ids, replies, strict=True):
        holds = []
        for hold_id, raw in reply.items():
            hold = _decode_hold(raw)
            if hold.expires_at > now:
                holds.append(msgspec.structs.replace(hold, hold_id=hold_id.decode()))
        if holds:
            live[facility_id] = holds
    return live
