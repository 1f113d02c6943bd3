"""Redis: the client's life cycle.

One client per process with short socket timeouts, so a lost Redis turns into a quick 503
instead of a hung request, and a retry policy that reconnects by itself when Redis returns.
With ``RESPITE_REDIS_CLUSTER=true`` the client speaks Redis Cluster: every multi-key operation
of respite stays inside one hash tag, so nothing else changes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TypeAlias

import redis.asyncio as redis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff

from respite.holds.tracking import TrackedHolds
from respite.settings import Settings

__all__ = ["RedisClient", "create_redis", "redis_lifespan", "tracked_holds"]

RedisClient: TypeAlias = redis.Redis | RedisCluster


def create_redis(settings: Settings, url: str) -> RedisClient:
    if settings.redis_cluster:
        return RedisCluster.from_url(
            url,
            socket_timeout=settings.redis_timeout,
            socket_connect_timeout=settings.redis_timeout,
            retry=Retry(ExponentialBackoff(cap=0.2, base=0.02), retries=1),
        )
    return redis.Redis.from_url(
        url,
        socket_timeout=settings.redis_timeout,
        socket_connect_timeout=settings.redis_timeout,
        health_check_interval=30,
        retry=Retry(ExponentialBackoff(cap=0.2, base=0.02), retries=1),
        max_connections=64,
    )


@asynccontextmanager
async def redis_lifespan(settings: Settings, url: str) -> AsyncIterator[RedisClient]:
    client = create_redis(settings, url)
    try:
        yield client
    finally:
        await client.aclose()


@asynccontextmanager
async def tracked_holds(settings: Settings, url: str) -> AsyncIterator[TrackedHolds | None]:
    """The holds kept in process while Redis vouches for them (``holds.tracking``); None on
    a cluster, by TLS or by a socket file, where every read goes to Redis."""
    if settings.redis_cluster or not TrackedHolds.usable_for(url):
        yield None
        return
    tracked = TrackedHolds(url, settings.redis_timeout)
    await tracked.start()
    try:
        yield tracked
    finally:
        await tracked.stop()
