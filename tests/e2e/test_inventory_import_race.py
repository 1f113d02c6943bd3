"""A bed import racing a bed of the same label written meanwhile: nothing of the file lands,
and the answer names the conflict (409 ``beds-changed-during-import``) instead of a 500."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from respite.db import connect
from tests import builders
from tests.conftest import MakeToken
from tests.e2e.test_problems import assert_problem

HEADER = "label,kind,sex_rule,nightly_price,capabilities,pressure_care_stage,active\n"


async def test_a_bed_written_during_the_import_refuses_the_whole_file(
    client: httpx.AsyncClient, db: Any, database_url: str, make_token: MakeToken
) -> None:
    facility = await builders.facility(db)
    _, staff = await make_token("staff", facility_id=facility)
    file = (HEADER + "".join(f"R-{i},respite,any,20000,,0,\n" for i in range(3))).encode()
    other = await connect(database_url)
    try:
        # Another writer has inserted R-1 but not yet committed: the import does not see it
        # when it checks the labels, then waits on the unique index when it inserts.
        writer = other.transaction()
        await writer.start()
        await builders.bed(other, facility, label="R-1")
        answer = asyncio.create_task(
            client.post(
                f"/v1/facilities/{facility}/beds/import",
                content=file,
                headers={**staff, "content-type": "text/csv"},
            )
        )
        for _ in range(100):
            waiting = await db.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                " AND datname = current_database()"
            )
            if waiting:
                break
            await asyncio.sleep(0.05)
        assert waiting, "the import never reached the conflicting insert"
        await writer.commit()
        problem = assert_problem(await answer, 409, "beds-changed-during-import")
        assert problem["facility_id"] == facility
    finally:
        await other.close()
    labels = await db.fetch("SELECT label FROM beds WHERE facility_id = $1", facility)
    assert [r["label"] for r in labels] == ["R-1"]
