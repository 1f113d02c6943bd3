"""Admins register hospital organisations and issue them credentials, several and each
revocable on its own."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import MakeToken
from tests.e2e.test_problems import assert_problem


async def test_an_admin_issues_and_revokes_a_hospitals_credentials(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken
) -> None:
    _, admin = await make_token("admin")
    created = await client.post("/v1/hospitals", json={"name": "瑞金医院"}, headers=admin)
    assert created.status_code == 201, created.text
    hospital = created.json()["id"]
    listed = await client.get("/v1/hospitals", headers=admin)
    assert [h["name"] for h in listed.json()["items"]] == ["瑞金医院"]

    tokens = {}
    for label in ("HIS production", "HIS staging"):
        issued = await client.post(
            f"/v1/hospitals/{hospital}/credentials", json={"label": label}, headers=admin
        )
        assert issued.status_code == 201, issued.text
        assert issued.json()["token"].startswith("rsp_")
        tokens[label] = (issued.json()["id"], {"Authorization": f"Bearer {issued.json()['token']}"})
    for _, headers in tokens.values():
        me = (await client.get("/v1/auth/me", headers=headers)).json()
        assert (me["role"], me["hospital_id"]) == ("hospital", hospital)

    credentials = (await client.get(f"/v1/hospitals/{hospital}/credentials", headers=admin)).json()
    assert [c["label"] for c in credentials] == ["HIS production", "HIS staging"]
    assert all("token" not in c and c["revoked_at"] is None for c in credentials)

    staging_id, staging = tokens["HIS staging"]
    revoked = await client.delete(
        f"/v1/hospitals/{hospital}/credentials/{staging_id}", headers=admin
    )
    assert revoked.status_code == 204
    assert (await client.get("/v1/auth/me", headers=staging)).status_code == 401
    assert (await client.get("/v1/auth/me", headers=tokens["HIS production"][1])).status_code == 200
    audit = await db.fetch("SELECT action FROM audit_log WHERE entity = 'credential' ORDER BY id")
    assert [a["action"] for a in audit] == ["issue", "issue", "revoke"]


async def test_credentials_are_scoped_to_their_hospital_and_admins_only(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken
) -> None:
    _, admin = await make_token("admin")
    first = (await client.post("/v1/hospitals", json={"name": "A"}, headers=admin)).json()["id"]
    second = (await client.post("/v1/hospitals", json={"name": "B"}, headers=admin)).json()["id"]
    issued = await client.post(
        f"/v1/hospitals/{first}/credentials", json={"label": "HIS"}, headers=admin
    )
    credential = issued.json()["id"]
    hospital_headers = {"Authorization": f"Bearer {issued.json()['token']}"}

    wrong = await client.delete(f"/v1/hospitals/{second}/credentials/{credential}", headers=admin)
    assert_problem(wrong, 404, "not-found")
    assert_problem(
        await client.post("/v1/hospitals/999999/credentials", json={"label": "x"}, headers=admin),
        404,
        "not-found",
    )
    assert_problem(await client.get("/v1/hospitals", headers=hospital_headers), 403, "forbidden")
    _, other_admin = await make_token("admin")
    before = await db.fetchval("SELECT count(*) FROM tokens")
    for body in ({"label": "  "}, {"label": ""}, {"label": 7}, {}):
        refused = await client.post(
            f"/v1/hospitals/{first}/credentials", json=body, headers=other_admin
        )
        assert_problem(refused, 422, "invalid-input")
        assert refused.json()["errors"][0]["field"] == "label"
    assert_problem(
        await client.post("/v1/hospitals", json={"name": " "}, headers=admin), 422, "invalid-input"
    )
    assert await db.fetchval("SELECT count(*) FROM tokens") == before
    assert await db.fetchval("SELECT count(*) FROM hospitals") == 2
