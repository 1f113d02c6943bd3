"""What browser tests do again and again: say a catalog message as a page would, and move
the focus by keyboard."""

from __future__ import annotations

from typing import Any

from playwright.async_api import Page

from respite.i18n import Lang, render, t

__all__ = ["say", "tab_to"]


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
