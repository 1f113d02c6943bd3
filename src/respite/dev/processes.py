"""Child processes that never outlive us, for the private servers (``servers.py``).

Each child runs in its own session, so a terminal Ctrl-C reaches only us and we stop the
children in order; and each asks the kernel for a signal when its parent dies
(``PR_SET_PDEATHSIG``), which covers SIGKILL. The kernel clears that request on any
credential change, so it is made in ``preexec_fn``, which subprocess runs *after* its
``user=``/``group=`` switch. The signal fires when the *thread* that started the child exits.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import pwd
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

__all__ = [
    "STOP_TIMEOUT",
    "alive",
    "free_port",
    "last_lines",
    "lock_pid",
    "lock_status",
    "parent_pid",
    "popen",
    "postgres_processes_in",
    "tail",
    "terminate",
    "wait_for",
]

STOP_TIMEOUT = 10.0
_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def popen(
    argv: list[str],
    user: pwd.struct_passwd | None,
    death_signal: signal.Signals,
    stdout: IO[bytes] | int,
    stdin: int = subprocess.DEVNULL,
) -> subprocess.Popen[bytes]:
    """Start a child in its own session, as `user` if given, that dies with us."""
    return subprocess.Popen(  # noqa: S603 - argv names a binary we located, no shell
        argv,
        stdin=stdin,
        stdout=stdout,
        stderr=subprocess.STDOUT,
        cwd="/",  # never pin, or need access to, the caller's working directory
        env={**os.environ, "LC_ALL": "C"},  # stable log messages, whatever the caller's locale
        start_new_session=True,
        user=None if user is None else user.pw_uid,
        group=None if user is None else user.pw_gid,
        extra_groups=None if user is None else os.getgrouplist(user.pw_name, user.pw_gid),
        preexec_fn=die_with_parent(death_signal),
    )


def die_with_parent(sig: signal.Signals) -> Callable[[], None]:
    """A preexec_fn asking the kernel to send `sig` to the child when we die, SIGKILL included.

    Runs after subprocess's uid/gid switch, which would otherwise clear the request.
    """
    libc = ctypes.CDLL(None, use_errno=True)  # loaded before fork: the child only calls it
    parent = os.getpid()

    def arm() -> None:
        if libc.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
        if os.getppid() != parent:  # we died before the request was in place
            os._exit(1)

    return arm


def lock_pid(lock: Path) -> int | None:
    try:
        return int(lock.read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return None


def lock_status(lock: Path) -> str:
    """What a postmaster says of itself on line 8 of its lock file: ``starting``, ``ready``,
    ``stopping`` (or ``standby``); empty when it says nothing."""
    try:
        return lock.read_text().splitlines()[7].strip()
    except (OSError, IndexError):
        return ""


def parent_pid(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def postgres_processes_in(data_dir: Path) -> set[int]:
    """Pids of postgres processes working in data_dir: the postmaster and every backend
    chdir there, so this finds them whoever their parent is now."""
    found: set[int] = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):  # gone meanwhile, or not ours to inspect
            if (entry / "comm").read_text().strip() == "postgres" and (
                entry / "cwd"
            ).readlink() == data_dir:
                found.add(int(entry.name))
    return found


def alive(pid: int) -> bool:
    """Whether pid runs; a zombie (dead, waiting to be reaped) does not."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def terminate(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    if proc.poll() is None:
        proc.send_signal(sig)
    try:
        proc.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def wait_for(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


def free_port() -> int:
    """A loopback port free right now; another process may take it before the server binds,
    which _serve detects and retries."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tail(log: Path) -> str:
    try:
        return last_lines(log.read_text(errors="replace"))
    except OSError:
        return "(no log)"


def last_lines(text: str, count: int = 20) -> str:
    return "\n".join(text.splitlines()[-count:])
