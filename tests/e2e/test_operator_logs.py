"""What operators read in the logs: a line for each refused confirm (the hold, the bed when the
problem names it, the problem type) and for each override used at the desk (the booking, the
rules, who), and the problem type on every problem answer's access line — never the elder's
name, phone, national ID or address, nor the words of an override reason."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import httpx
import msgspec
import pytest

from respite.observability import JsonFormatter
from tests import builders
from tests.conftest import MakeToken
from tests.e2e.test_recipients_api import ELDER, NATIONAL_ID
from tests.e2e.test_walk_in import OVERRIDE, PRICE

PERSONAL = (ELDER["name"], ELDER["home_address"], NATIONAL_ID, "1234 5678", "12345678", "李明")


def assert_nothing_personal(records: list[logging.LogRecord], *also: str) -> None:
    formatter = JsonFormatter()
    text = "\n".join(f"{r.getMessage()} {vars(r)!r} {formatter.format(r)}" for r in records)
    for value in (*PERSONAL, *also):
        assert value not in text, f"{value!r} reached the logs"


def lines(records: list[logging.LogRecord], logger: str) -> list[logging.LogRecord]:
    return [r for r in records if r.name == logger]


async def register(client: httpx.AsyncClient, headers: dict[str, str]) -> int:
    # Needs no bed of the builders has: the elder fits any.
    elder_of_the_test = {**ELDER, "needs": [], "pressure_injury_stage": 0}
    created = await client.post("/v1/care-recipients", json=elder_of_the_test, headers=headers)
    assert created.status_code == 201, created.text
    elder: int = created.json()["id"]
    return elder


async def assess(db: Any, elder: int) -> None:
    on = builders.today() - timedelta(days=30)
    await db.execute(
        "INSERT INTO assessments (care_recipient_id, total, base_level, level, assessed_on,"
        " valid_until) VALUES ($1, 50, 2, 2, $2, $3)",
        elder,
        on,
        on + timedelta(days=365),
    )


class Scene(msgspec.Struct):
    facility: int
    bed: int
    elder: int
    family: dict[str, str]
    staff: dict[str, str]


@pytest.fixture
async def scene(client: httpx.AsyncClient, db: Any, make_token: MakeToken) -> Scene:
    facility = await builders.facility(db)
    bed = await builders.bed(db, facility, price=PRICE)
    _, family = await make_token("family")
    _, staff = await make_token("staff", facility_id=facility)
    elder = await register(client, family)
    await assess(db, elder)
    return Scene(facility, bed, elder, family, staff)


async def hold(client: httpx.AsyncClient, scene: Scene, first: int) -> dict[str, Any]:
    return await builders.placed_hold(
        client, scene.family, elder=scene.elder, bed=scene.bed, first=first, nights=4
    )


async def confirm(client: httpx.AsyncClient, scene: Scene, held: dict[str, Any]) -> httpx.Response:
    return await client.post(
        f"/v1/holds/{held['hold_id']}/confirm",
        json={"token": held["token"]},
        headers={**scene.family, "Idempotency-Key": f"confirm-{held['hold_id']}"},
    )


async def test_each_refused_confirm_is_logged_with_its_hold_bed_and_problem_type(
    client: httpx.AsyncClient, scene: Scene, caplog: pytest.LogCaptureFixture
) -> None:
    released, repriced = [await hold(client, scene, first) for first in (10, 20)]
    gone = await client.delete(
        f"/v1/holds/{released['hold_id']}",
        headers={**scene.family, "Hold-Token": released["token"]},
    )
    assert gone.status_code == 204
    changed = await client.patch(
        f"/v1/beds/{scene.bed}", json={"nightly_price": PRICE + 100}, headers=scene.staff
    )
    assert changed.status_code == 200, changed.text
    fine = await hold(client, scene, 40)  # at the new price

    with caplog.at_level(logging.INFO):
        assert (await confirm(client, scene, released)).status_code == 409
        assert (await confirm(client, scene, repriced)).status_code == 409
        assert (await confirm(client, scene, fine)).status_code == 201

    refusals = lines(caplog.records, "respite.refusals")
    assert [(r.getMessage(), vars(r)["status"]) for r in refusals] == [
        ("confirm refused: hold-ended", 409),
        ("confirm refused: price-changed", 409),
    ]
    ended, priced = (vars(r) for r in refusals)
    assert (ended["hold_id"], ended["problem"]) == (released["hold_id"], "hold-ended")
    assert (priced["hold_id"], priced["bed_id"]) == (repriced["hold_id"], scene.bed)
    access = [vars(r) for r in lines(caplog.records, "respite.access")]
    assert [a.get("problem") for a in access] == ["hold-ended", "price-changed", None]
    assert all(a["method"] == "POST" and a["path"].endswith("/confirm") for a in access)
    assert_nothing_personal(caplog.records)


async def test_each_override_used_at_the_desk_is_logged_with_booking_rules_and_principal(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken, caplog: pytest.LogCaptureFixture
) -> None:
    facility = await builders.facility(db)
    bed = await builders.bed(db, facility, price=PRICE)
    staff, headers = await make_token("staff", facility_id=facility)
    unassessed = await register(client, headers)  # registered by the facility itself
    today = builders.today()
    walk_in = {
        "care_recipient_id": unassessed,
        "bed_id": bed,
        "check_in": today.isoformat(),
        "check_out": (today + timedelta(days=3)).isoformat(),
        "override_reason": OVERRIDE,
        "overrides": [{"code": "no_assessment"}],
    }
    path = f"/v1/facilities/{facility}/walk-ins"
    with caplog.at_level(logging.INFO):
        booked = await client.post(
            path, json=walk_in, headers={**headers, "Idempotency-Key": "walk-in-1"}
        )
        assert booked.status_code == 201, booked.text
        replayed = await client.post(
            path, json=walk_in, headers={**headers, "Idempotency-Key": "walk-in-1"}
        )
        assert replayed.json()["id"] == booked.json()["id"]

    [line] = lines(caplog.records, "respite.booking")  # once: a replay books nothing
    fields = vars(line)
    booking = booked.json()["id"]
    assert line.levelno == logging.INFO
    assert (fields["booking_id"], fields["rules"]) == (booking, ["no_assessment"])
    assert (fields["principal_id"], fields["role"]) == (staff.id, "staff")
    assert (fields["facility_id"], fields["bed_id"]) == (facility, bed)
    assert_nothing_personal(caplog.records, OVERRIDE)
