import logging
from pathlib import Path

import httpx
import msgspec
import pytest

from respite.app import create_app
from respite.dev.servers import LocalRedis
from respite.settings import Settings
from tests.conftest import MakeToken, serve_in_loop


async def test_live_and_ready(client: httpx.AsyncClient) -> None:
    live = await client.get("/health/live")
    assert live.status_code == 200
    ready = await client.get("/health/ready")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": True, "redis": True}
    assert live.headers["x-request-id"]
    assert live.headers["x-content-type-options"] == "nosniff"


async def test_ready_is_503_naming_redis_when_redis_is_down(
    settings: Settings, tmp_path: Path
) -> None:
    own_redis = LocalRedis(tmp_path / "redis")
    own_redis.start()
    try:
        app = create_app(
            msgspec.structs.replace(settings, redis_url=own_redis.url), configure_logs=False
        )
        async with serve_in_loop(app) as client:
            assert (await client.get("/health/ready")).status_code == 200
            own_redis.stop()
            response = await client.get("/health/ready")
            assert response.status_code == 503
            assert response.headers["content-type"].startswith("application/problem+json")
            body = response.json()
            assert body["failed"] == ["redis"]
            assert body["checks"] == {"database": True, "redis": False}
            assert (await client.get("/health/live")).status_code == 200
    finally:
        own_redis.stop()


async def test_metrics_are_prometheus_text(
    client: httpx.AsyncClient, make_token: MakeToken
) -> None:
    _, admin = await make_token("admin")
    await client.get("/health/live")
    response = await client.get("/metrics", headers=admin)
    assert response.status_code == 200
    text = response.text
    assert "respite_requests_total" in text
    assert 'respite_db_pool_max{pool="main"} 20.0' in text


async def test_access_log_and_metrics_carry_the_status_sent(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture, make_token: MakeToken
) -> None:
    """Even for an answer made outside the route's own stack, as the 401 of authentication."""
    _, admin = await make_token("admin")
    with caplog.at_level(logging.INFO, logger="respite.access"):
        refused = await client.get("/v1/bookings", headers={"Authorization": "Bearer nope"})
    assert refused.status_code == 401
    [line] = [r for r in caplog.records if r.name == "respite.access"]
    assert (line.getMessage(), line.__dict__["status"]) == ("GET /v1/bookings 401", 401)
    assert line.__dict__["ms"] >= 0
    await client.get("/metrics", headers=admin)
    text = (await client.get("/metrics", headers=admin)).text
    counted = 'respite_requests_total{method="GET",path="/v1/bookings",status_code="401"}'
    assert counted in text
    assert 'respite_request_duration_seconds_count{method="GET",path="/v1/bookings"' in text
    assert 'path="/metrics"' not in text  # scrapes are not requests of the service


async def test_openapi_document_and_ui(client: httpx.AsyncClient) -> None:
    document = (await client.get("/schema/openapi.json")).json()
    assert document["openapi"].startswith("3.1")
    assert "/v1/auth/register" in document["paths"]
    assert (await client.get("/schema/swagger")).status_code == 200
