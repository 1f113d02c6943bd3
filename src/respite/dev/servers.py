"""Private PostgreSQL and Redis servers for development and tests (DESIGN.md §7).

When no RESPITE_DATABASE_URL / RESPITE_REDIS_URL is given, the CLI and the test suite start
servers of their own from the binaries installed on the machine, under a data folder, on free
loopback ports, and stop them afterwards. Shared servers on 5432/6379 are never used.

Linux only. The servers never outlive us: each runs as a child in its own session that the
kernel signals when we die (``processes.py`` says how), and is stopped in order on any exit
(``finally`` and ``atexit``). Start servers from a thread that lives as long as they should
(the main thread, normally). PostgreSQL refuses to run as root, so as root it runs as
``postgres`` (else ``nobody``).
"""

from __future__ import annotations

import abc
import atexit
import contextlib
import os
import pwd
import re
import shutil
import signal
import socket
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

from respite.dev import processes

__all__ = [
    "POSTGRES_SEARCH_ROOT",
    "LocalPostgres",
    "LocalRedis",
    "MissingBinaryError",
    "ServerStartError",
    "find_postgres_bindir",
    "find_redis_server",
    "local_servers",
]

POSTGRES_SEARCH_ROOT = Path("/usr/lib/postgresql")  # Debian/Ubuntu: one <major>/bin per version
MIN_POSTGRES_MAJOR = 15
START_TIMEOUT = 30.0
_PORT_ATTEMPTS = 5
_PORT_TAKEN = "Address already in use"  # both servers log the C-locale strerror on bind failure


class MissingBinaryError(RuntimeError):
    """A server binary is not installed; the message says what to install."""


class ServerStartError(RuntimeError):
    """A server could not be prepared or did not come up; the message says why."""


def find_postgres_bindir() -> Path:
    """The directory holding ``initdb`` and ``postgres`` (major version >= 15).

    PATH first, resolving symlinks (``/usr/local/bin/initdb`` may point into
    ``/usr/lib/postgresql/15/bin``), then the newest ``POSTGRES_SEARCH_ROOT/*/bin``.
    """
    candidates = []
    if initdb := shutil.which("initdb"):
        candidates.append(Path(initdb).resolve().parent)
    candidates += sorted(POSTGRES_SEARCH_ROOT.glob("*/bin"), key=_dir_version, reverse=True)
    for bindir in candidates:
        if _postgres_major(bindir) >= MIN_POSTGRES_MAJOR:
            return bindir
    raise MissingBinaryError(
        f"PostgreSQL {MIN_POSTGRES_MAJOR}+ server binaries (initdb, postgres) not found on PATH "
        f"or under {POSTGRES_SEARCH_ROOT}/*/bin: install them with `apt-get install postgresql` "
        "(Debian/Ubuntu)"
    )


def find_redis_server() -> Path:
    if found := shutil.which("redis-server"):
        return Path(found)
    raise MissingBinaryError(
        "redis-server not found on PATH: install it with `apt-get install redis-server` "
        "(Debian/Ubuntu)"
    )


def _dir_version(bindir: Path) -> int:
    name = bindir.parent.name
    return int(name) if name.isdigit() else -1


