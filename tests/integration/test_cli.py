"""The command line and the demo city: tokens minted and revoked by an operator, and a demo
city whose stays stand around the day it is loaded on."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from respite.auth.model import hash_token
from respite.cli import main
from respite.dev import seed
from respite.dev.demo import City
from tests import builders


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
    assert await asyncio.to_thread(main, ["token", "revoke", str(row["id"])]) == 0
    assert capsys.readouterr().out.strip() == f"no live token with id {row['id']}"
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
        on_site = stay["check_in"] <= today < stay["check_out"]
        assert stay["status"] == ("checked_in" if on_site else "confirmed")
    assessed = await db.fetchval("SELECT max(assessed_on) FROM assessments")
    assert assessed <= today

    await seed(database_url, today, city)
    assert "already present" in capsys.readouterr().out
    assert await db.fetchval("SELECT count(*) FROM beds") == 30
