"""What browser tests do again and again: say a catalog message as a page would, move the
focus by keyboard, and sign a page in with a token minted for the test (staff accounts are
made by operators and managers, not by signing up)."""

from __future__ import annotations

from typing import Any

from playwright.async_api import Page

from respite.auth.guards import SESSION_COOKIE
from respite.i18n import Lang, render, t

__all__ = ["say", "sign_in_with", "tab_to"]


def say(key: str, lang: Lang, **figures: Any) -> str:
    """The words a page in ``lang`` shows for the catalog message ``key``."""
    return render(t(key, **figures), lang)


async def tab_to(page: Page, selector: str) -> None:
    """Press Tab until the element ``selector`` names has the focus."""
    for _ in range(80):
        await page.keyboard.press("Tab")
        if await page.evaluate(f"document.activeElement.matches({selector!r})"):
            return
    raise AssertionError(f"Tab never reached {selector}")


async def sign_in_with(page: Page, base_url: str, token: str) -> None:
    """Give the page's browser the session of ``token`` (a session cookie is a token)."""
    await page.context.add_cookies(
        [{"name": SESSION_COOKIE, "value": token, "url": base_url, "httpOnly": True}]
    )
