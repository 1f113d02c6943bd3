"""``respite serve`` on servers of its own refuses the public development secrets, naming what
to set, and starts with real ones; ``respite rotate-id-key`` as an operator runs it. The real
command line, as a subprocess, against the suite's private servers given as real URLs."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from respite.crypto import cipher_for, key_id_of
from respite.dev import processes
from respite.settings import Settings
from tests import builders

SECRET = "a-secret-of-the-suite-long-enough-for-production"
OLD = base64.b64encode(os.urandom(32)).decode()
NEW = base64.b64encode(os.urandom(32)).decode()


@pytest.fixture
def real_urls(database_url: str, redis_url: str) -> dict[str, str]:
    """The environment of an operator's shell on servers of its own (no RESPITE_* else)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RESPITE_")}
    return {**env, "RESPITE_DATABASE_URL": database_url, "RESPITE_REDIS_URL": redis_url}


def _respite(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "respite.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("given", "named"),
    [
        ({}, ["RESPITE_SECRET_KEY", "RESPITE_ID_KEY"]),
        ({"RESPITE_SECRET_KEY": SECRET}, ["RESPITE_ID_KEY"]),
        ({"RESPITE_ID_KEY": NEW}, ["RESPITE_SECRET_KEY"]),
        (
            {"RESPITE_ID_KEY": NEW, "RESPITE_SECRET_KEY": "dev-only-secret-change-me"},
            ["RESPITE_SECRET_KEY"],
        ),
    ],
)
def test_serve_on_real_servers_refuses_the_public_defaults_naming_the_variable(
    real_urls: dict[str, str], given: dict[str, str], named: list[str]
) -> None:
    ran = _respite({**real_urls, **given, "RESPITE_PORT": str(processes.free_port())}, "serve")
    assert ran.returncode == 2
    (line,) = ran.stderr.splitlines()  # a log line, as everything serve writes on stderr
    entry = json.loads(line)
    assert (entry["level"], entry["logger"]) == ("ERROR", "respite.cli")
    message = entry["message"]
    assert message.startswith("production (RESPITE_DATABASE_URL")
    for variable in named:
        assert variable in message
    if "RESPITE_ID_KEY" not in named:
        assert "RESPITE_ID_KEY (" not in message
    assert "serving" not in ran.stdout


@pytest.fixture
def served(real_urls: dict[str, str], tmp_path: Path) -> Iterator[str]:
    """``respite serve`` with real secrets, on a free port: its base URL."""
    port = processes.free_port()
    env = {**real_urls, "RESPITE_SECRET_KEY": SECRET, "RESPITE_ID_KEY": NEW}
    env |= {"RESPITE_PORT": str(port), "RESPITE_WEBHOOK_WORKER": "false"}
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "respite.cli", "serve"], env=env, stdout=out, stderr=out
        )
    url = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        assert process.poll() is None, log.read_text()
        try:
            return httpx.get(url + "/health/ready", timeout=5).status_code == 200
        except httpx.TransportError:
            return False

    try:
        assert processes.wait_for(ready, 60), log.read_text()
        yield url
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def test_serve_on_real_servers_starts_with_real_secrets(served: str, db: Any) -> None:
    async with httpx.AsyncClient(base_url=served, timeout=5) as http:
        assert (await http.get("/health/ready")).status_code == 200
    # The identifier key it serves with is recorded as key 1.
    check = await db.fetchval("SELECT check_value FROM identifier_keys WHERE id = 1")
    assert cipher_for(Settings(id_key=NEW)).opens_check(1, check)


async def test_an_operator_rotates_the_identifier_key_and_may_run_it_again(
    real_urls: dict[str, str], db: Any
) -> None:
    elder = await builders.recipient(db, level=None)
    sealed = cipher_for(Settings(id_key=OLD)).encrypt("national_id", "11010519491231002X")
    await db.execute("UPDATE care_recipients SET national_id_enc = $2 WHERE id = $1", elder, sealed)
    keys = {"RESPITE_ID_KEY": NEW, "RESPITE_ID_KEY_ID": "2", "RESPITE_ID_KEY_PREVIOUS": OLD}

    ran = _respite({**real_urls, **keys}, "rotate-id-key", "--batch", "10")
    assert ran.returncode == 0, ran.stderr
    assert "care_recipients.national_id: 1 re-encrypted" in ran.stdout
    assert "every stored identifier is under key 2" in ran.stdout
    row = await db.fetchrow(
        "SELECT national_id_enc, national_id_key_id FROM care_recipients WHERE id = $1", elder
    )
    assert row["national_id_key_id"] == key_id_of(row["national_id_enc"]) == 2
    assert cipher_for(Settings(id_key=NEW, id_key_id=2)).decrypt(
        "national_id", row["national_id_enc"]
    ) == ("11010519491231002X")

    again = _respite({**real_urls, **keys}, "rotate-id-key")
    assert again.returncode == 0, again.stderr
    assert "care_recipients.national_id: 0 re-encrypted" in again.stdout

    without = _respite(real_urls, "rotate-id-key")
    assert without.returncode == 2
    assert without.stderr.startswith("respite: RESPITE_ID_KEY is not set")
