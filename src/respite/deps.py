"""What every use case takes first: the app's dependencies, built once in ``create_app``.

A use case is ``async def verb(deps: Deps, principal: Principal, command) -> Struct``. HTTP
handlers and pages receive ``deps`` and ``principal`` through Litestar's dependency
injection (both declared in ``create_app``); workers and the CLI build a ``Deps`` themselves.
Nothing reads ``app.state``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from respite.cache import RedisClient
from respite.clock import Clock
from respite.db import Pool
from respite.holds.store import HoldStore
from respite.settings import Settings

if TYPE_CHECKING:
    from respite.booking.events import StayListener

__all__ = ["Deps", "Runtime"]


class Deps:
    """Frozen by convention. A plain class rather than a Struct: Litestar's signature model
    passes an instance of a type msgspec does not know through unchanged, without looking
    into its fields (a pool and a Redis client are not data)."""

    __slots__ = ("clock", "holds", "listeners", "pool", "redis", "settings")

    def __init__(
        self,
        *,
        pool: Pool,
        redis: RedisClient,
        holds: HoldStore,
        clock: Clock,
        settings: Settings,
        listeners: tuple[StayListener, ...] = (),
    ) -> None:
        self.pool = pool
        self.redis = redis
        self.holds = holds
        self.clock = clock
        self.settings = settings
        self.listeners = listeners
        """Told of every hold and booking change in its transaction (``booking.events``)."""


class Runtime:
    """Where the lifespan puts the ``Deps`` it builds once the backends are up."""

    def __init__(self) -> None:
        self._deps: Deps | None = None

    @property
    def deps(self) -> Deps:
        if self._deps is None:
            raise RuntimeError("the app's lifespan has not started")
        return self._deps

    def start(self, deps: Deps) -> None:
        self._deps = deps

    def stop(self) -> None:
        self._deps = None
