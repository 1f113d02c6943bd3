"""For development and tests only: private PostgreSQL and Redis servers (``servers``) and the
demo city (``demo``). Nothing in the service itself imports this package."""

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
    "ServerStartError",
    "find_postgres_bindir",
    "find_redis_server",
    "local_servers",
    "seed",
]
