"""What the real ``respite serve`` writes on stderr, from start to a Ctrl-C: one JSON object a
line, uvicorn's own lines and the access lines included, each with an ISO 8601 time with
milliseconds and zone, no terminal colour anywhere, and nothing personal of what went through
it. And ``respite --version``. The real command line, as subprocesses, on the suite's servers."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest

from respite.dev import processes
from tests.e2e.test_recipients_api import ELDER, NATIONAL_ID
from tests.integration.test_cli_secrets import NEW, SECRET

ISO_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}(Z|[+-]\d\d:\d\d)$")
METRICS_TOKEN = "a-metrics-token-of-the-suite-long-enough"
FAMILY = {"name": "Zhang Wei", "password": "a long password", "phone": "+86 138 0013 8000"}
PERSONAL = (
    ELDER["name"],
    ELDER["home_address"],
    ELDER["emergency_contact_name"],
    NATIONAL_ID,
    "1234 5678",
    FAMILY["name"],
    FAMILY["password"],
    "0013 8000",
)


class Served(msgspec.Struct):
    url: str
    process: subprocess.Popen[bytes]
    stderr: Path

    def stop(self) -> list[dict[str, Any]]:
        """Ctrl-C, as an operator would; every line it wrote on stderr, parsed."""
        self.process.send_signal(signal.SIGINT)
        assert self.process.wait(30) == 0
        raw = self.stderr.read_bytes()
        assert b"\x1b" not in raw, "a terminal colour code on stderr"
        entries = []
        for line in raw.decode().splitlines():
            entry = json.loads(line)  # fails on any line that is not JSON
            assert isinstance(entry, dict), line
            entries.append(entry)
        return entries


@pytest.fixture
def served(database_url: str, redis_url: str, tmp_path: Path) -> Iterator[Served]:
    port = processes.free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RESPITE_")}
    env |= {
        "RESPITE_DATABASE_URL": database_url,
        "RESPITE_REDIS_URL": redis_url,
        "RESPITE_SECRET_KEY": SECRET,
        "RESPITE_ID_KEY": NEW,
        "RESPITE_METRICS_TOKEN": METRICS_TOKEN,
        "RESPITE_PORT": str(port),
    }
    stderr = tmp_path / "stderr.log"
    with stderr.open("wb") as err, (tmp_path / "stdout.log").open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "respite.cli", "serve"], env=env, stdout=out, stderr=err
        )
    served = Served(f"http://127.0.0.1:{port}", process, stderr)

    def ready() -> bool:
        assert process.poll() is None, stderr.read_text()
        try:
            return httpx.get(served.url + "/health/ready", timeout=5).status_code == 200
        except httpx.TransportError:
            return False

    try:
        assert processes.wait_for(ready, 60), stderr.read_text()
        yield served
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_serve_logs_one_json_object_a_line_without_colour_or_personal_data(
    served: Served,
) -> None:
    with httpx.Client(base_url=served.url, timeout=10) as http:
        assert http.get("/health/live").status_code == 200
        assert http.get("/no/such/path").status_code == 404
        assert http.get("/v1/bookings", headers={"Authorization": "Bearer nope"}).status_code == 401
        registered = http.post("/v1/auth/register", json=FAMILY)
        assert registered.status_code == 201, registered.text
        family = {"Authorization": f"Bearer {registered.json()['token']}"}
        assert http.post("/v1/care-recipients", json=ELDER, headers=family).status_code == 201
        again = http.post("/v1/care-recipients", json=ELDER, headers=family)
        assert again.status_code == 409  # the same national ID: a problem answer
        metrics = http.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
        assert metrics.status_code == 200 and "respite_figures_up 1.0" in metrics.text

    entries = served.stop()
    for entry in entries:
        assert {"time", "level", "logger", "message"} <= entry.keys(), entry
        assert ISO_TIME.match(entry["time"]), entry["time"]
        assert "\x1b" not in json.dumps(entry, ensure_ascii=False), entry
    loggers = {entry["logger"] for entry in entries}
    assert {"uvicorn.error", "respite.access", "respite.cli"} <= loggers
    access = {(e["path"], e["status"]): e for e in entries if e["logger"] == "respite.access"}
    assert {("/health/live", 200), ("/no/such/path", 404), ("/v1/bookings", 401)} <= access.keys()
    assert access[("/v1/care-recipients", 409)]["problem"] == "duplicate-national-id"
    # Every routed answer carries its request id, the 401 of authentication too.
    assert all(e["request_id"] for (path, _), e in access.items() if path != "/no/such/path")
    started = [e for e in entries if e["logger"] == "respite.cli" and "serving" in e["message"]]
    assert [e["version"] for e in started] == [version("respite")]
    text = served.stderr.read_text()
    for value in PERSONAL:
        assert value not in text, f"{value!r} reached the logs"
    assert SECRET not in text and METRICS_TOKEN not in text


def test_version_prints_the_installed_package_version() -> None:
    ran = subprocess.run(
        [sys.executable, "-m", "respite.cli", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == f"respite {version('respite')}"
