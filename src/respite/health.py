"""Liveness, readiness and the pool figures for metrics."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterator
from typing import Any

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from prometheus_client import REGISTRY
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from respite.db import Pool
from respite.deps import Deps
from respite.problems import PROBLEM_MEDIA_TYPE

__all__ = ["HealthController", "PoolCollector"]

CHECK_TIMEOUT = 1.0


class HealthController(Controller):
    path = "/health"
    tags = ["operations"]
    include_in_schema = True

    @get("/live")
    async def live(self) -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}

    @get("/ready")
    async def ready(
        self, request: Request[Any, Any, Any], deps: NamedDependency[Deps]
    ) -> Response[dict[str, object]]:
        """PostgreSQL and Redis both answer; 503 naming the one that does not."""
        checks = {"database": await _check(deps.pool.fetchval("SELECT 1"))}
        checks["redis"] = await _check(deps.redis.ping())
        failed = sorted(name for name, ok in checks.items() if not ok)
        if not failed:
            return Response({"status": "ok", "checks": checks})
        body: dict[str, object] = {
            "type": "/problems/not-ready",
            "title": "Not ready",
            "status": 503,
            "detail": f"not answering: {', '.join(failed)}",
            "instance": request.url.path,
            "checks": checks,
            "failed": failed,
        }
        return Response(
            body, status_code=503, media_type=PROBLEM_MEDIA_TYPE, headers={"Retry-After": "2"}
        )


async def _check(awaitable: Awaitable[object]) -> bool:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT):
            await awaitable
    except Exception:
        return False
    return True


class PoolCollector(Collector):
    """Connection pool usage, read at scrape time from the pools registered here."""

    _instance: PoolCollector | None = None

    def __init__(self) -> None:
        self.pools: dict[str, Pool] = {}

    @classmethod
    def shared(cls) -> PoolCollector:
        # prometheus_client's registry is per process: register one collector, once.
        if cls._instance is None:
            cls._instance = cls()
            REGISTRY.register(cls._instance)
        return cls._instance

    def collect(self) -> Iterator[Metric]:
        size = GaugeMetricFamily("respite_db_pool_size", "Open connections", labels=["pool"])
        idle = GaugeMetricFamily("respite_db_pool_idle", "Idle connections", labels=["pool"])
        limit = GaugeMetricFamily("respite_db_pool_max", "Maximum connections", labels=["pool"])
        for name, pool in self.pools.items():
            size.add_metric([name], pool.get_size())
            idle.add_metric([name], pool.get_idle_size())
            limit.add_metric([name], pool.get_max_size())
        yield from (size, idle, limit)
