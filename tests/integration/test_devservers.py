"""The private servers really start, keep their data, stop, and never outlive their parent."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import asyncpg
import pytest
import redis

from respite.dev import processes, servers
from respite.dev.servers import (
    LocalPostgres,
    LocalRedis,
    MissingBinaryError,
    ServerStartError,
    find_postgres_bindir,
    find_redis_server,
    local_servers,
)
from tests.folders import scratch_folder

AS_ROOT = os.geteuid() == 0


@pytest.fixture
def data_dir() -> Iterator[Path]:
    """A fresh folder the unprivileged PostgreSQL user can walk through (not list)."""
    with scratch_folder("respite-devservers-", 0o711, strict=True) as path:
        yield path


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


def _children(pid: int) -> set[int]:
    found = set()
    for stat_file in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat_file.read_text().rpartition(")")[2].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if parent == pid:
            found.add(int(stat_file.parent.name))
    return found


def _uid(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1])


def _eventually(condition: Callable[[], bool], seconds: float = 10) -> bool:
    return processes.wait_for(condition, seconds)


def _query(url: str, *sql: str) -> object:
    """Run the statements on one connection; return the value of the last."""

    async def run() -> object:
        connection = await asyncpg.connect(url)
        try:
            result: object = None
            for statement in sql:
                result = await connection.fetchval(statement)
            return result
        finally:
            await connection.close()

    return asyncio.run(run())


def _use_then_interrupt(postgres: LocalPostgres, cache: LocalRedis, pids: set[int]) -> None:
    assert _query(postgres.url, "select current_user || '@' || current_database()") == (
        "respite@respite"
    )
    with redis.Redis.from_url(cache.url) as client:
        assert client.ping()
    assert postgres.pid is not None
    assert cache.pid is not None
    assert postgres.port not in (5432, cache.port, 6379)
    if AS_ROOT:
        assert _uid(postgres.pid) != 0
    pids.update({postgres.pid, cache.pid, *_children(postgres.pid)})
    raise KeyboardInterrupt  # what a Ctrl-C in the terminal raises in the CLI


def test_servers_serve_and_leave_no_process_even_on_keyboard_interrupt(data_dir: Path) -> None:
    pids: set[int] = set()
    with pytest.raises(KeyboardInterrupt), local_servers(data_dir, durable=False) as servers:
        _use_then_interrupt(*servers, pids)
    postgres, cache = servers
    assert len(pids) > 2
    assert not [pid for pid in pids if _alive(pid)]
    assert postgres.pid is None
    assert cache.pid is None
    assert "ready to accept connections" in postgres.log_path.read_text()
    assert cache.log_path.exists()


def test_restart_from_same_data_dir_keeps_data(data_dir: Path) -> None:
    postgres = LocalPostgres(data_dir / "pg", durable=False)
    postgres.start()
    try:
        _query(postgres.url, "create table kept (n int)", "insert into kept values (42)")
    finally:
        postgres.stop()
    postgres.start()
    try:
        assert _query(postgres.url, "select n from kept") == 42
    finally:
        postgres.stop()


def test_killed_redis_restarts_on_same_port(data_dir: Path) -> None:
    cache = LocalRedis(data_dir)
    cache.start()
    try:
        port, pid = cache.port, cache.pid
        assert pid is not None
        cache.kill()
        assert not _alive(pid)
        cache.start(port=port)
        assert cache.port == port
        with redis.Redis.from_url(cache.url) as client:
            assert client.ping()
    finally:
        cache.stop()


def test_redis_moves_to_another_port_when_a_free_one_is_taken(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        taken_port = taken.getsockname()[1]
        ports = iter([taken_port, processes.free_port()])
        monkeypatch.setattr(processes, "free_port", lambda: next(ports))
        cache = LocalRedis(data_dir)
        cache.start()
        try:
            assert cache.port != taken_port
        finally:
            cache.stop()
        with pytest.raises(ServerStartError, match="Address already in use"):
            cache.start(port=taken_port)
        assert cache.pid is None


def test_missing_binaries_say_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(servers, "POSTGRES_SEARCH_ROOT", tmp_path)
    with pytest.raises(MissingBinaryError, match=r"`apt-get install postgresql`"):
        find_postgres_bindir()
    with pytest.raises(MissingBinaryError, match=r"`apt-get install redis-server`"):
        find_redis_server()
    with pytest.raises(MissingBinaryError), local_servers(tmp_path / "data"):
        pytest.fail("no server may start without its binaries")
    assert not (tmp_path / "data").exists()


def _fake_postgres(bindir: Path, major: int) -> None:
    bindir.mkdir(parents=True)
    for name in ("initdb", "postgres"):
        (bindir / name).write_text(f"#!/bin/sh\necho 'postgres (PostgreSQL) {major}.1'\n")
        (bindir / name).chmod(0o755)


def test_postgres_lookup_resolves_symlinks_then_takes_newest_recent_enough(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = find_postgres_bindir()
    on_path = tmp_path / "path"
    on_path.mkdir()
    for name in ("initdb", "postgres"):
        (on_path / name).symlink_to(real / name)
    monkeypatch.setenv("PATH", str(on_path))
    assert find_postgres_bindir() == real.resolve()

    _fake_postgres(tmp_path / "old", 14)
    monkeypatch.setenv("PATH", str(tmp_path / "old"))
    for major in (13, 16, 17):
        _fake_postgres(tmp_path / "lib" / str(major) / "bin", major)
    (tmp_path / "lib" / "17" / "bin" / "initdb").unlink()
    monkeypatch.setattr(servers, "POSTGRES_SEARCH_ROOT", tmp_path / "lib")
    assert find_postgres_bindir() == tmp_path / "lib" / "16" / "bin"


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.mark.parametrize("lock_owner", ["dead", "unrelated"])
def test_stale_lock_file_is_cleared(data_dir: Path, lock_owner: str) -> None:
    postgres = LocalPostgres(data_dir / "pg", durable=False)
    postgres.start()
    postgres.stop()
    # PostgreSQL itself only refuses a live pid that it may signal: one of its own user
    server_uid = postgres.data_dir.stat().st_uid if AS_ROOT else None
    with subprocess.Popen(["sleep", "30"], user=server_uid) as unrelated:
        try:
            pid = _dead_pid() if lock_owner == "dead" else unrelated.pid
            (postgres.data_dir / "postmaster.pid").write_text(f"{pid}\n{postgres.data_dir}\n")
            postgres.start()
            assert _query(postgres.url, "select 1") == 1
        finally:
            postgres.stop()
            unrelated.kill()


def test_a_live_postmaster_is_never_taken_for_a_stale_one(data_dir: Path) -> None:
    earlier = LocalPostgres(data_dir / "pg", durable=False)
    earlier.start()
    try:
        old_pid = earlier.pid
        assert old_pid is not None
        later = LocalPostgres(data_dir / "pg", durable=False)
        with pytest.raises(ServerStartError, match=rf"PostgreSQL \(pid {old_pid}, started by"):
            later.start()
        assert later.pid is None
        assert _alive(old_pid)
        assert _query(earlier.url, "select 1") == 1
    finally:
        earlier.stop()


@pytest.mark.skipif(not AS_ROOT, reason="only root switches to an unprivileged user")
def test_unreachable_data_dir_is_refused_clearly(data_dir: Path) -> None:
    private = data_dir / "private"
    private.mkdir(mode=0o700)
    with pytest.raises(ServerStartError, match=rf"{private} \(drwx------\) is not searchable"):
        LocalPostgres(private / "pg").start()


_CHILD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from respite.dev.servers import local_servers

    with local_servers(Path(sys.argv[1]), durable=False) as (postgres, cache):
        print(postgres.pid, cache.pid, flush=True)
        time.sleep(60)
    """
)


def test_a_postmaster_whose_starter_was_killed_is_waited_for_not_stopped(data_dir: Path) -> None:
    with subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(data_dir)], stdout=subprocess.PIPE, text=True
    ) as parent:
        assert parent.stdout is not None
        postmaster = int(parent.stdout.readline().split()[0])
        parent.send_signal(signal.SIGKILL)
    # At once, while the orphan may still be shutting down by itself.
    later = LocalPostgres(data_dir / "postgres", durable=False)
    try:
        later.start()
        assert not _alive(postmaster)
        assert _query(later.url, "select 1") == 1
    finally:
        later.stop()


def test_servers_die_when_their_parent_is_killed(data_dir: Path) -> None:
    with subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(data_dir)], stdout=subprocess.PIPE, text=True
    ) as parent:
        assert parent.stdout is not None
        postmaster, cache = map(int, parent.stdout.readline().split())
        pids = {postmaster, cache, *_children(postmaster)}
        if AS_ROOT:  # the parent-death request survived the switch to an unprivileged user
            assert _uid(postmaster) != 0
        parent.send_signal(signal.SIGKILL)
    assert _eventually(lambda: not [pid for pid in pids if _alive(pid)])
