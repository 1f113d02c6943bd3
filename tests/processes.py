"""Real app processes (``respite serve``, uvicorn, one worker each) on free ports against a
test's own database and Redis: for the races that must span processes."""

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator

import httpx
import pytest

START_TIMEOUT = 30.0
SERVE = "import sys; from respite.cli import main; sys.exit(main(['serve']))"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(database_url: str, redis_url: str) -> tuple[subprocess.Popen[bytes], int]:
    port = _free_port()
    env = {
        **os.environ,
        "RESPITE_DATABASE_URL": database_url,
        "RESPITE_REDIS_URL": redis_url,
        "RESPITE_PORT": str(port),
        "RESPITE_LOG_LEVEL": "ERROR",
        "RESPITE_SECRET_KEY": "test-secret",
        # Servers of its own, but a test instance: the development secrets will do.
        "RESPITE_ENVIRONMENT": "development",
        "RESPITE_DB_POOL_MIN": "1",
        "RESPITE_DB_POOL_MAX": "20",
        # 200 racers on two cores: waiting for a connection is expected, failing is not.
        "RESPITE_DB_ACQUIRE_TIMEOUT": "20",
        "RESPITE_WEBHOOK_WORKER": "false",
    }
    proc = subprocess.Popen([sys.executable, "-c", SERVE], env=env, stdout=subprocess.DEVNULL)
    return proc, port


async def _ready(proc: subprocess.Popen[bytes], port: int) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + START_TIMEOUT
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"app process exited with {proc.returncode}")
            with contextlib.suppress(httpx.TransportError):
                if (await http.get("/health/ready")).status_code == 200:
                    return
            if loop.time() > deadline:
                raise RuntimeError("app process did not become ready")
            await asyncio.sleep(0.1)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture
async def apps(database_url: str, redis_url: str) -> AsyncIterator[list[httpx.AsyncClient]]:
    """Two app processes; an HTTP client for each. Both are stopped whatever the test does."""
    started = [_start(database_url, redis_url) for _ in range(2)]
    try:
        await asyncio.gather(*(_ready(proc, port) for proc, port in started))
        limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
        async with contextlib.AsyncExitStack() as stack:
            clients = [
                await stack.enter_async_context(
                    httpx.AsyncClient(
                        base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=60
                    )
                )
                for _, port in started
            ]
            yield clients
    finally:
        for proc, _ in started:
            _stop(proc)