def _postgres_major(bindir: Path) -> int:
    """The major version of the server in bindir, 0 if it is not a usable server directory."""
    postgres = bindir / "postgres"
    if not all(os.access(bindir / name, os.X_OK) for name in ("initdb", "postgres")):
        return 0
    try:
        # --version is one of the few things postgres agrees to do as root; no shell involved
        out = subprocess.run(  # noqa: S603
            [postgres, "--version"], capture_output=True, text=True, timeout=10, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return 0
    found = re.search(r"\(PostgreSQL\) (\d+)", out)
    return int(found.group(1)) if found else 0


class _Server(abc.ABC):
    """What both servers share: spawn on a free port, wait until ready, always stop."""

    _name: str
    _stop_signal: signal.Signals
    _user: pwd.struct_passwd | None = None

    def __init__(self, data_dir: Path, log_name: str) -> None:
        # resolved, because stale-process detection compares it with /proc/<pid>/cwd
        self.data_dir = data_dir.resolve()
        self.log_path = self.data_dir / log_name
        self.port = 0
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return None if self._proc is None else self._proc.pid

    def stop(self) -> None:
        """Stop the server and wait for it (SIGKILL after a timeout); idempotent."""
        self._halt(self._stop_signal)

    def kill(self) -> None:
        """SIGKILL the server, as a crash would: for fault-injection tests."""
        self._halt(signal.SIGKILL)

    @abc.abstractmethod
    def _command(self, port: int) -> list[str]: ...

    @abc.abstractmethod
    def _accepting(self) -> bool: ...

    def _halt(self, sig: signal.Signals) -> None:
        if self._proc is not None:
            processes.terminate(self._proc, sig)
            # cleared only once it is gone, so that atexit retries after an interrupted stop
            self._proc = None
        atexit.unregister(self.stop)

    def _check_not_running(self) -> None:
        if self._proc is not None:
            raise ServerStartError(f"{self._name} is already running on port {self.port}")

    def _serve(self, port: int | None) -> None:
        """Start on `port`, or on a free one, retrying if another process takes it first."""
        for _ in range(_PORT_ATTEMPTS):
            self.port = port or processes.free_port()
            with self.log_path.open("wb") as log:
                self._proc = processes.popen(
                    self._command(self.port), self._user, self._stop_signal, log
                )
            atexit.register(self.stop)
            try:
                exit_code = self._wait_ready()
            except BaseException:
                self.stop()
                raise
            if exit_code is None:
                return
            self.stop()
            log_tail = processes.tail(self.log_path)
            if port is not None or _PORT_TAKEN not in log_tail:
                raise ServerStartError(
                    f"{self._name} exited with code {exit_code} while starting; "
                    f"last lines of {self.log_path}:\n{log_tail}"
                )
        raise ServerStartError(f"{self._name}: every free port was taken before it could bind")

    def _wait_ready(self) -> int | None:
        """None once the server accepts connections, its exit code if it exits first."""
        proc = self._proc
        assert proc is not None
        if not processes.wait_for(
            lambda: proc.poll() is not None or self._accepting(), START_TIMEOUT
        ):
            raise ServerStartError(
                f"{self._name} did not accept connections within {START_TIMEOUT:.0f} s; "
                f"last lines of {self.log_path}:\n{processes.tail(self.log_path)}"
            )
        return proc.returncode

    def _started_port(self) -> int:
        if not self.port:
            raise ServerStartError(f"{self._name} has not been started")
        return self.port


class LocalPostgres(_Server):
    _name = "PostgreSQL"
    _stop_signal = signal.SIGINT  # "fast" shutdown; SIGTERM would wait for clients to leave

    def __init__(self, data_dir: Path, *, durable: bool = True) -> None:
        """durable=False trades crash safety for speed (fsync and friends off): tests only."""
        super().__init__(data_dir, "postgres.log")
        self.durable = durable
        self._bindir = find_postgres_bindir()
        self._user = _unprivileged_user()

    @property
    def url(self) -> str:
        return f"postgresql://respite@127.0.0.1:{self._started_port()}/respite"

    def start(self, port: int | None = None) -> None:
        """initdb on first use, clear what a killed earlier run left, then serve on `port`
        (a test restarting a stopped server passes the old one) or a free one."""
        self._check_not_running()
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        if self._user is not None:
            _check_reachable(self.data_dir, self._user)
        if not (self.data_dir / "PG_VERSION").exists():
            self._initdb()
        self._clear_stale_lock()
        self._serve(port)

    def _initdb(self) -> None:
        """Build the cluster beside data_dir and rename it into place, so that a run killed
        half-way never leaves a half-initialised data dir that later runs would trust."""
        if self.data_dir.exists() and any(self.data_dir.iterdir()):
            raise ServerStartError(f"{self.data_dir} is neither empty nor a PostgreSQL data dir")
        staging = self.data_dir.with_name(self.data_dir.name + ".initdb")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(mode=0o700)
        if self._user is not None:
            os.chown(staging, self._user.pw_uid, self._user.pw_gid)
        initdb = [str(self._bindir / "initdb"), "--pgdata", str(staging), "--username=respite"]
        initdb += ["--auth=trust", "--encoding=UTF8", "--locale=C", "--no-instructions"]
        self._setup(initdb if self.durable else [*initdb, "--no-sync"])
        # single-user mode creates the database without a server, a port or a client library;
        # exit_on_error turns an ERROR into a non-zero exit status
        single = [str(self._bindir / "postgres"), "--single", "-D", str(staging)]
        self._setup([*single, "-c", "exit_on_error=on", "postgres"], b"CREATE DATABASE respite;\n")
        staging.replace(self.data_dir)

    def _setup(self, argv: list[str], stdin: bytes = b"") -> None:
        proc = processes.popen(
            argv, self._user, signal.SIGTERM, subprocess.PIPE, stdin=subprocess.PIPE
        )
        try:
            output, _ = proc.communicate(stdin, timeout=START_TIMEOUT)
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        if proc.returncode != 0:
            raise ServerStartError(
                f"{Path(argv[0]).name} failed with exit code {proc.returncode}:\n"
                + processes.last_lines(output.decode(errors="replace"))
            )

    def _clear_stale_lock(self) -> None:
        """Let a run killed earlier not block this one, and never stop one that still runs.

        A postmaster that still serves this data dir is never signalled: one whose starter
        lives (a running ``respite dev``) is refused at once; one whose starter was killed
        stops by itself (it asked for a signal on its parent's death) and is waited for.
        Then the lock file goes, once no backend of the old one is left: it is what stops
        two postmasters sharing a data dir."""
        lock = self.data_dir / "postmaster.pid"
        if not lock.exists():
            return
        pid = processes.lock_pid(lock)
        if pid is not None and pid in processes.postgres_processes_in(self.data_dir):
            starter = processes.parent_pid(pid)
            if processes.lock_status(lock) != "stopping" and starter not in (None, 1):
                raise ServerStartError(
                    f"PostgreSQL (pid {pid}, started by process {starter}) already serves "
                    f"{self.data_dir}: use its servers, or stop that process first"
                )
        if not processes.wait_for(
            lambda: not processes.postgres_processes_in(self.data_dir), processes.STOP_TIMEOUT
        ):
            left = sorted(processes.postgres_processes_in(self.data_dir))
            raise ServerStartError(
                f"PostgreSQL processes {left} still use {self.data_dir}; stop them first"
            )
        lock.unlink(missing_ok=True)

    def _command(self, port: int) -> list[str]:
        argv = [str(self._bindir / "postgres"), "-D", str(self.data_dir), "-p", str(port)]
        argv += ["-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="]
        if not self.durable:
            argv += ["-c", "fsync=off", "-c", "synchronous_commit=off"]
            argv += ["-c", "full_page_writes=off"]
        return argv

    def _accepting(self) -> bool:
        # pg_ctl's own test: the postmaster writes "ready" on line 8 of its lock file once
        # it accepts connections; line 1 is its pid, which tells our lock file from a stale one
        try:
            lines = (self.data_dir / "postmaster.pid").read_text().splitlines()
            return lines[0] == str(self.pid) and lines[7].strip() == "ready"
        except (OSError, IndexError):
            return False


class LocalRedis(_Server):
    _name = "Redis"
    _stop_signal = signal.SIGTERM  # with --save '' Redis writes nothing and exits

    def __init__(self, data_dir: Path) -> None:
        super().__init__(data_dir, "redis.log")
        self._binary = find_redis_server()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self._started_port()}/0"

    def start(self, port: int | None = None) -> None:
        """Serve on `port` (a test restarting a killed Redis passes the old one) or a free one."""
        self._check_not_running()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._serve(port)

    def _command(self, port: int) -> list[str]:
        return [
            str(self._binary),
            *("--bind", "127.0.0.1", "--port", str(port), "--protected-mode", "yes"),
            *("--save", "", "--appendonly", "no", "--dir", str(self.data_dir)),
        ]

    def _accepting(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False


@contextlib.contextmanager
def local_servers(
    data_dir: Path, *, durable: bool = True
) -> Iterator[tuple[LocalPostgres, LocalRedis]]:
    """PostgreSQL under data_dir/postgres and Redis under data_dir/redis, both stopped on any
    exit, KeyboardInterrupt included. Both binaries are looked up before either starts."""
    postgres = LocalPostgres(data_dir / "postgres", durable=durable)
    redis = LocalRedis(data_dir / "redis")
    try:
        postgres.start()
        redis.start()
        yield postgres, redis
    finally:
        try:
            redis.stop()
        finally:
            postgres.stop()


def _unprivileged_user() -> pwd.struct_passwd | None:
    """The account PostgreSQL runs as when we are root (it refuses root); None: no switch."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise ServerStartError("running as root, and no `postgres` or `nobody` user to run PostgreSQL")


def _check_reachable(data_dir: Path, user: pwd.struct_passwd) -> None:
    """Fail clearly, rather than with initdb's "permission denied", if `user` cannot walk
    down to data_dir (a 0700 home directory, pytest's private temporary root...)."""
    groups = set(os.getgrouplist(user.pw_name, user.pw_gid))
    for directory in reversed(data_dir.parents):
        info = directory.stat()
        if info.st_uid == user.pw_uid:
            needed = stat.S_IXUSR
        elif info.st_gid in groups:
            needed = stat.S_IXGRP
        else:
            needed = stat.S_IXOTH
        if not info.st_mode & needed:
            raise ServerStartError(
                f"PostgreSQL runs as user {user.pw_name!r} (it refuses root) and cannot reach "
                f"{data_dir}: {directory} ({stat.filemode(info.st_mode)}) is not searchable by "
                f"it; use a data folder elsewhere or run `chmod o+x {directory}`"
            )
