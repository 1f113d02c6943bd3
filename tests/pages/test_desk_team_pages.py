"""The team's pages without a browser: a manager invites a front desk colleague and is shown
the link once, withdraws an invitation, removes a colleague (whose session stops at once);
the colleague accepts on the invitation's page and is signed in; an invitation used,
withdrawn, expired or unknown says what to do; bad input is named per field in both
languages; front desk and another facility's manager reach none of it."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import httpx
import pytest

from respite.auth.model import Principal, StaffRole
from respite.auth.service import create_principal, issue_token
from respite.clock import ManualClock
from tests import builders
from tests.forms import csrf_token, post_form

PASSWORD = "a long enough secret"
LINK = re.compile(r"readonly[^>]*>(http://testserver/invitations/(rsi_[A-Za-z0-9_-]+))</textarea>")


async def staff_member(
    db: Any, facility: int, staff_role: StaffRole = "manager", name: str = "Wang Li"
) -> tuple[Principal, str]:
    principal = await create_principal(
        db, "staff", name, facility_id=facility, staff_role=staff_role
    )
    return principal, (await issue_token(db, principal, None)).token


def signed_in_as(client: httpx.AsyncClient, token: str | None) -> None:
    client.cookies.clear()
    if token is not None:
        client.cookies.set("respite_session", token)


async def invite(client: httpx.AsyncClient, login: str) -> httpx.Response:
    return await post_form(client, "/desk/team", "/desk/team/invitations", {"login": login})


async def invited_link(client: httpx.AsyncClient, login: str) -> str:
    answer = await invite(client, login)
    assert answer.status_code == 303, answer.text
    shown = await client.get(answer.headers["location"])
    found = LINK.search(shown.text)
    assert found is not None, shown.text
    return found[2]


@pytest.fixture
async def facility(db: Any) -> int:
    return await builders.facility(db, name="Sunny Days Home")


async def test_a_manager_invites_a_colleague_and_is_shown_the_link_once(
    client: httpx.AsyncClient, db: Any, facility: int
) -> None:
    _, token = await staff_member(db, facility)
    signed_in_as(client, token)
    team = await client.get("/desk/team")
    assert team.status_code == 200 and "<h1>Team</h1>" in team.text
    assert "Wang Li" in team.text and "No invitation is waiting." in team.text
    answer = await invite(client, "Zhou.Min@Example.test")
    assert answer.status_code == 303
    invited = await db.fetchval("SELECT id FROM staff_invitations")
    assert answer.headers["location"] == f"/desk/team?invited={invited}#new-invitation"
    shown = next(c for c in answer.headers.get_list("set-cookie") if "respite_new_invitation" in c)
    assert "HttpOnly" in shown and "Path=/desk/team" in shown
    page = await client.get(answer.headers["location"])
    found = LINK.search(page.text)
    assert found is not None
    assert "The service does not send this link" in page.text
    assert "For z***@example.test." in page.text  # the login masked, never whole
    assert "Zhou.Min" not in page.text and "zhou.min" not in page.text
    assert "Invitations waiting" in page.text and "Withdraw" in page.text
    # The link is the manager's alone, and only while it is new: another session sees none.
    client.cookies.delete("respite_new_invitation")
    later = await client.get("/desk/team")
    assert LINK.search(later.text) is None and "z***@example.test" in later.text


async def test_the_team_page_speaks_chinese(
    client: httpx.AsyncClient, db: Any, facility: int
) -> None:
    _, token = await staff_member(db, facility)
    await staff_member(db, facility, "front_desk", name="李娜")
    signed_in_as(client, token)
    client.headers["Accept-Language"] = "zh-CN"
    link = await invited_link(client, "13800138000")
    assert link.startswith("rsi_")
    page = await client.get("/desk/team")
    assert "<h1>团队</h1>" in page.text and "前台" in page.text and "负责人" in page.text
    assert "尾号 8000 的手机" in page.text and "13800138000" not in page.text
    assert "移出 李娜" in page.text and "Team" not in page.text


@pytest.mark.parametrize(
    ("lang", "login", "says"),
    [
        ("en", "12", "Their email address or mobile number: must be at least 3 characters long"),
        ("en", "12345", "Their email address or mobile number: give an email address or a mobile"),
        ("en", "no such thing", "give an email address or a mobile phone number"),
        ("zh-CN", "12345", "同事的电子邮箱或手机号码：请填写电子邮箱或手机号码"),
        ("en", "", "Their email address or mobile number"),
    ],
)
async def test_a_bad_login_is_named_and_invites_nobody(
    client: httpx.AsyncClient, db: Any, facility: int, lang: str, login: str, says: str
) -> None:
    _, token = await staff_member(db, facility)
    signed_in_as(client, token)
    client.headers["Accept-Language"] = lang
    answer = await invite(client, login)
    assert answer.status_code == 422, answer.text
    assert 'href="#f-login"' in answer.text and says in answer.text
    assert 'aria-invalid="true"' in answer.text
    if login:
        assert f'value="{login}"' in answer.text  # what was typed is kept
    assert await db.fetchval("SELECT count(*) FROM staff_invitations") == 0


async def test_a_login_that_has_an_account_is_named(
    client: httpx.AsyncClient, db: Any, facility: int
) -> None:
    await client.post(
        "/v1/auth/register", json={"name": "F", "password": PASSWORD, "email": "f@example.test"}
    )
    _, token = await staff_member(db, facility)
    signed_in_as(client, token)
    answer = await invite(client, "F@example.test")
    assert answer.status_code == 422 and "already signs in to an account" in answer.text


async def test_front_desk_and_strangers_do_not_reach_the_team(
    client: httpx.AsyncClient, db: Any, facility: int
) -> None:
    _, manager = await staff_member(db, facility)
    signed_in_as(client, manager)
    menu = await client.get("/account")
    assert 'href="/desk/team"' in menu.text
    _, front = await staff_member(db, facility, "front_desk")
    signed_in_as(client, front)
    menu = await client.get("/account")
    assert 'href="/desk/team"' not in menu.text and 'href="/desk/board"' in menu.text
    refused = await client.get("/desk/team")
    assert refused.status_code == 403 and "Only the care home&#39;s managers" in refused.text
    refused = await client.get("/desk/team", headers={"Accept-Language": "zh-CN"})
    assert refused.status_code == 403 and "只有机构负责人可以进行此操作" in refused.text
    signed_in_as(client, None)
    anonymous = await client.get("/desk/team")
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/signin")


async def test_a_colleague_accepts_is_signed_in_and_lands_on_the_desk(
    client: httpx.AsyncClient, db: Any, facility: int
) -> None:
    _, manager = await staff_member(db, facility)
    signed_in_as(client, manager)
    token = await invited_link(client, "zhou@example.test")
    signed_in_as(client, None)
    opened = await client.get(f"/invitations/{token}")
    assert opened.status_code == 200
    assert "Join Sunny Days Home" in opened.text and "as front desk" in opened.text
    assert "You will sign in with z***@example.test." in opened.text
    answer = await client.post(
        f"/invitations/{token}",
        data={"_csrf_token": csrf_token(opened.text), "name": "Zhou Min", "password": PASSWORD},
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/desk"
    session = next(c for c in answer.headers.get_list("set-cookie") if "respite_session=" in c)
    assert "HttpOnly" in session
    account = await client.get("/account")
    assert "Zhou Min" in account.text and 'href="/desk/team"' not in account.text
    row = await db.fetchrow(
        "SELECT staff_role, facility_id FROM principals WHERE name = 'Zhou Min'"
    )
    assert (row["staff_role"], row["facility_id"]) == ("front_desk", facility)
    # The same link again: used, and the page says how to sign in instead.
    signed_in_as(client, None)
    again = await client.get(f"/invitations/{token}")
    assert again.status_code == 409 and "This invitation has been used" in again.text
    assert 'href="/signin"' in again.text
    signed = await post_form(
        client, "/signin", "/signin", {"login": "ZHOU@example.test", "password": PASSWORD}
    )
    assert signed.status_code == 303


@pytest.mark.parametrize(
    ("lang", "says"),
    [
        ("en", ["Your name: is required", "Choose a password: must be at least 10 characters"]),
        ("zh-CN", ["您的姓名：", "设置密码："]),
    ],
)
async def test_bad_acceptance_is_named_per_field_and_makes_no_account(
    client: httpx.AsyncClient, db: Any, facility: int, lang: str, says: list[str]
) -> None:
    _, manager = await staff_member(db, facility)
    signed_in_as(client, manager)
    token = await invited_link(client, "short@example.test")
    signed_in_as(client, None)
    client.headers["Accept-Language"] = lang
    opened = await client.get(f"/invitations/{token}")
    answer = await client.post(
        f"/invitations/{token}",
        data={"_csrf_token": csrf_token(opened.text), "name": "", "password": "short"},
    )
    assert answer.status_code == 422, answer.text
    assert 'href="#f-name"' in answer.text and 'href="#f-password"' in answer.text
    for said in says:
        assert said in answer.text
    assert "short</" not in answer.text and 'value="short"' not in answer.text
    assert await db.fetchval("SELECT count(*) FROM principals WHERE email IS NOT NULL") == 0


@pytest.mark.parametrize(
    ("lang", "title", "what_to_do"),
    [
        ("en", "This invitation has expired", "Ask your manager to make you a new one"),
        ("zh-CN", "此邀请已过期", "请让负责人在团队页面为您重新生成邀请。"),
    ],
)
async def test_an_expired_link_says_what_to_do(
    client: httpx.AsyncClient,
    db: Any,
    facility: int,
    clock: ManualClock,
    lang: str,
    title: str,
    what_to_do: str,
) -> None:
    _, manager = await staff_member(db, facility)
    signed_in_as(client, manager)
    token = await invited_link(client, "late@example.test")
    clock.advance(timedelta(days=7))
    signed_in_as(client, None)
    client.headers["Accept-Language"] = lang
    page = await client.get(f"/invitations/{token}")
    assert page.status_code == 409 and title in page.text and what_to_do in page.text
    late = await client.post(
        f"/invitations/{token}",
        data={"_csrf_token": csrf_token(page.text), "name": "L", "password": PASSWORD},
    )
    assert late.status_code == 409 and title in late.text
    assert await db.fetchval("SELECT count(*) FROM principals WHERE name = 'L'") == 0
    unknown = await client.get("/invitations/rsi_cut-shor")
    assert unknown.status_code == 404


async def test_a_withdrawn_link_stops_working(
    client: httpx.AsyncClient, db: Any, facility: int
) -> None:
    _, manager = await staff_member(db, facility)
    signed_in_as(client, manager)
    token = await invited_link(client, "gone@example.test")
    invitation = await db.fetchval("SELECT id FROM staff_invitations")
    answer = await post_form(
        client, "/desk/team", f"/desk/team/invitations/{invitation}/withdraw", {}
    )
    assert answer.status_code == 303
    page = await client.get(answer.headers["location"])
    assert "The invitation was withdrawn" in page.text and "No invitation is waiting." in page.text
    assert LINK.search(page.text) is None
    signed_in_as(client, None)
    ended = await client.get(f"/invitations/{token}")
    assert ended.status_code == 409 and "This invitation was withdrawn" in ended.text


async def test_removing_a_colleague_asks_first_and_ends_their_session_at_once(
    client: httpx.AsyncClient, db: Any, facility: int
) -> None:
    manager, manager_token = await staff_member(db, facility)
    colleague, colleague_token = await staff_member(db, facility, "front_desk", name="Li Na")
    signed_in_as(client, colleague_token)
    assert (await client.get("/account")).status_code == 200
    signed_in_as(client, manager_token)
    team = await client.get("/desk/team")
    assert f'href="/desk/team/staff/{colleague.id}/remove"' in team.text
    assert f'href="/desk/team/staff/{manager.id}/remove"' not in team.text
    confirm = await client.get(f"/desk/team/staff/{colleague.id}/remove")
    assert confirm.status_code == 200 and "Remove Li Na from the team?" in confirm.text
    answer = await client.post(
        f"/desk/team/staff/{colleague.id}/remove",
        data={"_csrf_token": csrf_token(confirm.text)},
    )
    assert answer.status_code == 303
    page = await client.get(answer.headers["location"])
    assert "signed out everywhere at once" in page.text and "Li Na" not in page.text
    audit = await db.fetchrow("SELECT principal_id, action FROM audit_log WHERE action = 'remove'")
    assert audit["principal_id"] == manager.id
    signed_in_as(client, colleague_token)
    stopped = await client.get("/account")
    assert stopped.status_code == 303 and stopped.headers["location"].startswith("/signin")


async def test_a_manager_cannot_remove_themself(
    client: httpx.AsyncClient, db: Any, facility: int
) -> None:
    manager, token = await staff_member(db, facility)
    signed_in_as(client, token)
    page = await client.get("/desk/team")
    refused = await client.post(
        f"/desk/team/staff/{manager.id}/remove", data={"_csrf_token": csrf_token(page.text)}
    )
    assert refused.status_code == 403 and "cannot remove your own account" in refused.text
    assert (await client.get("/desk/team")).status_code == 200


async def test_another_facilitys_staff_and_invitations_are_not_found(
    client: httpx.AsyncClient, db: Any, facility: int
) -> None:
    _, manager = await staff_member(db, facility)
    colleague, _ = await staff_member(db, facility, "front_desk", name="Li Na")
    signed_in_as(client, manager)
    token = await invited_link(client, "mine@example.test")
    invitation = await db.fetchval("SELECT id FROM staff_invitations")
    _, stranger = await staff_member(db, await builders.facility(db), name="Stranger")
    signed_in_as(client, stranger)
    own = await client.get("/desk/team")
    assert "Li Na" not in own.text and "m***@example.test" not in own.text
    csrf = csrf_token(own.text)
    assert (await client.get(f"/desk/team/staff/{colleague.id}/remove")).status_code == 404
    for action in (
        f"/desk/team/staff/{colleague.id}/remove",
        f"/desk/team/invitations/{invitation}/withdraw",
    ):
        answer = await client.post(action, data={"_csrf_token": csrf})
        assert answer.status_code == 404, action
    assert (
        await db.fetchval("SELECT disabled_at FROM principals WHERE id = $1", colleague.id) is None
    )
    assert await db.fetchval("SELECT withdrawn_at FROM staff_invitations") is None
    # Shown to this manager, the other facility's fresh link is no link of theirs.
    client.cookies.set("respite_new_invitation", token, path="/desk/team")
    assert LINK.search((await client.get("/desk/team")).text) is None
