"""The team in a real browser, at the desk's two screens and in both languages: a manager
invites a front desk colleague, who opens the link in another browser, chooses a password, is
signed in and sees the desk's menu without Team; the manager removes them, and their session
stops at once. A used or expired link says what to do; another facility's manager finds the
colleague nowhere (404)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Page

from respite.auth.model import StaffRole
from respite.auth.service import create_principal, issue_token
from respite.clock import ManualClock
from respite.i18n import LANGUAGES, Lang
from tests import builders
from tests.browser.actions import say, sign_in_with
from tests.browser.conftest import DESK_SCREENS, NewPage
from tests.browser.harness import Look

PASSWORD = "a long enough secret"


async def manager_page(
    new_page: NewPage, db: Any, base: str, facility: int, name: str, role: StaffRole = "manager"
) -> Page:
    principal = await create_principal(db, "staff", name, facility_id=facility, staff_role=role)
    page = await new_page()
    await sign_in_with(page, base, (await issue_token(db, principal, None)).token)
    return page


async def invite(page: Page, base: str, lang: Lang, login: str) -> str:
    await page.goto(f"{base}/desk/team")
    await page.fill("#f-login", login)
    await page.click(f"main button:has-text('{say('desk.team.invite.submit', lang)}')")
    link = page.locator("#invitation-link")
    await link.wait_for()
    return await link.input_value()


@pytest.mark.parametrize("screen", DESK_SCREENS)
@pytest.mark.parametrize("language", LANGUAGES)
async def test_a_manager_invites_a_colleague_who_joins_and_is_removed(
    live_server: str, new_page: NewPage, look: Look, db: Any, language: Lang, screen: str
) -> None:
    facility = await builders.facility(db, name="阳光护理站")
    manager = await manager_page(new_page, db, live_server, facility, "王丽")
    await manager.goto(f"{live_server}/desk/team")
    assert await manager.text_content("h1") == say("desk.team.title", language)
    await look(manager, "team")

    # A login that is neither an email address nor a phone number is named, and nothing made.
    await manager.fill("#f-login", "12345")
    await manager.click(f"main button:has-text('{say('desk.team.invite.submit', language)}')")
    summary = await manager.inner_text(".error-summary")
    assert say("desk.team.invite.login", language) in summary
    assert say("staff_accounts.login_form", language) in summary
    await look(manager, "team-invite-refused")

    link = await invite(manager, live_server, language, "zhou.min@example.test")
    assert urlsplit(link).path.startswith("/invitations/rsi_")
    main = await manager.inner_text("main")
    assert say("desk.team.link.not_sent", language) in main
    assert "z***@example.test" in main and "zhou.min" not in main
    await look(manager, "team-link")

    # The colleague opens the link in a browser of their own.
    colleague = await new_page()
    await colleague.goto(link)
    assert await colleague.text_content("h1") == say(
        "desk.team.accept.title", language, facility="阳光护理站"
    )
    await look(colleague, "accept")
    await colleague.click(f"main button:has-text('{say('desk.team.accept.submit', language)}')")
    refused = colleague.locator(".error-summary")
    assert await refused.locator('a[href="#f-name"]').count() == 1
    assert await refused.locator('a[href="#f-password"]').count() == 1
    await look(colleague, "accept-refused")
    await colleague.fill("#f-name", "周敏")
    await colleague.fill("#f-password", PASSWORD)
    await colleague.click(f"main button:has-text('{say('desk.team.accept.submit', language)}')")
    # Signed in, on the desk's first page (/desk belongs to the "today" part of the desk).
    await colleague.wait_for_url(f"{live_server}/desk")
    await colleague.goto(f"{live_server}/account")
    assert say("page.account.signed_in_as", language, name="周敏") in await colleague.inner_text(
        "main"
    )
    menu = colleague.locator("header nav")
    assert await menu.locator('a[href="/desk/board"]').count() == 1
    assert await menu.locator('a[href="/desk/team"]').count() == 0
    await look(colleague, "colleague-account")
    refused_team = await colleague.goto(f"{live_server}/desk/team")
    assert refused_team is not None and refused_team.status == 403
    await look(colleague, "colleague-no-team")

    # The link was used: opening it again says so and how to sign in.
    await colleague.goto(link)
    assert await colleague.text_content("h1") == say("desk.team.ended.title.used", language)
    await look(colleague, "invitation-used")

    # The manager sees the new colleague, and removes them after being asked.
    await manager.goto(f"{live_server}/desk/team")
    team = manager.locator("table.team").first
    assert "周敏" in await team.inner_text()
    assert say("desk.team.invitations.none", language) in await manager.inner_text("main")
    await manager.click(f"a:has-text('{say('desk.team.staff.remove', language, name='周敏')}')")
    assert await manager.text_content("h1") == say("desk.team.remove.title", language, name="周敏")
    await look(manager, "remove")
    await manager.click(
        f"main button:has-text('{say('desk.team.remove.submit', language, name='周敏')}')"
    )
    assert say("desk.team.notice.removed", language) in await manager.inner_text("main")
    assert "周敏" not in await manager.inner_text("table.team")
    await look(manager, "team-removed")

    # The colleague's browser is signed out at its next page.
    await colleague.goto(f"{live_server}/account")
    assert urlsplit(colleague.url).path == "/signin"
    await look(colleague, "colleague-signed-out")


@pytest.mark.parametrize("screen", DESK_SCREENS)
@pytest.mark.parametrize("language", LANGUAGES)
async def test_an_expired_link_and_another_facility_say_what_they_must(
    live_server: str,
    new_page: NewPage,
    look: Look,
    db: Any,
    clock: ManualClock,
    language: Lang,
    screen: str,
) -> None:
    facility = await builders.facility(db)
    manager = await manager_page(new_page, db, live_server, facility, "王丽")
    colleague = await create_principal(
        db, "staff", "李娜", facility_id=facility, staff_role="front_desk"
    )
    link = await invite(manager, live_server, language, "13800138000")
    assert say("desk.team.link.for_phone", language, last4="8000") in await manager.inner_text(
        "main"
    )
    await manager.goto(f"{live_server}/desk/team")
    assert "13800138000" not in await manager.content()
    await look(manager, "team-waiting")

    clock.advance(timedelta(days=7))
    late = await new_page()
    answer = await late.goto(link)
    assert answer is not None and answer.status == 409
    assert await late.text_content("h1") == say("desk.team.ended.title.expired", language)
    assert say("desk.team.ended.what.expired", language) in await late.inner_text("main")
    await look(late, "invitation-expired")
    await manager.goto(f"{live_server}/desk/team")
    expired = await manager.inner_text("table.team >> nth=1")
    assert say("desk.team.phone_ending", language, last4="8000") in expired
    await look(manager, "team-expired")

    stranger = await manager_page(new_page, db, live_server, await builders.facility(db), "陌生人")
    answer = await stranger.goto(f"{live_server}/desk/team/staff/{colleague.id}/remove")
    assert answer is not None and answer.status == 404
    await look(stranger, "other-facility")
    await stranger.goto(f"{live_server}/desk/team")
    assert "李娜" not in await stranger.inner_text("main")
