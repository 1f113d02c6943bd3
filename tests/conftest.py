"""Fixtures: private PostgreSQL and Redis for the whole session, clean state for each test.

The servers start once per session (per xdist worker) under a temporary folder, in memory
where the machine has a RAM disk (``tests.folders``). Migrations run once into a template
database; each test gets its own database cloned from it (fast, and isolated), a flushed Redis
(the private server holds nothing but this session's data), the clock set back to the suite's
start, and its own start of the app's lifespan (a new pool, new workers).

What is not per test is the ``Litestar`` object: building one takes ~0.1 s of CPU (Litestar
inspects every handler), more than all the rest of a test's set-up, and it holds no state of
a test (the lifespan does). Each test's database is cloned under the same name
(``FRESH_DB``) so that the settings, and with them the app, are the same for every test of a
worker; a module that overrides ``settings`` gets an app of its own for them. A test that
changes its app (adds a route) takes ``fresh_app``; ``app`` fails a test that changed the
shared one.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import msgspec
import pytest
import redis.asyncio as redis
from litestar import Litestar

from respite.app import create_app
from respite.auth.model import Principal, Role
from respite.auth.service import create_principal, issue_token
from respite.availability.policies import cache_for
from respite.clock import ManualClock
from respite.db import connect, migrate
from respite.dev.servers import LocalPostgres, LocalRedis, local_servers
from respite.eligibility.store import ensure_presets
from respite.settings import Settings
from tests.builders import SUITE_START
from tests.folders import scratch_folder

TEMPLATE_DB = "respite_template"
# The database of the test running (one at a time on each worker's private server).
FRESH_DB = "respite_fresh"
# Apps kept per worker, one for each distinct settings; more than this starts over.
MAX_APPS = 8


class Servers(msgspec.Struct):
    postgres: LocalPostgres
    redis: LocalRedis

    def database_url(self, name: str) -> str:
        return self.postgres.url.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(scope="session")
def servers() -> Iterator[Servers]:
    with (
        scratch_folder("respite-test-") as folder,
        local_servers(folder, durable=False) as (postgres, redis_),
    ):
        yield Servers(postgres, redis_)


@pytest.fixture(scope="session")
async def template_db(servers: Servers) -> str:
    admin = await asyncpg.connect(servers.postgres.url)
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {TEMPLATE_DB}")
        await admin.execute(f"CREATE DATABASE {TEMPLATE_DB}")
    finally:
        await admin.close()
    conn = await connect(servers.database_url(TEMPLATE_DB))
    try:
        await migrate(conn)
        await ensure_presets(conn)
    finally:
        await conn.close()
    return TEMPLATE_DB


@asynccontextmanager
async def cloned_database(
    servers: Servers, template_db: str, name: str | None = None
) -> AsyncIterator[str]:
    name = name or f"t_{secrets.token_hex(6)}"
    admin = await asyncpg.connect(servers.postgres.url)
    try:
        # A fixed name may be left by a test that was interrupted before its teardown.
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        # FILE_COPY, not PostgreSQL 15's default WAL_LOG: on this small template, with fsync
        # off and on a RAM disk, it clones in ~15 ms instead of ~25 ms.
        await admin.execute(f"CREATE DATABASE {name} TEMPLATE {template_db} STRATEGY FILE_COPY")
        yield servers.database_url(name)
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        await admin.close()


@pytest.fixture
async def database_url(servers: Servers, template_db: str) -> AsyncIterator[str]:
    async with cloned_database(servers, template_db, FRESH_DB) as url:
        # A new database under the previous test's name: the process's copy of the policies
        # of the database at this URL (kept per URL for a few seconds) belongs to the old one.
        cache_for.cache_clear()
        yield url


async def flushed_redis(servers: Servers, db: int) -> str:
    url = f"{servers.redis.url.rsplit('/', 1)[0]}/{db}"
    client = redis.Redis.from_url(url)
    try:
        await client.flushdb()
    finally:
        await client.aclose()
    return url


@pytest.fixture
async def redis_url(servers: Servers) -> str:
    return await flushed_redis(servers, 0)


def settings_for(database_url: str, redis_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        redis_url=redis_url,
        log_format="text",
        db_pool_min=1,
        db_pool_max=20,
        # Races send hundreds of requests at once through 20 connections: on a loaded
        # two-core machine a wait of the default 3 s would answer some of them 503.
        db_acquire_timeout=15.0,
        secret_key="test-secret",
    )


@pytest.fixture
def settings(database_url: str, redis_url: str) -> Settings:
    return settings_for(database_url, redis_url)


@pytest.fixture(scope="session")
def worker_clock() -> ManualClock:
    return ManualClock(SUITE_START)


@pytest.fixture
def clock(worker_clock: ManualClock) -> ManualClock:
    """The app's one clock, standing at the suite's start until a test sets or advances it
    (one object for the worker's apps, set back at the start of every test)."""
    worker_clock.set(SUITE_START)
    return worker_clock


@pytest.fixture(scope="session")
def built_apps() -> dict[Settings, Litestar]:
    return {}


@pytest.fixture
def app(
    settings: Settings, clock: ManualClock, built_apps: dict[Settings, Litestar]
) -> Iterator[Litestar]:
    """The app under test, built once per worker for these settings; its state is fresh
    (database, Redis, clock, lifespan) for every test."""
    if settings not in built_apps:
        if len(built_apps) >= MAX_APPS:
            built_apps.clear()
        built_apps[settings] = create_app(settings, clock=clock, configure_logs=False)
    app = built_apps[settings]
    routes = [id(route) for route in app.routes]
    yield app
    if [id(route) for route in app.routes] != routes:
        del built_apps[settings]
        pytest.fail("the test changed the app other tests use: it takes fresh_app instead")


@pytest.fixture
def fresh_app(settings: Settings, clock: ManualClock) -> Litestar:
    """An app of the test's own, for a test that changes it."""
    return create_app(settings, clock=clock, configure_logs=False)


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """HTTP through the real app in this event loop, so concurrent requests really race.

    (Litestar's AsyncTestClient sends each request through a blocking portal: requests
    gathered with asyncio would run one after another.)
    """
    async with serve_in_loop(app) as http:
        yield http


@asynccontextmanager
async def serve_in_loop(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    # The lifespan runs in a task of its own: it opens an anyio task group, which must be
    # left by the task that entered it, and pytest-asyncio tears fixtures down in another.
    started, stop = asyncio.Event(), asyncio.Event()

    async def lifespan() -> None:
        async with app.lifespan():
            started.set()
            await stop.wait()

    task = asyncio.create_task(lifespan())
    waiter = asyncio.create_task(started.wait())
    await asyncio.wait([task, waiter], return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        waiter.cancel()
        task.result()  # start-up failed: raise its error here
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)  # type: ignore[arg-type]
    try:
        # Tests read English unless they ask for Chinese (the deployment default is zh-CN).
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver", headers={"Accept-Language": "en"}
        ) as http:
            yield http
    finally:
        stop.set()
        await task


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Any]:
    conn = await connect(database_url)
    try:
        yield conn
    finally:
        await conn.close()


