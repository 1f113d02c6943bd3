"""``respite places import FILE``: a bad file imports nothing and says why; a good one replaces
the gazetteer whole."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from respite.cli import main
from respite.dev.city import GAZETTEER_FILE


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, database_url: str, redis_url: str) -> None:
    monkeypatch.setenv("RESPITE_DATABASE_URL", database_url)
    monkeypatch.setenv("RESPITE_REDIS_URL", redis_url)


async def test_the_shanghai_file_imports_and_replaces_what_was_there(
    cli_env: None, db: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    one = tmp_path / "one.json"
    one.write_text(
        json.dumps(
            {
                "coordinate_system": "GCJ-02",
                "places": [
                    {
                        "id": 1,
                        "kind": "district",
                        "name": "某区",
                        "name_en": "Some District",
                        "lat": 31.0,
                        "lon": 121.0,
                        "radius_m": 3000,
                    }
                ],
            }
        ),
        encoding="utf-8",
    )
    assert await asyncio.to_thread(main, ["places", "import", str(one)]) == 0
    assert await db.fetchval("SELECT count(*) FROM places") == 1

    assert await asyncio.to_thread(main, ["places", "import", str(GAZETTEER_FILE)]) == 0

    out = capsys.readouterr().out
    assert "imported the gazetteer: 16 district(s), " in out and "(GCJ-02)" in out
    kinds = dict(await db.fetch("SELECT kind, count(*) FROM places GROUP BY kind"))
    assert kinds["district"] == 16 and kinds["street"] >= 80
    assert await db.fetchval("SELECT count(*) FROM places WHERE id = 1") == 0
    assert await db.fetchval("SELECT count(*) FROM audit_log WHERE entity = 'gazetteer'") == 2


async def test_a_bad_file_imports_nothing_and_lists_every_problem(
    cli_env: None, db: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await asyncio.to_thread(main, ["places", "import", str(GAZETTEER_FILE)]) == 0
    before = await db.fetchval("SELECT count(*) FROM places")
    document = json.loads(GAZETTEER_FILE.read_bytes())
    streets = [p for p in document["places"] if p["kind"] == "street"]
    streets[0]["lat"], streets[0]["lon"] = 30.75, 121.30  # a Huangpu street in Jinshan
    streets[1]["parent"] = 42
    streets[2]["lat"] = 121.4  # lon written as lat
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")

    with pytest.raises(SystemExit) as exited:
        await asyncio.to_thread(main, ["places", "import", str(bad)])

    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert f"(id {streets[0]['id']}) It lies " in err and "from the centre of 黄浦区" in err
    assert f"(id {streets[1]['id']}) A street needs the id of a place" in err
    assert f"(id {streets[2]['id']}) This place is not valid" in err
    assert "nothing was imported (3 problem(s))" in err
    assert await db.fetchval("SELECT count(*) FROM places") == before


async def test_a_file_in_the_other_coordinate_system_is_refused(
    cli_env: None, db: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = json.loads(GAZETTEER_FILE.read_bytes())
    document["coordinate_system"] = "WGS-84"
    wgs = tmp_path / "wgs.json"
    wgs.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(SystemExit):
        await asyncio.to_thread(main, ["places", "import", str(wgs)])
    assert "in WGS-84, but this service uses GCJ-02" in capsys.readouterr().err
    assert await db.fetchval("SELECT count(*) FROM places") == 0
