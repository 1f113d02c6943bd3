"""What every browser test checks on every page: the page's own health, and how it reads.

``Watch`` records, for one browser context, what must never happen on a page of ours: a console
error, an uncaught exception, an answer 5xx, and any request to an origin other than this
machine's loopback (no CDN, no font or script from elsewhere: such a request is aborted before
it leaves and recorded). ``scan`` runs axe-core on the page as it stands; ``Look`` (the ``look``
fixture) does that, writes a screenshot for a person to look at, and fails the test on a
violation of impact serious or critical, on an age-friendly rule broken (``age_friendly``),
or on anything the watch saw.

axe-core comes from the ``axe-playwright-python`` wheel, which bundles ``axe.min.js``; only that
file is used (injected with ``page.evaluate``, which a page's CSP does not block).
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
from collections.abc import Awaitable, Callable
from importlib.resources import files
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import msgspec
import pytest
from playwright.async_api import BrowserContext, ConsoleMessage, Page, Request, Response, Route

from tests.browser.age_friendly import age_friendly

__all__ = ["SCREENSHOTS", "Look", "Violation", "Watch", "is_loopback", "scan"]

SCREENSHOTS = Path(__file__).resolve().parents[2] / ".screenshots"
# Screenshots at another width than a phone's are named with it, so one test's desktop and
# tablet runs keep a screenshot each.
PHONE_WIDTH = 390
AXE_SOURCE = (files("axe_playwright_python") / "axe.min.js").read_text(encoding="utf-8")
BLOCKING = ("serious", "critical")
# Not a timed assertion: a bound on a hang (axe.run never settles where scripts cannot run).
SCAN_LIMIT = 60.0
NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")
_LOAD_FAILED = re.compile(r"Failed to load resource: the server responded with a status of 4\d\d")


def is_loopback(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob", "about"):
        return True
    host = parts.hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Watch:
    """What went wrong in one browser context; ``problems()`` is empty when nothing did."""

    def __init__(self, language: str, *, javascript: bool) -> None:
        self.language = language
        self.javascript = javascript
        self.console_errors: list[str] = []
        self.page_errors: list[str] = []
        self.server_errors: list[str] = []
        self.outside_requests: list[str] = []

    async def attach(self, context: BrowserContext) -> None:
        context.on("console", self._console)
        context.on("weberror", lambda error: self.page_errors.append(str(error.error)))
        context.on("response", self._response)
        await context.route("**/*", self._route)

    def _console(self, message: ConsoleMessage) -> None:
        # Chromium logs every answer 4xx as a console error, a page that refuses a form (422)
        # included: those are judged by ``_response`` instead.
        if message.type == "error" and not _LOAD_FAILED.match(message.text):
            self.console_errors.append(f"{message.text} ({message.location.get('url', '')})")

    def _response(self, response: Response) -> None:
        request = response.request
        if response.status >= 500:
            self.server_errors.append(f"{response.status} {request.method} {response.url}")
        elif response.status >= 400 and request.resource_type != "document":
            # A page may answer 4xx (a refused form, a stay of another family); a style
            # sheet, script or image it needs may not.
            self.server_errors.append(f"{response.status} {request.method} {response.url}")

    async def _route(self, route: Route, request: Request) -> None:
        if is_loopback(request.url):
            await route.fallback()
        else:
            self.outside_requests.append(request.url)
            await route.abort("blockedbyclient")

    def problems(self) -> list[str]:
        return (
            [f"console error: {text}" for text in self.console_errors]
            + [f"uncaught exception: {text}" for text in self.page_errors]
            + [f"server error: {text}" for text in self.server_errors]
            + [f"request outside this machine (aborted): {url}" for url in self.outside_requests]
        )

    def forgive(self) -> None:
        """Forget what was seen so far (for a test that provoked it on purpose)."""
        for seen in (self.console_errors, self.page_errors, self.server_errors):
            seen.clear()
        self.outside_requests.clear()


class Violation(msgspec.Struct, frozen=True):
    rule: str
    impact: str
    help: str
    targets: list[str]

    def __str__(self) -> str:
        return f"{self.rule} ({self.impact}): {self.help} at {', '.join(self.targets)}"


def _violations(results: dict[str, Any]) -> list[Violation]:
    return [
        Violation(
            rule=found["id"],
            impact=found.get("impact") or "",
            help=found["help"],
            targets=[" ".join(map(str, node["target"])) for node in found["nodes"]],
        )
        for found in results["violations"]
    ]


async def _axe(page: Page) -> list[Violation]:
    if await page.evaluate("typeof axe") == "undefined":
        await page.evaluate(AXE_SOURCE)
    results = await asyncio.wait_for(
        page.evaluate("options => axe.run(document, options)", {"resultTypes": ["violations"]}),
        SCAN_LIMIT,
    )
    return _violations(results)


async def scan(page: Page, scanner: BrowserContext | None = None) -> list[Violation]:
    """axe-core's violations on ``page`` as it stands, of every impact.

    axe runs in the page, and needs scripts: for a page whose context has JavaScript off, give
    a ``scanner`` context (same size and language, JavaScript on). The page's DOM is loaded
    there at the page's own URL (so its styles load as they did), with scripts forbidden by
    CSP, so axe sees what the page showed without JavaScript.
    """
    if scanner is None:
        return await _axe(page)
    html = await page.content()
    copy = await scanner.new_page()
    try:

        async def fulfill(route: Route) -> None:
            await route.fulfill(
                body=html,
                content_type="text/html; charset=utf-8",
                headers={"Content-Security-Policy": "script-src 'none'"},
            )

        url = page.url
        await copy.route(lambda requested: requested == url, fulfill, times=1)
        await copy.goto(url)
        return await _axe(copy)
    finally:
        await copy.close()


ScannerFor = Callable[[Page], Awaitable[BrowserContext | None]]


class Look:
    """``await look(page, "name")``: scan, screenshot, fail on what a person must not meet."""

    def __init__(self, module: str, watches: dict[Page, Watch], scanner_for: ScannerFor) -> None:
        self.folder = SCREENSHOTS / module
        self.watches = watches
        self.scanner_for = scanner_for

    async def __call__(
        self, page: Page, name: str, *, age_friendly_rules: bool = True
    ) -> list[Violation]:
        """Every violation found (the test fails on the serious and critical ones, and on
        any age-friendly rule broken: ``age_friendly``; off only for pages not meant for
        families and staff, such as the API's reference)."""
        if not NAME.fullmatch(name):
            raise ValueError(
                f"a screenshot's name is lower-case letters, digits, - and _: {name!r}"
            )
        watch = self.watches[page]
        violations = await scan(page, await self.scanner_for(page))
        self.folder.mkdir(parents=True, exist_ok=True)
        size = page.viewport_size
        wide = f"-{size['width']}" if size is not None and size["width"] != PHONE_WIDTH else ""
        await page.screenshot(
            path=self.folder / f"{name}-{watch.language}{wide}.png", full_page=True
        )
        blocking = [found for found in violations if found.impact in BLOCKING]
        failures = watch.problems() + [f"accessibility: {found}" for found in blocking]
        if age_friendly_rules:
            failures += [f"age-friendly: {broken}" for broken in await age_friendly(page)]
        if failures:
            watch.forgive()  # reported here: the end of the test need not say it again
            pytest.fail(
                f"page {name!r} ({watch.language}, {page.url}):\n  " + "\n  ".join(failures)
            )
        return violations
