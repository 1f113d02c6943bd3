"""The command line and the demo city: tokens minted, listed and revoked by an operator; every
command on the data folder of a running ``respite dev`` uses its servers and never stops them,
and none makes an empty database where there is none; a demo city whose stays stand around
the day it is loaded on."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest

from respite.auth.model import hash_token
from respite.cli import main
from respite.dev import processes, seed
from respite.dev.attach import RECORD
from respite.dev.demo import City
from tests import builders
from tests.folders import scratch_folder


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, database_url: str, redis_url: str) -> None:
    monkeypatch.setenv("RESPITE_DATABASE_URL", database_url)
    monkeypatch.setenv("RESPITE_REDIS_URL", redis_url)


async def test_an_operator_mints_a_token_once_and_revokes_it_by_id(
    cli_env: None, db: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["token", "create", "--role", "admin", "--label", "ops", "--days", "7"]
    assert await asyncio.to_thread(main, args) == 0
    token = capsys.readouterr().out.strip()
    row = await db.fetchrow(
        "SELECT id, label, expires_at, revoked_at FROM tokens WHERE token_hash = $1",
        hash_token(token),
    )
    assert (row["label"], row["revoked_at"]) == ("ops", None)
    assert row["expires_at"] is not None
    assert await asyncio.to_thread(main, ["token", "revoke", str(row["id"])]) == 0
    assert capsys.readouterr().out.strip() == "revoked"
    assert await db.fetchval("SELECT revoked_at FROM tokens WHERE id = $1", row["id"])
    assert await asyncio.to_thread(main, ["token", "revoke", str(row["id"])]) == 1
    assert capsys.readouterr().err.strip() == f"respite: no live token with id {row['id']}"
    audit = await db.fetchval("SELECT count(*) FROM audit_log WHERE action = 'revoke'")
    assert audit == 1


async def test_the_demo_city_stands_around_the_day_it_is_loaded_and_loads_once(
    database_url: str, db: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    today = builders.today() + timedelta(days=40)  # any day: the demo is built around it
    city = City(facilities=3, beds=30, elders=12)
    await seed(database_url, today, city)
    assert "seeded 3 facilities, 30 beds, 12 elders" in capsys.readouterr().out
    counts = await db.fetchrow(
        "SELECT (SELECT count(*) FROM facilities) AS facilities, (SELECT count(*) FROM beds)"
        " AS beds, (SELECT count(*) FROM care_recipients) AS elders"
    )
    assert (counts["facilities"], counts["beds"], counts["elders"]) == (3, 30, 12)
    stays = await db.fetch("SELECT check_in, check_out, status FROM bookings")
    assert stays and min(s["check_in"] for s in stays) >= today - timedelta(days=10)
    for stay in stays:
        # Whoever arrived before today is in (leaving today included); today's arrivals wait
        # for the desk to check them in.
        on_site = stay["check_in"] < today <= stay["check_out"]
        assert stay["status"] == ("checked_in" if on_site else "confirmed")
    assessed = await db.fetchval("SELECT max(assessed_on) FROM assessments")
    assert assessed <= today

    await seed(database_url, today, city)
    assert "already present" in capsys.readouterr().out
    assert await db.fetchval("SELECT count(*) FROM beds") == 30


async def test_the_demo_city_keeps_each_elder_in_one_bed_a_night(
    database_url: str, db: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """More beds than elders, so a city that handed stays to elders at random would put one
    elder in two beds on a night (the full city put one in eleven)."""
    today = builders.today()
    await seed(database_url, today, City(facilities=3, beds=40, elders=25))
    capsys.readouterr()
    clashes = await db.fetch(
        "SELECT a.care_recipient_id, a.id, b.id FROM bookings a JOIN bookings b"
        " ON b.care_recipient_id = a.care_recipient_id AND b.id > a.id"
        " AND b.check_in < a.check_out AND a.check_in < b.check_out"
        " WHERE a.status IN ('confirmed', 'checked_in')"
        " AND b.status IN ('confirmed', 'checked_in')"
    )
    assert clashes == []
    assert await db.fetchval("SELECT count(*) FROM elder_night_clashes") == 0, "0007's check"
    stays = await db.fetchval("SELECT count(*) FROM bookings")
    assert stays > 25, "elders come back for further stays"
    ledger = await db.fetch("SELECT care_recipient_id, night, booking_id FROM recipient_nights")
    live = await db.fetch(
        "SELECT care_recipient_id, check_in + k AS night, id FROM bookings,"
        " generate_series(0, check_out - check_in - 1) AS k"
        " WHERE status IN ('confirmed', 'checked_in')"
    )
    assert sorted(map(tuple, ledger)) == sorted(map(tuple, live))


# The real command line against a real `respite dev` --------------------------------------------


def _respite(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``respite ARGS`` as an operator types it, on the data folder ``folder``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RESPITE_")}
    return subprocess.run(
        [sys.executable, "-m", "respite.cli", *args],
        env={**env, "RESPITE_DATA_DIR": str(folder)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


class Dev(msgspec.Struct):
    folder: Path
    process: subprocess.Popen[bytes]
    url: str
    stderr: Path

    def postmaster(self) -> int:
        pid = processes.lock_pid(self.folder / "postgres" / "postmaster.pid")
        assert pid is not None
        return pid

    def get(self, path: str, token: str | None = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.get(self.url + path, headers=headers, timeout=10)


@pytest.fixture
def folder() -> Iterator[Path]:
    # Reachable by the unprivileged user PostgreSQL runs as when the tests run as root.
    with scratch_folder("respite-cli-", 0o711) as path:
        yield path / "data"


@contextlib.contextmanager
def running_dev(folder: Path, logs: Path) -> Iterator[Dev]:
    """``respite dev`` (what ``ops/run`` runs) on ``folder``, serving on a free port, with the
    demo city; its output goes to ``logs``/dev.log, its log lines to ``logs``/dev.err."""
    port = processes.free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RESPITE_")}
    env |= {"RESPITE_DATA_DIR": str(folder), "RESPITE_PORT": str(port)}
    stderr = logs / "dev.err"
    with (logs / "dev.log").open("wb") as log, stderr.open("wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "respite.cli", "dev"], env=env, stdout=log, stderr=err
        )
    running = Dev(folder, process, f"http://127.0.0.1:{port}", stderr)

    def ready() -> bool:
        assert process.poll() is None, stderr.read_text()
        try:
            return running.get("/health/ready").status_code == 200
        except httpx.TransportError:
            return False

    try:
        assert processes.wait_for(ready, 120), stderr.read_text()
        yield running
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)  # Ctrl-C, as ops/run is stopped
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture
def first_dev(folder: Path, tmp_path: Path) -> Iterator[Dev]:
    """The first ``respite dev`` on a folder: it makes the database and seeds the demo city."""
    with running_dev(folder, tmp_path) as running:
        yield running


@pytest.fixture(scope="module")
def first_run() -> Iterator[Path]:
    """A data folder as the first ``respite dev`` on it leaves it, stopped. That first run
    (migrations, 1,500 beds and 2,000 elders seeded) is most of a dev's start-up: a test that
    only needs a running dev runs one on a copy (``dev``)."""
    with scratch_folder("respite-cli-", 0o711) as path:
        with running_dev(path / "data", path):
            assert "no database under" in (path / "dev.err").read_text()
        yield path / "data"


@pytest.fixture
def dev(first_run: Path, folder: Path, tmp_path: Path) -> Iterator[Dev]:
    # cp -a: PostgreSQL serves only a data folder owned by its user, with its modes.
    subprocess.run(["cp", "-a", str(first_run), str(folder)], check=True)
    with running_dev(folder, tmp_path) as running:
        yield running


def test_every_command_uses_the_servers_of_a_running_dev_and_never_stops_them(dev: Dev) -> None:
    postmaster = dev.postmaster()
    created = _respite(dev.folder, "token", "create", "--role", "admin", "--name", "ops on call")
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    me = dev.get("/v1/auth/me", token)
    assert me.status_code == 200 and me.json()["name"] == "ops on call"
    for command in (["migrate"], ["seed"]):
        ran = _respite(dev.folder, *command)
        assert ran.returncode == 0, (command, ran.stderr)
        assert "making one" not in ran.stderr
    beds = dev.folder.parent / "beds.csv"
    beds.write_text("label,kind,sex_rule,nightly_price\nCLI-1,respite,any,18000\n")
    imported = _respite(dev.folder, "import-beds", str(beds), "--facility", "1")
    assert imported.returncode == 0, imported.stderr
    assert dev.postmaster() == postmaster and processes.alive(postmaster)
    assert dev.get("/health/ready").status_code == 200
    assert dev.get("/v1/auth/me", token).status_code == 200

    listed = _respite(dev.folder, "token", "list")
    assert listed.returncode == 0, listed.stderr
    assert "rsp_" not in listed.stdout and token not in listed.stdout
    (line,) = [line for line in listed.stdout.splitlines() if "ops on call" in line]
    token_id = line.split()[0]
    assert line.split()[1:5] == ["admin", "-", "never", "live"]
    assert _respite(dev.folder, "token", "revoke", token_id).returncode == 0
    assert dev.get("/v1/auth/me", token).status_code == 401
    again = _respite(dev.folder, "token", "revoke", token_id)
    assert again.returncode == 1 and f"no live token with id {token_id}" in again.stderr
    (line,) = [
        line
        for line in _respite(dev.folder, "token", "list").stdout.splitlines()
        if "ops on call" in line
    ]
    assert line.split()[4] == "revoked"
    assert dev.postmaster() == postmaster and dev.get("/health/ready").status_code == 200


def test_a_stopped_dev_leaves_no_record_and_its_folder_serves_the_cli_alone(
    first_dev: Dev,
) -> None:
    assert (first_dev.folder / RECORD).exists()
    postmaster = first_dev.postmaster()
    first_dev.process.send_signal(signal.SIGINT)
    first_dev.process.wait(30)
    # From making its database to stopping, each line on stderr was one JSON log line.
    entries = [json.loads(line) for line in first_dev.stderr.read_text().splitlines()]
    messages = {(e["logger"], e["message"]) for e in entries}
    assert ("respite.db", "applied migration 0001_domain") in messages
    assert ("uvicorn.error", "Application shutdown complete.") in messages
    assert not (first_dev.folder / RECORD).exists()
    assert processes.wait_for(lambda: not processes.alive(postmaster), 10)
    created = _respite(first_dev.folder, "token", "create", "--role", "admin", "--name", "later")
    assert created.returncode == 0, created.stderr
    assert "later" in _respite(first_dev.folder, "token", "list").stdout
    assert not processes.postgres_processes_in((first_dev.folder / "postgres").resolve())


def test_a_record_left_by_a_killed_dev_is_not_believed(dev: Dev) -> None:
    postmaster = dev.postmaster()
    dev.process.kill()
    dev.process.wait()
    assert (dev.folder / RECORD).exists()  # no chance to remove it
    # Its servers stop by themselves; none is stopped by the command, which starts its own.
    listed = _respite(dev.folder, "token", "list")
    assert listed.returncode == 0, listed.stderr
    assert "demo admin" in listed.stdout
    assert not processes.alive(postmaster)


@pytest.mark.parametrize(
    "command",
    [
        ["token", "create", "--role", "admin"],
        ["token", "list"],
        ["token", "revoke", "1"],
        ["import-beds", "/dev/null", "--facility", "1"],
    ],
)
def test_a_command_on_a_folder_without_a_database_makes_none(
    folder: Path, command: list[str]
) -> None:
    ran = _respite(folder, *command)
    assert ran.returncode == 2
    assert f"no respite database under {folder}" in ran.stderr
    assert not folder.exists()
