"""A family's account in a real browser: sign up, sign in, sign out, the two switches, the
keyboard, and a form another site posts (refused, nothing changed)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.async_api import Page

from respite.i18n import LANGUAGES, Lang
from tests.browser.actions import say
from tests.browser.harness import Look, Watch

PASSWORD = "a long enough secret"


async def sign_up(page: Page, base: str, lang: Lang, login: str = "li@example.test") -> None:
    await page.goto(f"{base}/register")
    await page.fill("#f-name", "李明")
    await page.fill("#f-login", login)
    await page.fill("#f-password", PASSWORD)
    await page.click(f"button:has-text('{say('page.register.submit', lang)}')")


@pytest.mark.parametrize("language", LANGUAGES)
async def test_a_family_signs_up_signs_out_and_in_again(
    live_server: str, page: Page, look: Look, language: Lang
) -> None:
    await page.goto(live_server)
    assert await page.text_content("h1") == say("page.home.title", language)
    await look(page, "home")
    await page.click(f"nav >> text={say('page.nav.register', language)}")
    await page.click(f"button:has-text('{say('page.register.submit', language)}')")
    # Nothing filled in: every field named at the top, each a link to its field.
    summary = page.locator(".error-summary")
    assert await summary.locator("a").count() == 3
    # The summary takes the focus, so a screen reader reads it first.
    await page.wait_for_function("document.activeElement.matches('[data-error-summary]')")
    await look(page, "register-errors")
    await summary.locator('a[href="#f-login"]').click()
    assert await page.evaluate("document.activeElement.id") == "f-login"
    await page.fill("#f-name", "李明")
    await page.fill("#f-login", "li@example.test")
    await page.fill("#f-password", PASSWORD)
    await look(page, "register")
    await page.click(f"button:has-text('{say('page.register.submit', language)}')")
    await page.goto(f"{live_server}/account")
    assert say("page.account.signed_in_as", language, name="李明") in await page.inner_text("main")
    await look(page, "account")
    await page.click(f"main button:has-text('{say('page.account.sign_out', language)}')")
    await page.wait_for_url(f"{live_server}/")
    await page.goto(f"{live_server}/signin")
    await look(page, "signin")
    await page.fill("#f-login", "li@example.test")
    await page.fill("#f-password", "not the password")
    await page.click(f"main button:has-text('{say('page.signin.submit', language)}')")
    assert say("auth.wrong_login", language) in await page.inner_text(".error-summary")
    await look(page, "signin-refused")
    await page.click(f"text={say('page.signin.forgotten', language)}")
    await look(page, "forgotten")


async def test_signing_in_by_keyboard_alone(live_server: str, page: Page, look: Look) -> None:
    await sign_up(page, live_server, "zh-CN")
    await page.context.clear_cookies()
    await page.goto(f"{live_server}/signin?next=/account")
    # From the top of the page: the skip link first, then on to the form.
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.className") == "skip"
    await page.keyboard.press("Enter")
    for _ in range(20):
        await page.keyboard.press("Tab")
        if await page.evaluate("document.activeElement.id") == "f-login":
            break
    await page.keyboard.type("li@example.test")
    await page.keyboard.press("Tab")
    await page.keyboard.type(PASSWORD)
    await page.keyboard.press("Enter")
    await page.wait_for_url(f"{live_server}/account")
    await look(page, "signed-in-by-keyboard")


async def test_the_language_switch_and_large_print(
    live_server: str, page: Page, look: Look
) -> None:
    await page.goto(f"{live_server}/signin")
    assert await page.get_attribute("html", "lang") == "zh-CN"
    await page.click("button[name=to][value=en]")
    await page.wait_for_url(f"{live_server}/signin")
    assert await page.get_attribute("html", "lang") == "en"
    assert await page.text_content("h1") == "Sign in"
    await page.click("button[name=display][value=large]")
    await page.wait_for_url(f"{live_server}/signin")
    assert await page.get_attribute("html", "class") == "large"
    size = await page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    assert size >= 22
    await look(page, "signin-large-print")  # held to 60×60 tap targets and 22 px text


@pytest.mark.parametrize("javascript", [False])
async def test_signing_up_works_without_javascript(
    live_server: str, page: Page, look: Look
) -> None:
    await sign_up(page, live_server, "zh-CN", login="13800138000")
    await page.goto(f"{live_server}/account")
    assert "李明" in await page.inner_text("main")
    await look(page, "account-no-javascript")


async def test_a_form_posted_by_another_site_changes_nothing(
    live_server: str, page: Page, watch_of: Callable[[Page], Watch], db: Any
) -> None:
    await sign_up(page, live_server, "zh-CN")
    await page.goto(f"{live_server}/account")
    live_tokens = await db.fetchval("SELECT count(*) FROM tokens WHERE revoked_at IS NULL")
    assert live_tokens == 1
    # Another site (localhost is not the same site as 127.0.0.1) with a form that signs the
    # family out everywhere, sent as soon as it opens.
    evil = "http://localhost:9/prize"
    await page.route(
        evil,
        lambda route: route.fulfill(
            content_type="text/html",
            body=f"""<!doctype html><html lang="en"><title>Win</title><body>
            <form method="post" action="{live_server}/signout/everywhere">
            <input type="hidden" name="_csrf_token" value="guess"></form>
            <script>document.forms[0].submit()</script></body></html>""",
        ),
    )
    async with page.expect_navigation(url=f"{live_server}/signout/everywhere"):
        await page.goto(evil)
    assert "表单未能提交" in await page.inner_text("main")
    watch_of(page).forgive()  # the 403 the browser logs is the point
    assert await db.fetchval("SELECT count(*) FROM tokens WHERE revoked_at IS NULL") == 1
    await page.goto(f"{live_server}/account")
    assert "李明" in await page.inner_text("main")  # still signed in