MakeToken = Callable[..., Awaitable[tuple[Principal, dict[str, str]]]]


def token_maker(db: Any) -> MakeToken:
    """Mint a principal of a role and return it with ready-made Authorization headers."""

    async def make(
        role: Role, *, facility_id: int | None = None, hospital_id: int | None = None
    ) -> tuple[Principal, dict[str, str]]:
        if role == "family":
            principal_id = await db.fetchval(
                "INSERT INTO principals (role, name, email, password_hash) "
                "VALUES ('family', 'Family', $1, 'x') RETURNING id",
                f"{secrets.token_hex(6)}@example.test",
            )
            principal = Principal(id=principal_id, role="family", name="Family")
        else:
            principal = await create_principal(
                db, role, role, facility_id=facility_id, hospital_id=hospital_id
            )
        issued = await issue_token(db, principal, None)
        return principal, {"Authorization": f"Bearer {issued.token}"}

    return make


@pytest.fixture
def make_token(db: Any) -> MakeToken:
    return token_maker(db)


# -- shared state, for tests that only read or refuse -----------------------------------------
# One database, app and client per module: a test that writes nothing (a refused request, a
# read) needs no fresh state of its own, and skips the clone and the app's start-up. Such a
# test compares counts before and after rather than expecting empty tables. Tests that write
# or race keep the fresh fixtures above. The shared app uses Redis database 1, so the flush
# of every fresh test (database 0) never reaches it.


@pytest.fixture(scope="module")
async def shared_database_url(servers: Servers, template_db: str) -> AsyncIterator[str]:
    async with cloned_database(servers, template_db) as url:
        yield url


@pytest.fixture(scope="module")
def shared_clock() -> ManualClock:
    return ManualClock(SUITE_START)


@pytest.fixture(scope="module")
async def shared_redis_url(servers: Servers) -> str:
    return await flushed_redis(servers, 1)


@pytest.fixture(scope="module")
def shared_app(
    shared_database_url: str, shared_redis_url: str, shared_clock: ManualClock
) -> Litestar:
    settings = settings_for(shared_database_url, shared_redis_url)
    return create_app(settings, clock=shared_clock, configure_logs=False)


@pytest.fixture(scope="module")
async def shared_client(shared_app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    async with serve_in_loop(shared_app) as http:
        yield http


@pytest.fixture(scope="module")
async def shared_db(shared_database_url: str) -> AsyncIterator[Any]:
    conn = await connect(shared_database_url)
    try:
        yield conn
    finally:
        await conn.close()


@pytest.fixture(scope="module")
def shared_make_token(shared_db: Any) -> MakeToken:
    return token_maker(shared_db)


@pytest.fixture
def sql_dir() -> Path:
    return Path(__file__).resolve().parents[1] / "sql"
