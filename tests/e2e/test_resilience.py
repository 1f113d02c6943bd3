"""The service answers 503 quickly, never hangs or 500s, when a backing service cannot serve."""

import asyncio

import msgspec
from litestar import get
from litestar.di import NamedDependency

from respite.app import create_app
from respite.deps import Deps
from respite.settings import Settings
from tests.conftest import MakeToken, serve_in_loop


async def test_an_exhausted_pool_answers_503_instead_of_hanging(
    settings: Settings, make_token: MakeToken
) -> None:
    _, headers = await make_token("admin")
    tight = msgspec.structs.replace(settings, db_pool_min=1, db_pool_max=1, db_acquire_timeout=0.2)
    app = create_app(tight, configure_logs=False)

    @get("/occupy", exclude_from_auth=True)
    async def occupy(deps: NamedDependency[Deps]) -> None:
        async with deps.pool.acquire():  # the only connection, busy elsewhere
            await asyncio.sleep(1.0)

    app.register(occupy)
    async with serve_in_loop(app) as client:
        assert (await client.get("/v1/auth/me", headers=headers)).status_code == 200
        occupier = asyncio.ensure_future(client.get("/occupy"))
        await asyncio.sleep(0.3)
        response = await client.get("/v1/auth/me", headers=headers)
        assert response.status_code == 503, response.text
        assert response.json()["service"] == "database"
        assert response.headers["retry-after"]
        await occupier
        assert (await client.get("/v1/auth/me", headers=headers)).status_code == 200


async def test_a_request_past_the_time_limit_answers_503(settings: Settings) -> None:
    app = create_app(msgspec.structs.replace(settings, request_timeout=0.2), configure_logs=False)

    @get("/slow", exclude_from_auth=True)
    async def slow() -> None:
        await asyncio.sleep(2)

    app.register(slow)
    async with serve_in_loop(app) as client:
        response = await client.get("/slow")
        assert response.status_code == 503
        assert response.json()["type"] == "/problems/timeout"
        assert (await client.get("/health/live")).status_code == 200
