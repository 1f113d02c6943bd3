"""The hold scripts, unchanged, on a real three-master Redis Cluster."""

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import msgspec
import pytest
import redis
from redis.crc import key_slot

from respite.app import create_app
from respite.clock import ManualClock
from respite.holds.store import facility_key
from respite.settings import Settings
from tests import builders
from tests.conftest import MakeToken, serve_in_loop
from tests.folders import scratch_folder
from tests.redis_cluster import ClusterNode, redis_cluster


@pytest.fixture(scope="module")
def cluster() -> Iterator[list[ClusterNode]]:
    with scratch_folder("respite-cluster-") as folder, redis_cluster(folder) as nodes:
        yield nodes


def _owner(nodes: list[ClusterNode], key: str) -> int:
    """The port of the master serving ``key``'s slot."""
    client = redis.Redis(port=nodes[0].port)
    try:
        slots = client.execute_command("CLUSTER SLOTS")  # type: ignore[no-untyped-call]
        for start, end, master, *_ in slots:
            if start <= key_slot(key.encode()) <= end:
                return int(master[1])
    finally:
        client.close()
    raise LookupError(key)


async def test_hold_extend_release_confirm_across_the_slots(
    cluster: list[ClusterNode],
    settings: Settings,
    db: Any,
    make_token: MakeToken,
    clock: ManualClock,
) -> None:
    facilities = [await builders.facility(db) for _ in range(6)]
    owners = {_owner(cluster, facility_key(f)) for f in facilities}
    assert len(owners) >= 2, "the facilities' keys should spread over several masters"
    app = create_app(
        msgspec.structs.replace(
            settings, redis_url=f"redis://127.0.0.1:{cluster[0].port}/0", redis_cluster=True
        ),
        clock=clock,
        configure_logs=False,
    )
    check_in = builders.today() + timedelta(days=5)
    async with serve_in_loop(app) as client:
        assert (await client.get("/health/ready")).status_code == 200
        for facility in facilities:
            bed = await builders.bed(db, facility)
            _, headers = await make_token("staff", facility_id=facility)
            recipient = await builders.recipient(db, facility_id=facility)
            body = {
                "care_recipient_id": recipient,
                "bed_id": bed,
                "check_in": check_in.isoformat(),
                "check_out": (check_in + timedelta(days=3)).isoformat(),
            }
            first = (await client.post("/v1/holds", json=body, headers=headers)).json()
            assert (await client.post("/v1/holds", json=body, headers=headers)).status_code == 409
            extended = await client.post(
                f"/v1/holds/{first['hold_id']}/extend",
                json={"token": first["token"]},
                headers=headers,
            )
            assert extended.status_code == 200, extended.text
            released = await client.delete(
                f"/v1/holds/{first['hold_id']}", headers={**headers, "Hold-Token": first["token"]}
            )
            assert released.status_code == 204
            second = await client.post("/v1/holds", json=body, headers=headers)
            assert second.status_code == 201, second.text
            hold = second.json()
            booked = await client.post(
                f"/v1/holds/{hold['hold_id']}/confirm",
                json={"token": hold["token"]},
                headers={**headers, "Idempotency-Key": "c1"},
            )
            assert booked.status_code == 201, booked.text
    assert await db.fetchval("SELECT count(*) FROM bookings") == len(facilities)


async def test_search_sees_holds_of_facilities_on_every_master(
    cluster: list[ClusterNode],
    settings: Settings,
    db: Any,
    make_token: MakeToken,
    clock: ManualClock,
) -> None:
    facilities = [await builders.facility(db) for _ in range(6)]
    assert len({_owner(cluster, facility_key(f)) for f in facilities}) >= 2
    app = create_app(
        msgspec.structs.replace(
            settings, redis_url=f"redis://127.0.0.1:{cluster[0].port}/0", redis_cluster=True
        ),
        clock=clock,
        configure_logs=False,
    )
    check_in = builders.today() + timedelta(days=5)
    stay = {
        "check_in": check_in.isoformat(),
        "check_out": (check_in + timedelta(days=2)).isoformat(),
    }
    free = set()
    async with serve_in_loop(app) as client:
        for facility in facilities:
            held, other = await builders.bed(db, facility), await builders.bed(db, facility)
            free.add(other)
            _, headers = await make_token("staff", facility_id=facility)
            recipient = await builders.recipient(db, facility_id=facility)
            placed = await client.post(
                "/v1/holds",
                json={"care_recipient_id": recipient, "bed_id": held, **stay},
                headers=headers,
            )
            assert placed.status_code == 201, placed.text
        found = await client.get(
            "/v1/availability",
            params={**stay, "facility_id": facilities, "limit": len(facilities)},
        )
    assert found.status_code == 200, found.text
    page = found.json()
    assert page["holds_unknown"] is False
    offered = {b["bed_id"] for f in page["facilities"] for b in f["beds"]}
    assert offered == free
