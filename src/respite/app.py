"""``create_app(settings)``: the one place everything is wired."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar, Router
from litestar.config.compression import CompressionConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.exceptions import HTTPException
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme

from respite import __version__
from respite.api_docs import assets_router, swagger_ui
from respite.auth.api import AuthController
from respite.auth.guards import BearerAuthMiddleware, provide_principal
from respite.auth.staff_api import InvitationAcceptController, TeamController
from respite.availability.api import AvailabilityController
from respite.booking.api import booking_router
from respite.cache import redis_lifespan, tracked_holds
from respite.clock import Clock, SystemClock
from respite.codes.api import CodeController
from respite.db import pool_lifespan
from respite.deps import Deps, Runtime
from respite.desk.api import desk_router
from respite.eligibility.api import eligibility_router
from respite.health import HealthController, MetricsController, PoolCollector, metrics_guard
from respite.holds.api import HoldController
from respite.holds.store import HoldStore
from respite.i18n import LanguageMiddleware, Text, render
from respite.i18n.openapi import TextSchemaPlugin
from respite.inventory.api import inventory_router
from respite.notifications.api import NotificationController
from respite.notifications.listener import NotificationListener
from respite.notifications.worker import notification_lifespan
from respite.observability import EdgeMiddleware, configure_logging, edge_of_answer
from respite.pages import pages_router, static_router
from respite.pages.error_pages import on_http_exception_anywhere
from respite.pages.templating import template_config
from respite.problem_docs import ProblemDocsPlugin, ProblemTypesController
from respite.problems import exception_handlers
from respite.query_params import UnknownQueryParameters
from respite.recipients.api import recipients_router
from respite.reference import BEARER, DescribedStructs, operation_id
from respite.referral.api import referral_router
from respite.referral.delivery import delivery_lifespan
from respite.referral.listener import ReferralListener
from respite.referral.webhook_docs import callbacks
from respite.retention import retention_lifespan
from respite.settings import Settings
from respite.waitlist.api import waitlist_router
from respite.waitlist.listener import WaitlistListener
from respite.waitlist.worker import waitlist_lifespan

__all__ = ["create_app"]

PUBLIC_PATHS = ["^/health", "^/metrics", "^/schema", "^/problems", "^/static"]


def create_app(
    settings: Settings, *, clock: Clock | None = None, configure_logs: bool = True
) -> Litestar:
    """Build the app; ``settings`` must name the database and Redis to use. ``clock`` is the
    one clock of every use case (the machine's by default; tests pass a ``ManualClock``)."""
    if settings.database_url is None or settings.redis_url is None:
        raise ValueError("create_app needs settings with database_url and redis_url set")
    database_url, redis_url = settings.database_url, settings.redis_url
    if configure_logs:
        configure_logging(settings.log_level, settings.log_format)
    clock = clock or SystemClock()
    runtime = Runtime()

    def provide_deps() -> Deps:
        return runtime.deps

    @asynccontextmanager
    async def backends(app: Litestar) -> AsyncIterator[None]:
        async with (
            pool_lifespan(settings, database_url) as pool,
            redis_lifespan(settings, redis_url) as redis,
            delivery_lifespan(settings, database_url, clock),
            notification_lifespan(settings, database_url, clock),
            retention_lifespan(settings, pool, clock),
            tracked_holds(settings, redis_url) as tracked,
        ):
            holds = HoldStore(redis, tracked)
            deps = Deps(
                pool=pool,
                redis=redis,
                holds=holds,
                clock=clock,
                settings=settings,
                listeners=(
                    ReferralListener(clock),
                    WaitlistListener(clock, holds),
                    NotificationListener(clock),
                ),
            )
            runtime.start(deps)
            collector = PoolCollector.shared()
            collector.pools["main"] = pool
            try:
                async with waitlist_lifespan(deps, database_url):
                    yield
            finally:
                collector.pools.pop("main", None)
                runtime.stop()

    return Litestar(
        route_handlers=[
            HealthController,
            # Outside the API's bearer authentication: the guard knows the metrics token.
            Router("/", route_handlers=[MetricsController], guards=[metrics_guard(runtime)]),
            ProblemTypesController,
            assets_router(),
            AuthController,
            CodeController,
            InvitationAcceptController,
            AvailabilityController,
            # Each of these needs a bearer token (BearerAuthMiddleware): the reference says so.
            Router(
                "/",
                security=BEARER,
                route_handlers=[
                    eligibility_router,
                    recipients_router,
                    booking_router,
                    HoldController,
                    inventory_router,
                    referral_router,
                    waitlist_router,
                    desk_router,
                    TeamController,
                    NotificationController,
                ],
            ),
            static_router(),
            pages_router(settings),
        ],
        lifespan=[backends],
        dependencies={
            "deps": Provide(provide_deps, sync_to_thread=False),
            "principal": Provide(provide_principal, sync_to_thread=False),
        },
        middleware=[
            DefineMiddleware(LanguageMiddleware, default=settings.default_language),
            DefineMiddleware(EdgeMiddleware, timeout=settings.request_timeout),
            DefineMiddleware(BearerAuthMiddleware, exclude=PUBLIC_PATHS, runtime=runtime),
        ],
        # An unknown path: a page for a browser, a problem for the API's clients.
        exception_handlers={
            **exception_handlers(),
            HTTPException: on_http_exception_anywhere,
        },
        template_config=template_config(),
        request_max_body_size=settings.max_body_bytes,
        plugins=[DescribedStructs(), ProblemDocsPlugin(), TextSchemaPlugin()],
        type_encoders={Text: render},
        state=State({"default_language": settings.default_language}),
        before_request=UnknownQueryParameters(),
        before_send=[edge_of_answer],
        # Level 5, not Litestar's 9: on the 1.6 MB board, 9 took several times as long for a
        # few percent less.
        compression_config=CompressionConfig(
            backend="gzip", minimum_size=4096, gzip_compress_level=5
        ),
        openapi_config=OpenAPIConfig(
            title="respite",
            version=__version__,
            description=(
                "Booking service for respite beds and home-care beds. Every latitude and"
                f" longitude, given or answered, is {settings.coordinate_system}"
                " (RESPITE_COORDINATE_SYSTEM); nothing is converted."
            ),
            path="/schema",
            render_plugins=[swagger_ui()],
            components=Components(
                security_schemes={"bearer": SecurityScheme(type="http", scheme="bearer")}
            ),
            use_handler_docstrings=True,
            operation_id_creator=operation_id,
            webhooks=callbacks(),
        ),
        debug=False,
        # Logging is configured once by configure_logging: JSON lines with request ids.
        logging_config=None,
    )
