"""Fixed-window attempt counters in Redis, for sign-in and registration.

If Redis is down an attempt is let through: passwords are still checked and hashed with a
memory-hard KDF, and locking every family out of signing in because a cache is down would be
the worse failure.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import msgspec
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from respite.cache import RedisClient
from respite.errors import RateLimitedError
from respite.i18n import t

__all__ = ["Count", "count", "enforce", "give_back"]

log = logging.getLogger("respite.ratelimit")

_REDIS_DOWN = (RedisConnectionError, RedisTimeoutError)


class Count(msgspec.Struct, frozen=True):
    """A counter just after this attempt was counted, and the seconds left in its window."""

    value: int
    ttl: int

    def refusal(self, limit: int) -> RateLimitedError | None:
        if self.value <= limit:
            return None
        seconds = max(self.ttl, 1)
        return RateLimitedError(t("common.too_many_attempts", seconds=seconds), seconds)


async def count(client: RedisClient, keys: Sequence[str], window: int) -> list[Count] | None:
    """Count one attempt on each key, in one pipeline round trip; None when Redis is down."""
    try:
        async with client.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.incr(key)
                pipe.expire(key, window, nx=True)
                pipe.ttl(key)
            replies = await pipe.execute()
    except _REDIS_DOWN as exc:
        log.warning("rate limit not enforced, redis unavailable: %s", type(exc).__name__)
        return None
    return [Count(int(replies[i * 3]), int(replies[i * 3 + 2])) for i in range(len(keys))]


async def give_back(
    client: RedisClient, keys: Sequence[str], window: int, *, forget: Sequence[str] = ()
) -> None:
    """Uncount one attempt on each of ``keys`` and drop the counters ``forget``.

    A counter whose window ended meanwhile comes back at -1 for one window, never for longer:
    one spare attempt, not a key without an expiry."""
    try:
        async with client.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.decr(key)
                pipe.expire(key, window, nx=True)
            for key in forget:
                pipe.delete(key)
            await pipe.execute()
    except _REDIS_DOWN as exc:
        log.warning("rate limit not given back, redis unavailable: %s", type(exc).__name__)


async def enforce(client: RedisClient, limits: list[tuple[str, int]], window: int) -> None:
    """Count one attempt against each ``(key, limit)``; raise once any is over its limit."""
    counts = await count(client, [key for key, _ in limits], window)
    for current, (_, limit) in zip(counts or [], limits, strict=False):
        if (refused := current.refusal(limit)) is not None:
            raise refused
