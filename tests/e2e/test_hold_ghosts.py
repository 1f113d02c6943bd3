"""No ghost holds: a hold request that fails after (or before) Redis took the hold leaves
nothing in Redis and uses none of the principal's slots, and its retry with the same key
succeeds. The failure is caused for real: a trigger in the test's own database refuses the
audit entry of the hold, either at once or at commit, after Redis took the hold."""

from datetime import timedelta
from typing import Any

import httpx
import msgspec
import pytest
import redis.asyncio as redis

from respite.auth.model import Principal
from respite.holds.store import facility_key, principal_key
from tests import builders
from tests.conftest import MakeToken

REFUSE_HOLD_AUDIT = """
CREATE FUNCTION refuse_hold_audit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.entity = 'hold' THEN
        RAISE EXCEPTION 'the audit log refuses holds in this test';
    END IF;
    RETURN NEW;
END $$
"""
# At once, while the request is still in PostgreSQL; or deferred to COMMIT, the request's very
# last step, after Redis took the hold.
TRIGGERS = {
    "at_once": "CREATE TRIGGER refuse_hold_audit BEFORE INSERT ON audit_log"
    " FOR EACH ROW EXECUTE FUNCTION refuse_hold_audit()",
    "at_commit": "CREATE CONSTRAINT TRIGGER refuse_hold_audit AFTER INSERT ON audit_log"
    " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION refuse_hold_audit()",
}


class Family(msgspec.Struct):
    principal: Principal
    headers: dict[str, str]
    body: dict[str, Any]


@pytest.fixture
async def redis_client(redis_url: str) -> Any:
    client = redis.Redis.from_url(redis_url)
    try:
        yield client
    finally:
        await client.aclose()


async def family(db: Any, make_token: MakeToken, bed: int, **stay: Any) -> Family:
    principal, headers = await make_token("family")
    elder = await builders.recipient(db, family_id=principal.id)
    check_in = builders.today() + timedelta(days=7)
    body = {
        "care_recipient_id": elder,
        "bed_id": bed,
        "check_in": check_in.isoformat(),
        "check_out": (check_in + timedelta(days=3)).isoformat(),
        **stay,
    }
    return Family(principal, headers, body)


@pytest.mark.parametrize("when", sorted(TRIGGERS))
async def test_a_failed_hold_leaves_no_ghost_and_its_retry_holds(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken, redis_client: Any, when: str
) -> None:
    facility = await builders.facility(db)
    bed = await builders.bed(db, facility)
    first = await family(db, make_token, bed)
    await db.execute(REFUSE_HOLD_AUDIT)
    await db.execute(TRIGGERS[when])
    keyed = {**first.headers, "Idempotency-Key": "hold-1"}

    failed = await client.post("/v1/holds", json=first.body, headers=keyed)
    assert failed.status_code == 500, failed.text
    assert failed.headers["content-type"].startswith("application/problem+json")
    assert failed.json()["type"] == "/problems/internal"
    assert await redis_client.hlen(facility_key(facility)) == 0, "a ghost holds the bed"
    assert await redis_client.zcard(principal_key(first.principal.id)) == 0, "a slot is used"
    assert await db.fetchval("SELECT count(*) FROM idempotency_keys") == 0

    await db.execute("DROP TRIGGER refuse_hold_audit ON audit_log")
    retried = await client.post("/v1/holds", json=first.body, headers=keyed)
    assert retried.status_code == 201, retried.text
    hold = retried.json()
    assert await redis_client.zcard(principal_key(first.principal.id)) == 1

    second = await family(db, make_token, bed)
    held = await client.post("/v1/holds", json=second.body, headers=second.headers)
    assert held.status_code == 409 and held.json()["type"] == "/problems/bed-held"
    released = await client.delete(
        f"/v1/holds/{hold['hold_id']}", headers={**first.headers, "Hold-Token": hold["token"]}
    )
    assert released.status_code == 204
    assert (
        await client.post("/v1/holds", json=second.body, headers=second.headers)
    ).status_code == 201


async def test_failed_holds_never_count_against_the_cap(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken, redis_client: Any
) -> None:
    """More failures than a family's three slots, then three holds: none was used up."""
    facility = await builders.facility(db)
    beds = [await builders.bed(db, facility) for _ in range(3)]
    first = await family(db, make_token, beds[0])
    await db.execute(REFUSE_HOLD_AUDIT)
    await db.execute(TRIGGERS["at_commit"])
    for _ in range(4):
        failed = await client.post("/v1/holds", json=first.body, headers=first.headers)
        assert failed.status_code == 500, failed.text
    await db.execute("DROP TRIGGER refuse_hold_audit ON audit_log")
    for bed in beds:
        placed = await client.post(
            "/v1/holds", json={**first.body, "bed_id": bed}, headers=first.headers
        )
        assert placed.status_code == 201, placed.text
    assert await redis_client.hlen(facility_key(facility)) == 3
