"""Fixed-window attempt counters in Redis, for sign-in and registration."""

from __future__ import annotations

import logging

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from respite.cache import RedisClient
from respite.errors import RateLimitedError

__all__ = ["enforce"]

log = logging.getLogger("respite.ratelimit")


async def enforce(client: RedisClient, limits: list[tuple[str, int]], window: int) -> None:
    """Count one attempt against each ``(key, limit)``; raise once any is over its limit.

    All counters move in one pipeline round trip. If Redis is down the attempt is let through:
    passwords are still checked and hashed with a memory-hard KDF, and locking every family
    out of signing in because a cache is down would be the worse failure.
    """
    try:
        async with client.pipeline(transaction=False) as pipe:
            for key, _ in limits:
                pipe.incr(key)
                pipe.expire(key, window, nx=True)
                pipe.ttl(key)
            replies = await pipe.execute()
    except (RedisConnectionError, RedisTimeoutError) as exc:
        log.warning("rate limit not enforced, redis unavailable: %s", type(exc).__name__)
        return
    for index, (_, limit) in enumerate(limits):
        count, ttl = replies[index * 3], replies[index * 3 + 2]
        if count > limit:
            raise RateLimitedError("too many attempts; wait before trying again", max(int(ttl), 1))
