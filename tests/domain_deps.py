"""The app's dependencies, opened outside the app: for tests that call use cases directly."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from respite.cache import redis_lifespan
from respite.clock import Clock
from respite.db import pool_lifespan
from respite.deps import Deps
from respite.holds.store import HoldStore
from respite.settings import Settings


@asynccontextmanager
async def opened_deps(settings: Settings, clock: Clock) -> AsyncIterator[Deps]:
    """A pool and a Redis client on the test's servers, and ``clock`` as the one clock."""
    assert settings.database_url is not None and settings.redis_url is not None
    async with (
        pool_lifespan(settings, settings.database_url) as pool,
        redis_lifespan(settings, settings.redis_url) as redis,
    ):
        yield Deps(pool=pool, redis=redis, holds=HoldStore(redis), clock=clock, settings=settings)
