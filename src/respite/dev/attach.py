"""The private servers of a running ``respite dev``, recorded in its data folder, so that every
other command on that folder (``token``, ``seed``, ``migrate``, ``import-beds``) uses them
instead of starting servers of its own on the same files, or stopping them.

``respite dev`` (and ``respite serve`` on private servers) writes ``servers.json`` once its
servers run and removes it when it stops. A record is believed only while the process that
wrote it and the postmaster it names both still run: one left by a killed process is ignored.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import msgspec

from respite.dev import processes
from respite.dev.servers import LocalPostgres, LocalRedis

__all__ = ["RECORD", "NoDatabaseError", "RunningServers", "has_database", "recorded", "running"]

RECORD = "servers.json"


class NoDatabaseError(RuntimeError):
    """A command that needs existing data found no database in the data folder."""


class RunningServers(msgspec.Struct, frozen=True, kw_only=True):
    owner: int
    """The process that started the servers, and will stop them."""
    postmaster: int
    database_url: str
    redis_url: str


def _postgres_dir(data_dir: Path) -> Path:
    return (data_dir / "postgres").resolve()


def has_database(data_dir: Path) -> bool:
    return (_postgres_dir(data_dir) / "PG_VERSION").exists()


def running(data_dir: Path) -> RunningServers | None:
    """The servers recorded in ``data_dir``, if they still run."""
    try:
        found = msgspec.json.decode((data_dir / RECORD).read_bytes(), type=RunningServers)
    except (OSError, msgspec.DecodeError):
        return None
    if not processes.alive(found.owner):
        return None
    if found.postmaster not in processes.postgres_processes_in(_postgres_dir(data_dir)):
        return None
    return found


@contextlib.contextmanager
def recorded(data_dir: Path, postgres: LocalPostgres, redis: LocalRedis) -> Iterator[None]:
    """Record the servers this process runs for as long as the block lasts."""
    assert postgres.pid is not None
    record = RunningServers(
        owner=os.getpid(),
        postmaster=postgres.pid,
        database_url=postgres.url,
        redis_url=redis.url,
    )
    path = data_dir / RECORD
    staging = path.with_name(f".{RECORD}.{os.getpid()}")
    staging.write_bytes(msgspec.json.encode(record))
    staging.replace(path)  # whole or not at all: a reader never sees half a record
    try:
        yield
    finally:
        with contextlib.suppress(OSError, msgspec.DecodeError):
            if msgspec.json.decode(path.read_bytes(), type=RunningServers) == record:
                path.unlink()
