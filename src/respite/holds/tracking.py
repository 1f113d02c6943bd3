"""The live holds of facilities, kept in this process while Redis says they have not changed.

A search reads the holds of every facility it shows: one round trip to Redis each time, a
tenth of a search's time, for hashes that change far less often than they are read. So the
process keeps what it read and Redis tells it when to stop (client-side caching, broadcast
mode): one connection of its own asks ``CLIENT TRACKING ON REDIRECT <itself> BCAST PREFIX {f:``
and ``SUBSCRIBE __redis__:invalidate``; from then on Redis sends it the name of every key of a
facility that any client changes, that expires or that is evicted, and ``null`` when the
database is flushed. The tracking lives and dies with that one connection.

Why a kept hash is never older than Redis's word about it. Every change Redis reports drops
the facility's entry and stamps the facility with a new sequence number; a read remembers the
sequence number and the connection's epoch from before it was sent, and keeps its answer only
if neither moved meanwhile. A change Redis made before executing the read is in its answer; one
made after is reported after it, and the report is handled either before the answer (the
stamp moved: the answer is not kept) or after it (the entry is dropped). Both arrive on this
one event loop, so there is no third order. Until the connection is subscribed, after it is
lost, and while a ping goes unanswered, nothing is kept or served and every read goes to Redis;
each new connection starts a new epoch with nothing kept. A write through this process's own
``HoldStore`` drops its facility at once too, so a process reads its own writes without
waiting for Redis's word. What is kept is the hash as Redis held it: liveness is still judged
at every read by the app's clock (``expires_at > now``), as without the cache.

Off on Redis Cluster (keys of many nodes) and for a Redis reached by TLS or a socket file:
there every read goes to Redis, as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import Any, Final

import hiredis
from redis.asyncio.connection import parse_url

__all__ = ["TrackedHolds"]

log = logging.getLogger("respite.holds")

PREFIX: Final = "{f:"
CHANNEL: Final = "__redis__:invalidate"
# How often the listener asks whether Redis is still there, and how long it waits for a word
# back before it stops trusting what it keeps.
PING_EVERY_S: Final = 5.0
# Before trying to connect again after a failure.
RETRY_AFTER_S: Final = 1.0

Entries = list[tuple[bytes, bytes]]


def _facility_of(key: bytes) -> int | None:
    """The facility of a key ``{f:<id>}:...``, or None for any other key."""
    if not key.startswith(b"{f:"):
        return None
    digits = key[3 : key.find(b"}")]
    return int(digits) if digits.isdigit() and len(digits) <= 18 else None


def _command(*parts: str | int) -> bytes:
    out = [b"*%d\r\n" % len(parts)]
    for part in parts:
        data = str(part).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


class TrackedHolds:
    """What the facilities' hold hashes held when last read, while Redis vouches for them."""

    def __init__(self, url: str, timeout: float) -> None:
        self._address: dict[str, Any] = dict(parse_url(url))
        self._timeout = timeout
        self._entries: dict[int, Entries] = {}
        self._stamps: dict[int, int] = {}
        self._sequence = 0
        self._epoch = 0
        self._trusted = False
        self._task: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()

    @classmethod
    def usable_for(cls, url: str) -> bool:
        """Whether a listener can reach this Redis: a TCP address (not TLS, not a socket)."""
        return "connection_class" not in parse_url(url)

    @property
    def trusted(self) -> bool:
        """Whether what is kept may be served now (the listener is subscribed and answering)."""
        return self._trusted

    async def start(self) -> None:
        """Start listening; returns once subscribed, or after the timeout (reads then go to
        Redis until the listener gets through)."""
        self._task = asyncio.create_task(self._listen(), name="holds-tracking")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._subscribed.wait(), self._timeout)

    async def stop(self) -> None:
        self._distrust()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    # Reads ----------------------------------------------------------------------------------

    def kept(self, facility_ids: Sequence[int]) -> dict[int, Entries]:
        """The kept hashes of those facilities that have one, if they may be served."""
        if not self._trusted:
            return {}
        entries = self._entries
        return {f: entries[f] for f in facility_ids if f in entries}

    def mark(self) -> tuple[int, int]:
        """Taken before a read is sent: what ``keep`` checks the answer against."""
        return self._epoch, self._sequence

    def keep(self, mark: tuple[int, int], read: dict[int, Entries]) -> None:
        """Keep hashes read from Redis since ``mark``, unless Redis reported a change of
        them (or lost the connection) meanwhile."""
        epoch, sequence = mark
        if not self._trusted or epoch != self._epoch:
            return
        stamps = self._stamps
        for facility_id, entries in read.items():
            # Stamped at or before the mark: a change the read already saw.
            if stamps.get(facility_id, -1) <= sequence:
                self._entries[facility_id] = entries

    def changed(self, facility_id: int) -> None:
        """The facility's hash changed (Redis said so, or this process wrote it)."""
        self._sequence += 1
        self._stamps[facility_id] = self._sequence
        self._entries.pop(facility_id, None)

    # The listener ---------------------------------------------------------------------------

    def _distrust(self) -> None:
        self._trusted = False
        self._epoch += 1
        self._entries.clear()

    async def _listen(self) -> None:
        while True:
            try:
                await self._session()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("holds tracking lost (%s); reading holds from Redis meanwhile", exc)
            self._distrust()
            await asyncio.sleep(RETRY_AFTER_S)

    async def _session(self) -> None:
        address = self._address
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(address.get("host", "localhost"), address.get("port", 6379)),
            self._timeout,
        )
        parser = hiredis.Reader()
        try:

            async def ask(*parts: str | int) -> Any:
                writer.write(_command(*parts))
                return await asyncio.wait_for(self._reply(reader, parser), self._timeout)

            if address.get("password"):
                credentials = [address["password"]]
                if address.get("username"):
                    credentials.insert(0, address["username"])
                self._check(await ask("AUTH", *credentials))
            me = await ask("CLIENT", "ID")
            self._check(
                await ask("CLIENT", "TRACKING", "ON", "REDIRECT", me, "BCAST", "PREFIX", PREFIX)
            )
            self._check(await ask("SUBSCRIBE", CHANNEL))
            self._distrust()  # a new epoch: nothing read before this is kept
            self._trusted = True
            self._subscribed.set()
            await self._messages(reader, writer, parser)
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _messages(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, parser: hiredis.Reader
    ) -> None:
        pinged = False
        while True:
            try:
                message = await asyncio.wait_for(
                    self._reply(reader, parser), self._timeout if pinged else PING_EVERY_S
                )
            except TimeoutError:
                if pinged:
                    raise ConnectionError("Redis did not answer a ping") from None
                writer.write(_command("PING"))
                pinged = True
                continue
            pinged = False
            if not isinstance(message, list) or len(message) != 3 or message[0] != b"message":
                continue  # the answer to a ping
            keys = message[2]
            if keys is None:  # the database was flushed
                self._distrust()
                self._trusted = True
                continue
            for key in keys:
                facility_id = _facility_of(key)
                if facility_id is not None:
                    self.changed(facility_id)

    @staticmethod
    async def _reply(reader: asyncio.StreamReader, parser: hiredis.Reader) -> Any:
        while (reply := parser.gets()) is False:
            data = await reader.read(65536)
            if not data:
                raise ConnectionError("Redis closed the connection")
            parser.feed(data)
        return reply

    @staticmethod
    def _check(reply: Any) -> None:
        if isinstance(reply, hiredis.ReplyError):
            raise ConnectionError(str(reply))
