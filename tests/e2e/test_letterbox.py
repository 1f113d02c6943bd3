"""Development's letterbox, the whole way in the running app: with neither an SMTP server nor
an SMS gateway, ``respite dev`` keeps email and SMS as files to read (the demo's forgotten
password works there); the settings say both channels are on; a code read from its file signs
in."""

from __future__ import annotations

import asyncio
import json
import re
from email import message_from_bytes, policy
from pathlib import Path

import httpx
import msgspec
import pytest

from respite.cli import _letterbox
from respite.settings import Settings
from tests.conftest import settings_for

_CODE = re.compile(r"(?<!\d)(\d{6})(?!\d)")


@pytest.fixture
def letterbox(tmp_path: Path) -> Path:
    return tmp_path / "letterbox"


@pytest.fixture
def settings(database_url: str, redis_url: str, letterbox: Path) -> Settings:
    return msgspec.structs.replace(
        settings_for(database_url, redis_url),
        letterbox_dir=str(letterbox),
        notify_poll_seconds=0.05,
    )


async def letter(folder: Path, pattern: str) -> Path:
    """The first file of ``folder`` matching ``pattern``, once the worker has written it."""

    def files() -> list[Path]:
        return sorted(folder.glob(pattern))

    # The app's worker writes it and tells nobody: look again until it is there (the timeout
    # bounds a hang; it is not a timed assertion).
    async with asyncio.timeout(10):
        while not (found := await asyncio.to_thread(files)):  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    return found[0]


async def test_codes_by_email_and_sms_land_in_the_letterbox_and_work(
    client: httpx.AsyncClient, letterbox: Path
) -> None:
    for login in ("li@example.test", "139 1234 5678"):
        key = "email" if "@" in login else "phone"
        registered = await client.post(
            "/v1/auth/register", json={"name": "Li", "password": "a long password", key: login}
        )
        assert registered.status_code == 201, registered.text
    asked = await client.post(
        "/v1/auth/codes", json={"login": "li@example.test", "purpose": "sign_in"}
    )
    assert asked.status_code == 202, asked.text
    email = message_from_bytes(
        (await letter(letterbox, "*-email.eml")).read_bytes(), policy=policy.default
    )
    assert email["To"] == "li@example.test"
    found = _CODE.search(str(email.get_body(("plain",)).get_content()))  # type: ignore[union-attr]
    assert found is not None
    signed_in = await client.post(
        "/v1/auth/signin/code", json={"login": "li@example.test", "code": found.group(1)}
    )
    assert signed_in.status_code == 200, signed_in.text

    await client.post("/v1/auth/codes", json={"login": "13912345678", "purpose": "sign_in"})
    sms = json.loads((await letter(letterbox, "*-sms.json")).read_text())
    assert sms["to"] == "+8613912345678" and _CODE.search(sms["text"])
    me = {"Authorization": f"Bearer {signed_in.json()['token']}"}
    chosen = await client.get("/v1/me/notification-settings", headers=me)
    assert chosen.json()["deployment_channels"] == ["email", "sms"]


def test_respite_dev_uses_the_letterbox_only_when_nothing_sends(tmp_path: Path) -> None:
    bare = Settings(data_dir=str(tmp_path))
    assert _letterbox(bare).letterbox_dir == str(tmp_path / "letterbox")
    mail = Settings(data_dir=str(tmp_path), smtp_host="smtp.example.test")
    assert _letterbox(mail).letterbox_dir is None
