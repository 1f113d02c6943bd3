"""PostgreSQL: the connection pool's life cycle and the migrations runner.

Migrations are the numbered files in ``sql/``: forward only, applied in order, each in its own
transaction, all under one advisory lock so two instances starting at once cannot race. The
checksum of every applied file is recorded; an applied file that was edited since stops
start-up, because the database would no longer match what the code believes it is.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

import asyncpg
import msgspec

from respite.i18n import Text, render
from respite.settings import Settings

if TYPE_CHECKING:
    from asyncpg.pool import PoolConnectionProxy

__all__ = [
    "MIGRATIONS_DIR",
    "Conn",
    "Migration",
    "MigrationError",
    "Pool",
    "applied_migrations",
    "connect",
    "create_pool",
    "load_migrations",
    "migrate",
    "pool_lifespan",
]

log = logging.getLogger("respite.db")
MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "sql"
# Any constant shared by every instance of respite; the value is arbitrary.
MIGRATION_LOCK_KEY = 0x7265_7370_6974_65

# asyncpg's classes are generic only in its type stubs: spell the aliases as strings.
Pool: TypeAlias = "asyncpg.Pool[asyncpg.Record]"
Conn: TypeAlias = "asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]"


class MigrationError(Exception):
    pass


class Migration(msgspec.Struct, frozen=True):
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def load_migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    migrations: list[Migration] = []
    for path in sorted(directory.glob("*.sql")):
        number, _, name = path.stem.partition("_")
        if not number.isdigit():
            raise MigrationError(f"{path.name}: migration files are named NNNN_description.sql")
        migrations.append(Migration(int(number), name, path.read_text(encoding="utf-8")))
    versions = [m.version for m in migrations]
    if len(set(versions)) != len(versions):
        raise MigrationError("two migration files share a number")
    return migrations


CREATE_MIGRATIONS_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""
SELECT_APPLIED = "SELECT version, name, checksum FROM schema_migrations ORDER BY version"
INSERT_APPLIED = "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)"


async def applied_migrations(conn: Conn) -> dict[int, tuple[str, str]]:
    rows = await conn.fetch(SELECT_APPLIED)
    return {r["version"]: (r["name"], r["checksum"]) for r in rows}


async def migrate(conn: Conn, directory: Path = MIGRATIONS_DIR) -> list[int]:
    """Apply every pending migration; return the versions applied now."""
    migrations = load_migrations(directory)
    await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_KEY)
    try:
        await conn.execute(CREATE_MIGRATIONS_TABLE)
        applied = await applied_migrations(conn)
        _check_unchanged(migrations, applied)
        done: list[int] = []
        for migration in migrations:
            if migration.version in applied:
                continue
            try:
                async with conn.transaction():
                    await conn.execute(migration.sql)
                    await conn.execute(
                        INSERT_APPLIED, migration.version, migration.name, migration.checksum
                    )
            except asyncpg.PostgresError as exc:
                # A migration may stop on purpose with a report (data it must not guess about):
                # the operator reads it as it is, not as a traceback.
                raise MigrationError(
                    f"migration {migration.version:04d}_{migration.name} was not applied: {exc}"
                ) from exc
            log.info("applied migration %04d_%s", migration.version, migration.name)
            done.append(migration.version)
        return done
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK_KEY)


def _check_unchanged(migrations: list[Migration], applied: dict[int, tuple[str, str]]) -> None:
    known = {m.version: m for m in migrations}
    for version, (name, checksum) in sorted(applied.items()):
        migration = known.get(version)
        if migration is None:
            raise MigrationError(
                f"migration {version:04d}_{name} is applied but its file is missing"
            )
        if migration.checksum != checksum:
            raise MigrationError(
                f"migration {version:04d}_{name}.sql was edited after it was applied; "
                "migrations are forward only: restore the file and add a new one"
            )


def _stored(value: Any) -> Any:
    """Words inside a stored document (a booking's decision) are kept in English, as in the
    logs: the record is for programs and auditors, who read its codes and figures."""
    if isinstance(value, Text):
        return render(value, "en")
    raise TypeError(f"cannot store {type(value).__name__} as JSON")


async def _init_connection(conn: Conn) -> None:
    await conn.set_type_codec(
        "jsonb",
        encoder=lambda value: msgspec.json.encode(value, enc_hook=_stored).decode(),
        decoder=msgspec.json.decode,
        schema="pg_catalog",
    )


async def connect(dsn: str) -> asyncpg.Connection[asyncpg.Record]:
    """One connection with the same codecs as the pool's (jsonb as msgspec), for commands."""
    conn: asyncpg.Connection[asyncpg.Record] = await asyncpg.connect(dsn)
    await _init_connection(conn)
    return conn


if TYPE_CHECKING:
    _PoolBase = asyncpg.Pool[asyncpg.Record]
    _ConnectionBase = asyncpg.Connection[asyncpg.Record]
else:
    _PoolBase = asyncpg.Pool
    _ConnectionBase = asyncpg.Connection


class PooledConnection(_ConnectionBase):
    """A pooled connection released without asyncpg's reset query.

    The default reset (advisory unlock, CLOSE ALL, UNLISTEN, RESET ALL) costs a round trip on
    every request. Pooled connections never take session state: locks are transaction-scoped,
    nothing LISTENs or SETs outside a transaction, and asyncpg still rolls back any transaction
    left open before a connection goes back to the pool.
    """

    def get_reset_query(self) -> str:
        return ""


class TimedPool(_PoolBase):
    """A pool whose ``acquire()`` waits a bounded time by default.

    Without it an exhausted or unreachable database queues every request until the client
    gives up; with it the request fails fast (TimeoutError, answered 503) and the pool keeps
    serving the others. asyncpg's own query helpers go through ``acquire()`` too.
    """

    def __init__(self, dsn: str, *, acquire_timeout: float, **kwargs: Any) -> None:
        self._acquire_timeout = acquire_timeout
        super().__init__(dsn, **kwargs)

    def acquire(self, *, timeout: float | None = None) -> Any:
        return super().acquire(timeout=self._acquire_timeout if timeout is None else timeout)


async def create_pool(settings: Settings, dsn: str) -> Pool:
    pool = TimedPool(
        dsn,
        acquire_timeout=settings.db_acquire_timeout,
        min_size=settings.db_pool_min,
        max_size=settings.db_pool_max,
        max_queries=50_000,
        max_inactive_connection_lifetime=300.0,
        loop=None,
        connection_class=PooledConnection,
        record_class=asyncpg.Record,
        timeout=settings.db_connect_timeout,
        command_timeout=settings.db_statement_timeout_ms / 1000 + 1,
        init=_init_connection,
        server_settings={
            "application_name": "respite",
            "statement_timeout": str(settings.db_statement_timeout_ms),
            "lock_timeout": str(min(settings.db_statement_timeout_ms, 3000)),
            "idle_in_transaction_session_timeout": "60000",
        },
    )
    await pool
    return pool


@asynccontextmanager
async def pool_lifespan(settings: Settings, dsn: str) -> AsyncIterator[Pool]:
    pool = await create_pool(settings, dsn)
    try:
        yield pool
    finally:
        await pool.close()
