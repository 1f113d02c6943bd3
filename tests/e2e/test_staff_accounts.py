"""Staff accounts over the API and the command line: an admin (or an operator) invites a
facility's first manager, who invites front desk colleagues by email or phone; an invitation
is used once, can be withdrawn, expires after 7 days, and keeps only its token's hash; the
invited colleague sets a name and password and signs in like anyone; a manager removes a
front desk colleague, whose every token stops at once. Another facility's team is not found.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest

from respite.auth.model import hash_token
from respite.cli import main
from respite.clock import ManualClock
from respite.retention import Purger
from tests import builders
from tests.conftest import MakeToken
from tests.e2e.test_problems import assert_problem

PASSWORD = "a long enough secret"


def invitations(facility: int) -> str:
    return f"/v1/facilities/{facility}/staff-invitations"


async def invite(
    client: httpx.AsyncClient, headers: dict[str, str], facility: int, login: str, **extra: Any
) -> dict[str, Any]:
    answer = await client.post(
        invitations(facility), json={"login": login, **extra}, headers=headers
    )
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


async def accept(
    client: httpx.AsyncClient, token: str, name: str = "Zhou Min", password: str = PASSWORD
) -> httpx.Response:
    return await client.post(
        "/v1/staff-invitations/accept", json={"token": token, "name": name, "password": password}
    )


async def sign_in(client: httpx.AsyncClient, login: str) -> httpx.Response:
    return await client.post("/v1/auth/signin", json={"login": login, "password": PASSWORD})


def bearer(answer: httpx.Response) -> dict[str, str]:
    return {"Authorization": f"Bearer {answer.json()['token']}"}


async def test_an_admin_invites_the_first_manager_who_invites_front_desk_by_phone(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken
) -> None:
    facility = await builders.facility(db)
    _, admin = await make_token("admin")
    issued = await invite(client, admin, facility, "Wang.Li@Example.test", staff_role="manager")
    assert issued["path"] == f"/invitations/{issued['token']}"
    assert issued["invitation"]["email"] == "w***@example.test"
    assert issued["invitation"]["state"] == "pending"
    stored = await db.fetchrow(
        "SELECT token_hash, email, expires_at - created_at AS valid FROM staff_invitations"
    )
    assert stored["token_hash"] == hash_token(issued["token"])  # never the token itself
    assert stored["email"] == "wang.li@example.test" and stored["valid"] == timedelta(days=7)
    accepted = await accept(client, issued["token"], name="Wang Li")
    assert accepted.status_code == 201, accepted.text
    manager = bearer(accepted)
    me = (await client.get("/v1/auth/me", headers=manager)).json()
    assert (me["role"], me["staff_role"], me["facility_id"]) == ("staff", "manager", facility)

    by_phone = await invite(client, manager, facility, "+86 138-0013-8000")
    assert by_phone["invitation"]["phone_last4"] == "8000"
    assert by_phone["invitation"]["staff_role"] == "front_desk"
    assert "13800138000" not in str(await db.fetch("SELECT * FROM staff_invitations"))
    joined = await accept(client, by_phone["token"])
    assert joined.status_code == 201, joined.text
    signed = await sign_in(client, "138 0013 8000")  # another spelling of the same number
    assert signed.status_code == 200, signed.text
    assert signed.json()["principal"]["staff_role"] == "front_desk"
    team = (await client.get(f"/v1/facilities/{facility}/staff", headers=manager)).json()
    assert [(m["name"], m["staff_role"]) for m in team] == [
        ("Wang Li", "manager"),
        ("Zhou Min", "front_desk"),
    ]
    assert team[1]["phone_last4"] == "8000" and team[1]["email"] is None
    actions = [r["action"] for r in await db.fetch("SELECT action FROM audit_log ORDER BY id")]
    assert actions.count("invite") == 2 and actions.count("accept") == 2


async def test_a_manager_invites_front_desk_only(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken
) -> None:
    facility = await builders.facility(db)
    _, manager = await make_token("staff", facility_id=facility)
    refused = await client.post(
        invitations(facility),
        json={"login": "boss@example.test", "staff_role": "manager"},
        headers=manager,
    )
    assert_problem(refused, 403, "forbidden")
    assert await db.fetchval("SELECT count(*) FROM staff_invitations") == 0


async def test_an_invitation_is_used_once(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken
) -> None:
    facility = await builders.facility(db)
    _, manager = await make_token("staff", facility_id=facility)
    issued = await invite(client, manager, facility, "once@example.test")
    assert (await accept(client, issued["token"])).status_code == 201
    again = assert_problem(await accept(client, issued["token"]), 409, "invitation-ended")
    assert again["state"] == "used" and "used already" in again["detail"]
    assert (
        await db.fetchval("SELECT count(*) FROM principals WHERE email = 'once@example.test'") == 1
    )
    listed = (await client.get(invitations(facility), headers=manager)).json()
    assert listed == []  # a used invitation is no longer open


async def test_a_withdrawn_or_expired_invitation_says_so_in_either_language(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken, clock: ManualClock
) -> None:
    facility = await builders.facility(db)
    _, manager = await make_token("staff", facility_id=facility)
    withdrawn = await invite(client, manager, facility, "gone@example.test")
    answer = await client.post(
        f"/v1/staff-invitations/{withdrawn['invitation']['id']}/withdraw", headers=manager
    )
    assert answer.status_code == 200 and answer.json()["state"] == "withdrawn"
    refused = await client.post(
        "/v1/staff-invitations/accept",
        json={"token": withdrawn["token"], "name": "X", "password": PASSWORD},
        headers={"Accept-Language": "zh-CN"},
    )
    problem = assert_problem(refused, 409, "invitation-ended")
    assert problem["state"] == "withdrawn" and problem["detail"] == (
        "此邀请已被撤回。请向负责人索取新的邀请。"
    )
    late = await invite(client, manager, facility, "late@example.test")
    clock.advance(timedelta(days=7))
    expired = assert_problem(await accept(client, late["token"]), 409, "invitation-ended")
    assert expired["state"] == "expired" and "expired" in expired["detail"]
    listed = (await client.get(invitations(facility), headers=manager)).json()
    assert [(i["email"], i["state"]) for i in listed] == [("l***@example.test", "expired")]
    unknown = await accept(client, "rsi_not-a-real-token")
    assert_problem(unknown, 404, "unknown-invitation")
    assert await db.fetchval("SELECT count(*) FROM principals WHERE role = 'staff'") == 1


async def test_inviting_a_login_again_withdraws_the_earlier_link(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken
) -> None:
    facility = await builders.facility(db)
    _, manager = await make_token("staff", facility_id=facility)
    first = await invite(client, manager, facility, "13800138001")
    second = await invite(client, manager, facility, "+86 138 0013 8001")
    assert_problem(await accept(client, first["token"]), 409, "invitation-ended")
    assert (await accept(client, second["token"])).status_code == 201


@pytest.mark.parametrize(
    ("login", "message"),
    [
        ("not a login", "give an email address or a mobile phone number"),
        ("12345", "give an email address or a mobile phone number"),
        ("taken@example.test", "already signs in to an account"),
    ],
)
async def test_a_bad_or_taken_login_is_named_and_invites_nobody(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken, login: str, message: str
) -> None:
    await client.post(
        "/v1/auth/register",
        json={"name": "F", "password": PASSWORD, "email": "taken@example.test"},
    )
    facility = await builders.facility(db)
    _, manager = await make_token("staff", facility_id=facility)
    refused = await client.post(invitations(facility), json={"login": login}, headers=manager)
    problem = assert_problem(refused, 422, "invalid-input")
    assert [e["field"] for e in problem["errors"]] == ["login"]
    assert message in problem["errors"][0]["message"]
    assert await db.fetchval("SELECT count(*) FROM staff_invitations") == 0


async def test_a_short_password_or_no_name_is_named_on_accepting(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken
) -> None:
    facility = await builders.facility(db)
    _, manager = await make_token("staff", facility_id=facility)
    issued = await invite(client, manager, facility, "short@example.test")
    refused = await client.post(
        "/v1/staff-invitations/accept",
        json={"token": issued["token"], "name": "", "password": "short"},
    )
    problem = assert_problem(refused, 422, "invalid-input")
    assert problem["errors"][0]["field"] in {"name", "password"}
    assert (await accept(client, issued["token"])).status_code == 201


async def test_removing_front_desk_stops_its_every_token_at_once(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken
) -> None:
    facility = await builders.facility(db)
    manager_principal, manager = await make_token("staff", facility_id=facility)
    issued = await invite(client, manager, facility, "leaving@example.test")
    colleague = bearer(await accept(client, issued["token"]))
    second = bearer(await sign_in(client, "leaving@example.test"))
    me = (await client.get("/v1/auth/me", headers=colleague)).json()
    removed = await client.post(f"/v1/staff/{me['id']}/remove", headers=manager)
    assert removed.status_code == 200, removed.text
    for headers in (colleague, second):
        assert_problem(await client.get("/v1/auth/me", headers=headers), 401, "unauthenticated")
    assert_problem(await sign_in(client, "leaving@example.test"), 401, "unauthenticated")
    team = (await client.get(f"/v1/facilities/{facility}/staff", headers=manager)).json()
    assert [m["id"] for m in team] == [manager_principal.id]
    audit = await db.fetchrow("SELECT * FROM audit_log WHERE action = 'remove'")
    assert audit["principal_id"] == manager_principal.id and audit["entity_id"] == str(me["id"])
    assert len(audit["after"]["tokens_revoked"]) == 2
    # The login is free again: the person may be invited back, to a new account.
    back = await invite(client, manager, facility, "leaving@example.test")
    assert (await accept(client, back["token"])).status_code == 201


async def test_a_manager_removes_neither_themself_nor_another_manager(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken
) -> None:
    facility = await builders.facility(db)
    manager, headers = await make_token("staff", facility_id=facility)
    other, _ = await make_token("staff", facility_id=facility)
    myself = await client.post(f"/v1/staff/{manager.id}/remove", headers=headers)
    assert "own account" in assert_problem(myself, 403, "forbidden")["detail"]
    another = await client.post(f"/v1/staff/{other.id}/remove", headers=headers)
    assert "administrator" in assert_problem(another, 403, "forbidden")["detail"]
    _, admin = await make_token("admin")
    assert (await client.post(f"/v1/staff/{other.id}/remove", headers=admin)).status_code == 200
    assert await db.fetchval("SELECT count(*) FROM audit_log WHERE action = 'remove'") == 1


async def test_another_facilitys_team_and_invitations_are_not_found(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken
) -> None:
    facility, elsewhere = await builders.facility(db), await builders.facility(db)
    _, manager = await make_token("staff", facility_id=facility)
    _, stranger = await make_token("staff", facility_id=elsewhere)
    issued = await invite(client, manager, facility, "mine@example.test")
    colleague = bearer(
        await accept(client, (await invite(client, manager, facility, "c@example.test"))["token"])
    )
    colleague_id = (await client.get("/v1/auth/me", headers=colleague)).json()["id"]
    for method, url in [
        ("GET", invitations(facility)),
        ("POST", invitations(facility)),
        ("GET", f"/v1/facilities/{facility}/staff"),
        ("POST", f"/v1/staff-invitations/{issued['invitation']['id']}/withdraw"),
        ("POST", f"/v1/staff/{colleague_id}/remove"),
    ]:
        body = {"login": "x@example.test"} if url.endswith("invitations") else None
        answer = await client.request(method, url, headers=stranger, json=body)
        assert_problem(answer, 404, "not-found")
    assert (await client.get("/v1/auth/me", headers=colleague)).status_code == 200
    assert (await accept(client, issued["token"])).status_code == 201


async def test_an_operator_invites_a_first_manager_on_the_command_line(
    client: httpx.AsyncClient,
    db: Any,
    monkeypatch: pytest.MonkeyPatch,
    database_url: str,
    redis_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("RESPITE_DATABASE_URL", database_url)
    monkeypatch.setenv("RESPITE_REDIS_URL", redis_url)
    monkeypatch.setenv("RESPITE_SECRET_KEY", "test-secret")
    facility = await builders.facility(db)
    args = ["staff", "invite", "--facility", str(facility), "--login", "13900139000"]
    assert await asyncio.to_thread(main, [*args, "--site", "https://respite.example.cn/"]) == 0
    said, link = capsys.readouterr().out.strip().splitlines()
    assert said.startswith(f"invited a manager to facility {facility}; the link works once")
    assert link.startswith("https://respite.example.cn/invitations/rsi_")
    accepted = await accept(client, link.rsplit("/", 1)[1], name="Chen Jie")
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["principal"]["staff_role"] == "manager"
    signed = await sign_in(client, "+8613900139000")
    assert signed.status_code == 200, signed.text
    missing = ["staff", "invite", "--facility", "987654", "--login", "a@example.test"]
    assert await asyncio.to_thread(main, missing) == 2
    assert "There is no facility with id 987654" in capsys.readouterr().err


async def test_racing_acceptances_of_one_invitation_make_one_account(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken
) -> None:
    facility = await builders.facility(db)
    _, manager = await make_token("staff", facility_id=facility)
    issued = await invite(client, manager, facility, "race@example.test")
    answers = await asyncio.gather(
        *(accept(client, issued["token"], name=f"Racer {n}") for n in range(8))
    )
    assert sorted(a.status_code for a in answers) == [201] + [409] * 7
    assert (
        await db.fetchval("SELECT count(*) FROM principals WHERE email = 'race@example.test'") == 1
    )


async def test_ended_invitations_are_purged_after_the_retention_of_dead_tokens(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken, clock: ManualClock, settings: Any
) -> None:
    facility = await builders.facility(db)
    _, manager = await make_token("staff", facility_id=facility)
    used = await invite(client, manager, facility, "used@example.test")
    assert (await accept(client, used["token"])).status_code == 201
    withdrawn = await invite(client, manager, facility, "withdrawn@example.test")
    await client.post(
        f"/v1/staff-invitations/{withdrawn['invitation']['id']}/withdraw", headers=manager
    )
    clock.advance(timedelta(days=settings.retention_tokens_days + 1))
    # Made now: it ends in 7 days, and stays until its retention is over too.
    await invite(client, manager, facility, "later@example.test")
    purged = await Purger(db, settings, clock=clock).purge()
    assert purged.ended_invitations == 2
    left = await db.fetch("SELECT email FROM staff_invitations")
    assert [row["email"] for row in left] == ["later@example.test"]
    assert await db.fetchval("SELECT count(*) FROM principals WHERE email = 'used@example.test'")
