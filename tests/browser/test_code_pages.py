"""One-time codes in a real browser, in each language: a family that forgot its password asks
for a code, reads it in the email the app's worker sent to a real SMTP server on loopback,
and sets a new password; another signs in by a code sent to its phone through a real SMS
gateway. Every page is scanned (axe-core) and photographed."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page

from respite.i18n import LANGUAGES, Lang
from respite.settings import Settings
from tests.browser.actions import say
from tests.browser.harness import Look
from tests.browser.test_account_pages import PASSWORD, sign_up
from tests.conftest import settings_for
from tests.notified import gateway, sending_to, smtp
from tests.sms import SmsGateway
from tests.smtp import SmtpServer

__all__ = ["gateway", "smtp"]  # the module's servers, as fixtures

_CODE = re.compile(r"(?<!\d)(\d{6})(?!\d)")


@pytest.fixture
def settings(database_url: str, redis_url: str, smtp: SmtpServer, gateway: SmsGateway) -> Settings:
    return sending_to(settings_for(database_url, redis_url), smtp, gateway)


@pytest.mark.parametrize("language", LANGUAGES)
async def test_a_family_sets_a_new_password_with_an_emailed_code(
    live_server: str, page: Page, look: Look, language: Lang, smtp: SmtpServer
) -> None:
    login = f"forgot-{language.lower()}@example.test"
    await sign_up(page, live_server, language, login=login)
    await page.context.clear_cookies()
    await page.goto(f"{live_server}/signin")
    await page.click(f"text={say('page.signin.forgotten', language)}")
    assert await page.text_content("h1") == say("page.code.password_reset.title", language)
    await look(page, "forgotten")
    await page.fill("#f-login", login)
    await page.click(f"main button:has-text('{say('page.code.send', language)}')")
    assert await page.text_content("h1") == say("page.code.password_reset.enter", language)
    sent = say("page.code.sent", language, sent_to="f***@example.test", minutes=10)
    assert sent in await page.inner_text("[role=status]")
    assert await page.input_value("#f-login") == login
    await look(page, "enter-code")

    messages = await smtp.wait_for(lambda got: any(m["To"] == login for m in got))
    email = next(m for m in messages if m["To"] == login)
    assert email["Subject"] == say("notification.code.title_password_reset", language)
    found = _CODE.search(email.get_content())
    assert found is not None
    # A wrong code first: said at the top, linked to nothing but the form, nothing typed kept
    # but the login.
    await page.fill("#f-code", "000000" if found.group(1) != "000000" else "111111")
    await page.fill("#f-password", "a brand new password")
    await page.click(f"main button:has-text('{say('page.code.password_reset.submit', language)}')")
    assert say("auth.code_wrong", language) in await page.inner_text(".error-summary")
    assert await page.input_value("#f-code") == "" and await page.input_value("#f-password") == ""
    await look(page, "enter-code-refused")
    await page.fill("#f-code", found.group(1))
    await page.fill("#f-password", "a brand new password")
    await page.click(f"main button:has-text('{say('page.code.password_reset.submit', language)}')")
    await page.wait_for_url(f"{live_server}/account?password=new")
    assert say("page.account.password_new", language) in await page.inner_text("main")
    await look(page, "password-set")

    # The old password no longer signs in; the new one does.
    await page.context.clear_cookies()
    await page.goto(f"{live_server}/signin")
    await page.fill("#f-login", login)
    await page.fill("#f-password", PASSWORD)
    await page.click(f"main button:has-text('{say('page.signin.submit', language)}')")
    assert say("auth.wrong_login", language) in await page.inner_text(".error-summary")


async def test_a_family_signs_in_by_a_code_sent_to_its_phone(
    live_server: str, page: Page, look: Look, gateway: SmsGateway
) -> None:
    await sign_up(page, live_server, "zh-CN", login="139 1234 5678")
    await page.context.clear_cookies()
    await page.goto(f"{live_server}/signin?next=/account")
    await page.click(f"text={say('page.signin.with_code', 'zh-CN')}")
    await look(page, "sign-in-code")
    await page.fill("#f-login", "13912345678")
    await page.click(f"main button:has-text('{say('page.code.send', 'zh-CN')}')")
    assert "139****5678" in await page.inner_text("[role=status]")
    [sms] = await gateway.wait_for(lambda got: len(got) >= 1)
    assert sms.valid and sms.message["text"].startswith("【喘息床位】登录验证码\n")
    found = _CODE.search(sms.message["text"])
    assert found is not None
    await page.fill("#f-code", found.group(1))
    await look(page, "sign-in-code-enter")
    await page.click(f"main button:has-text('{say('page.code.sign_in.submit', 'zh-CN')}')")
    await page.wait_for_url(f"{live_server}/account")
    assert say("page.account.signed_in_as", "zh-CN", name="李明") in await page.inner_text("main")
