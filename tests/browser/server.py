"""The app under test behind a real HTTP server, in the test's own event loop.

``uvicorn.Server`` on a socket bound to a free port of 127.0.0.1, with the app's lifespan
(uvicorn runs it in a task of its own, entered and left there, as anyio needs). Two changes to
uvicorn's loop, both for a server inside a test run: the test run's signals stay pytest's (so
Ctrl-C stops the run, not the server), and the server stops when told instead of polling a flag
every 0.1 s.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

import uvicorn
from litestar import Litestar

__all__ = ["served"]


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.up = asyncio.Event()
        self.stop = asyncio.Event()

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        try:
            await super().startup(sockets)
        except SystemExit:  # uvicorn's answer to a failed lifespan; it would end the test run
            raise RuntimeError("the app did not start: its lifespan failed (see the log)") from None
        self.up.set()

    async def main_loop(self) -> None:
        await self.on_tick(0)  # sets the Date header once
        await self.stop.wait()


@asynccontextmanager
async def served(app: Litestar) -> AsyncIterator[str]:
    """Serve ``app`` until the block ends; yields its base URL (``http://127.0.0.1:PORT``)."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    config = uvicorn.Config(
        app,
        lifespan="on",
        log_config=None,
        access_log=False,
        proxy_headers=False,
        server_header=False,
        ws="none",
        timeout_graceful_shutdown=5,
    )
    server = _Server(config)
    task = asyncio.create_task(server.serve(sockets=[listener]))
    up = asyncio.create_task(server.up.wait())
    try:
        await asyncio.wait([task, up], return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            task.result()  # start-up failed: raise its error here
            raise RuntimeError("the server stopped as it started")
        yield f"http://127.0.0.1:{port}"
    finally:
        up.cancel()
        server.stop.set()
        await task
        listener.close()
