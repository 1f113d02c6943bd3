"""An Idempotency-Key belongs to the organisation, not to one credential: two credentials of
one hospital (or two staff members of one facility) retrying one request make one thing, while
two organisations, two family accounts or two admins never share a key."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest

from tests import builders
from tests.conftest import MakeToken
from tests.e2e.test_problems import assert_problem
from tests.e2e.test_webhook_receiver import Hospital, hospital, refer, site

TABLES = ("referrals", "care_recipients", "assessments", "idempotency_keys", "audit_log")


async def counts(db: Any) -> dict[str, int]:
    return {t: int(await db.fetchval(f"SELECT count(*) FROM {t}")) for t in TABLES}


async def another_credential(
    client: httpx.AsyncClient, admin: dict[str, str], of: Hospital
) -> Hospital:
    issued = await client.post(
        f"/v1/hospitals/{of.id}/credentials", json={"label": "HIS standby"}, headers=admin
    )
    assert issued.status_code == 201, issued.text
    token = issued.json()["token"]
    return Hospital(of.id, {"Authorization": f"Bearer {token}"}, issued.json()["id"])


@pytest.fixture
async def admin(make_token: MakeToken) -> dict[str, str]:
    _, headers = await make_token("admin")
    return headers


async def test_two_credentials_of_one_hospital_retrying_one_referral_make_one(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken, admin: dict[str, str]
) -> None:
    await site(db, make_token)
    production = await hospital(client, admin)
    standby = await another_credential(client, admin, production)

    first = await refer(client, production, key="his-42")
    assert first.status_code == 201, first.text
    written = await counts(db)
    second = await refer(client, standby, key="his-42")
    assert second.status_code == 201, second.text
    assert second.json()["referral"] == first.json()["referral"]
    assert await counts(db) == written
    assert await db.fetchval("SELECT count(*) FROM referrals") == 1
    assert await db.fetchval("SELECT count(*) FROM care_recipients") == 1


async def test_two_credentials_at_once_make_one_referral(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken, admin: dict[str, str]
) -> None:
    await site(db, make_token)
    production = await hospital(client, admin)
    credentials = [production] + [
        await another_credential(client, admin, production) for _ in range(3)
    ]
    answers = await asyncio.gather(
        *(refer(client, credential, key="his-43") for credential in credentials * 3)
    )
    assert [a.status_code for a in answers] == [201] * 12, [a.text for a in answers]
    assert len({a.json()["referral"]["id"] for a in answers}) == 1
    assert await db.fetchval("SELECT count(*) FROM referrals") == 1
    assert await db.fetchval("SELECT count(*) FROM care_recipients") == 1


async def test_another_body_with_the_key_through_the_other_credential_is_refused(
    client: httpx.AsyncClient, db: Any, admin: dict[str, str]
) -> None:
    production = await hospital(client, admin)
    standby = await another_credential(client, admin, production)
    assert (await refer(client, production, key="his-44")).status_code == 201
    before = await counts(db)
    reused = await refer(client, standby, key="his-44", nights=6)
    assert_problem(reused, 422, "invalid-input")
    assert [e["field"] for e in reused.json()["errors"]] == ["Idempotency-Key"]
    assert await counts(db) == before


async def test_two_hospitals_with_the_same_key_are_independent(
    client: httpx.AsyncClient, db: Any, admin: dict[str, str]
) -> None:
    ruijin = await hospital(client, admin, "瑞金医院")
    huashan = await hospital(client, admin, "华山医院")
    first = await refer(client, ruijin, key="his-45")
    other = await refer(client, huashan, key="his-45", nights=6)
    assert (first.status_code, other.status_code) == (201, 201), (first.text, other.text)
    assert first.json()["referral"]["id"] != other.json()["referral"]["id"]
    assert other.json()["referral"]["nights"] == 6
    assert await db.fetchval("SELECT count(*) FROM referrals") == 2
    scopes = await db.fetch("SELECT scope FROM idempotency_keys WHERE key = 'his-45'")
    assert sorted(r["scope"] for r in scopes) == sorted(
        [f"hospital:{ruijin.id}", f"hospital:{huashan.id}"]
    )


def walk_in(bed: int, elder: int) -> dict[str, Any]:
    today = builders.today()
    return {
        "care_recipient_id": elder,
        "bed_id": bed,
        "check_in": today.isoformat(),
        "check_out": (today + timedelta(days=2)).isoformat(),
    }


async def test_two_staff_of_one_facility_share_its_keys(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken
) -> None:
    facility = await builders.facility(db)
    bed = await builders.bed(db, facility)
    elder = await builders.recipient(db, facility_id=facility)
    _, morning = await make_token("staff", facility_id=facility)
    _, evening = await make_token("staff", facility_id=facility)
    url = f"/v1/facilities/{facility}/walk-ins"
    first = await client.post(
        url, json=walk_in(bed, elder), headers={**morning, "Idempotency-Key": "desk-1"}
    )
    again = await client.post(
        url, json=walk_in(bed, elder), headers={**evening, "Idempotency-Key": "desk-1"}
    )
    assert (first.status_code, again.status_code) == (201, 201), (first.text, again.text)
    assert again.json() == first.json()
    assert await db.fetchval("SELECT count(*) FROM bookings") == 1


@pytest.mark.parametrize("role", ["admin", "family"])
async def test_admins_and_family_accounts_each_have_their_own_keys(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken, role: str
) -> None:
    """Two admins (or two families) using one key for two requests each get their own."""
    facility = await builders.facility(db)
    beds = [await builders.bed(db, facility) for _ in range(2)]
    results = []
    for bed in beds:
        principal, headers = await make_token(role)
        owner = principal.id if role == "family" else None
        elder = await builders.recipient(
            db, family_id=owner, facility_id=None if owner else facility
        )
        if role == "family":
            path, body = "/v1/holds", walk_in(bed, elder)
        else:
            path, body = f"/v1/facilities/{facility}/walk-ins", walk_in(bed, elder)
        response = await client.post(path, json=body, headers={**headers, "Idempotency-Key": "k-1"})
        assert response.status_code == 201, response.text
        results.append(response.json())
    assert results[0] != results[1]
    assert await db.fetchval("SELECT count(*) FROM idempotency_keys WHERE key = 'k-1'") == 2
