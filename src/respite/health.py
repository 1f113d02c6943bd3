"""Liveness, readiness, ``/metrics`` and who may read them.

``/metrics`` answers only a bearer token: the scraper's ``RESPITE_METRICS_TOKEN``, or an
admin's API token; without one 401, with another principal's token 403. It answers the
process's own metrics (requests, pool, build) and the business figures read from PostgreSQL
at that moment (``respite.figures``), which are the same whichever process is scraped.
"""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Awaitable, Iterator
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from litestar import Controller, Request, Response, get
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.handlers.base import BaseRouteHandler
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Info,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from respite import __version__
from respite.auth.guards import Guard, bearer_token
from respite.auth.service import authenticate
from respite.db import Pool
from respite.deps import Deps
from respite.errors import AuthenticationError, PermissionDeniedError
from respite.figures import FiguresCollector, read_figures
from respite.i18n import t
from respite.problems import PROBLEM_MEDIA_TYPE

if TYPE_CHECKING:
    from respite.deps import Runtime

__all__ = ["HealthController", "MetricsController", "PoolCollector", "metrics_guard"]

CHECK_TIMEOUT = 1.0
Info("respite_build", "The version of respite this process runs").info({"version": __version__})


class HealthController(Controller):
    path = "/health"
    tags = ["operations"]
    include_in_schema = True

    @get("/live", summary="Is the process up")
    async def live(self) -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}

    @get("/ready", summary="Is the service ready")
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


class MetricsController(Controller):
    """Not Litestar's PrometheusController: the figures come from the database, so they are
    read (awaited) before the registry is rendered, into a registry of the scrape's own."""

    path = "/metrics"
    include_in_schema = False

    @get()
    async def metrics(self, deps: NamedDependency[Deps]) -> Response[bytes]:
        grace = timedelta(seconds=deps.settings.request_timeout)
        figures = await read_figures(deps.pool, deps.clock.now(), grace)
        scrape = CollectorRegistry(auto_describe=False)
        scrape.register(FiguresCollector(figures))
        body = generate_latest(REGISTRY) + generate_latest(scrape)
        return Response(body, media_type=CONTENT_TYPE_LATEST)


def metrics_guard(runtime: Runtime) -> Guard:
    """Lets through the metrics token or an admin's token (``/metrics`` is outside the bearer
    authentication of the API, which would refuse the metrics token as unknown)."""

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        token = bearer_token(connection)
        if token is None:
            raise AuthenticationError(t("auth.metrics_token_needed"))
        deps = runtime.deps
        expected = deps.settings.metrics_token
        if expected is not None and hmac.compare_digest(token.encode(), expected.encode()):
            return
        principal = await authenticate(deps, token)
        if principal is None:
            raise AuthenticationError(t("auth.token_invalid"))
        if principal.role != "admin":
            raise PermissionDeniedError(
                t(
                    "auth.role_may_not",
                    role=t(f"auth.role.{principal.role}"),
                    allowed=[t("auth.role.admin")],
                ),
                allowed_roles=["admin"],
            )

    return guard
