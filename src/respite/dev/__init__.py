"""For development and tests only: private PostgreSQL and Redis servers (``servers``), the
record that lets other commands use those of a running ``respite dev`` (``attach``), and the
demo city (``demo``). Nothing in the service itself imports this package."""

from respite.dev.attach import NoDatabaseError, RunningServers, has_database, recorded, running
from respite.dev.demo import seed
from respite.dev.servers import (
    LocalPostgres,
    LocalRedis,
    MissingBinaryError,
    ServerStartError,
    find_postgres_bindir,
    find_redis_server,
    local_servers,
)

__all__ = [
    "LocalPostgres",
    "LocalRedis",
    "MissingBinaryError",
    "NoDatabaseError",
    "RunningServers",
    "ServerStartError",
    "find_postgres_bindir",
    "find_redis_server",
    "has_database",
    "local_servers",
    "recorded",
    "running",
    "seed",
]
