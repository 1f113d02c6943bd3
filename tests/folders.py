"""Folders for the servers the tests start, in memory where the machine has a RAM disk.

PostgreSQL writes a few hundred files for every database a test clones and removes them when
it is dropped; on the CI machine's disk that took ~210 ms a clone, in /dev/shm ~15 ms (and
``initdb`` for the tests of ``respite dev`` and the private servers is several times faster).
Nothing is meant to survive a run, so nothing is lost by keeping it in memory.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["scratch_folder"]

# A fresh private folder is made under it (mkdtemp), never a guessable name.
RAM_DISK = Path("/dev/shm")  # noqa: S108


def _root() -> str | None:
    """The RAM disk when it is there to write to, else the system's temporary folder."""
    if RAM_DISK.is_dir() and os.access(RAM_DISK, os.W_OK | os.X_OK):
        return str(RAM_DISK)
    return None


@contextmanager
def scratch_folder(prefix: str, mode: int = 0o755, *, strict: bool = False) -> Iterator[Path]:
    """A new folder, removed afterwards (``strict``: a folder that cannot be removed, as one a
    server still writes to, is an error).

    ``mode`` lets the unprivileged user PostgreSQL runs as (when the tests run as root) reach
    it: not pytest's tmp_path, whose root is private (0700) and re-tightened whenever a pytest
    session starts, which would cut a running server off its files.
    """
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir=_root()))
    folder.chmod(mode)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=not strict)
