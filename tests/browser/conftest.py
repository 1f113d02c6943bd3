"""Pages in a real browser: Debian's Chromium driven by Playwright, at a phone's size.

Fixtures (see ``test_harness.py`` for them in use):

- ``live_server``: the test's ``app`` (its own database, Redis, clock) served over HTTP by
  uvicorn on 127.0.0.1; its base URL.
- ``page``: a new tab in a fresh browser context, at ``screen``'s size (a phone's, 390×844,
  unless the test parametrizes ``screen`` with ``"desktop"`` 1366×768 or ``"tablet"``
  820×1180, as the desk's pages do: ``DESK_SCREENS``), in ``language`` (zh-CN unless the test
  parametrizes ``language``), JavaScript on unless the test parametrizes ``javascript`` to
  False. ``new_page(language=..., javascript=..., screen=...)`` opens more (two people at
  once).
- ``look``: ``await look(page, "name")`` on every page a test visits: axe-core's scan (the
  test fails on a violation of impact serious or critical), then a full-page screenshot in
  ``.screenshots/<test module>/<name>-<language>[-<width>].png`` (the width when not a phone's).
- ``watch_of(page)``: what the watch of the page's context saw (for tests of the harness).

Every context is watched: a console error, an uncaught exception, an answer 5xx or a request
to any origin but loopback fails the test (at ``look``, and at the end of the test).

Chromium is launched once per worker process, on its first browser test, from
``RESPITE_CHROMIUM`` or ``/usr/bin/chromium``; ``ops/setup --tests`` installs it. It is never skipped:
without it every browser test fails, saying what to install.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from litestar import Litestar
from playwright.async_api import Browser, BrowserContext, Page, ViewportSize, async_playwright

from respite.i18n import Lang
from tests.browser.harness import Look, Watch
from tests.browser.server import served

CHROMIUM = Path(os.environ.get("RESPITE_CHROMIUM", "/usr/bin/chromium"))
# Headless, and quiet: no sandbox (the tests run as root in CI), no GPU, and none of
# Chromium's own traffic (updates, sync, prefetching), which this machine's network refuses.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--dns-prefetch-disable",
]
PHONE = ViewportSize(width=390, height=844)
SCREENS: dict[str, ViewportSize] = {
    "phone": PHONE,
    "desktop": ViewportSize(width=1366, height=768),
    "tablet": ViewportSize(width=820, height=1180),
}
DESK_SCREENS = ("desktop", "tablet")
# Long enough for a loaded two-core machine; a bound on a hang, not a timed assertion.
ACTION_LIMIT_MS = 20_000

NewPage = Callable[..., Awaitable[Page]]


@pytest.fixture
async def live_server(app: Litestar) -> AsyncIterator[str]:
    async with served(app) as url:
        yield url


@pytest.fixture(scope="session")
async def chromium() -> AsyncIterator[Browser]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"no Chromium at {CHROMIUM}: run ops/setup --tests, or install it "
            "(sudo apt-get install chromium fonts-wqy-microhei), or set RESPITE_CHROMIUM"
        )
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        await browser.close()


@pytest.fixture
def language() -> Lang:
    return "zh-CN"


@pytest.fixture
def javascript() -> bool:
    return True


@pytest.fixture
def screen() -> str:
    return "phone"


@pytest.fixture
def watches() -> dict[Page, Watch]:
    return {}


@pytest.fixture
async def new_page(
    chromium: Browser, language: Lang, javascript: bool, screen: str, watches: dict[Page, Watch]
) -> AsyncIterator[NewPage]:
    contexts: list[BrowserContext] = []
    context_watches: list[Watch] = []

    async def open_page(
        *, language: Lang = language, javascript: bool = javascript, screen: str = screen
    ) -> Page:
        context = await chromium.new_context(
            viewport=SCREENS[screen],
            device_scale_factor=1,
            has_touch=screen != "desktop",
            locale=language,
            java_script_enabled=javascript,
        )
        context.set_default_timeout(ACTION_LIMIT_MS)
        contexts.append(context)
        watch = Watch(language, javascript=javascript)
        await watch.attach(context)
        context_watches.append(watch)
        page = await context.new_page()
        watches[page] = watch
        return page

    yield open_page
    for context in contexts:
        await context.close()
    problems = [problem for watch in context_watches for problem in watch.problems()]
    if problems:
        pytest.fail("the browser saw:\n  " + "\n  ".join(problems))


@pytest.fixture
async def page(new_page: NewPage) -> Page:
    return await new_page()


@pytest.fixture
def watch_of(watches: dict[Page, Watch]) -> Callable[[Page], Watch]:
    return watches.__getitem__


@pytest.fixture
async def look(
    request: pytest.FixtureRequest, chromium: Browser, watches: dict[Page, Watch]
) -> AsyncIterator[Look]:
    scanners: dict[str, BrowserContext] = {}

    async def scanner_for(page: Page) -> BrowserContext | None:
        # axe needs scripts: a page seen without JavaScript is scanned in a copy that has them.
        watch = watches[page]
        if watch.javascript:
            return None
        language = watch.language
        if language not in scanners:
            scanner = await chromium.new_context(viewport=PHONE, locale=language)
            # Only for its guard: the copy's requests leave no more than the page's did (the
            # page's own watch has reported them).
            await Watch(language, javascript=True).attach(scanner)
            scanners[language] = scanner
        return scanners[language]

    yield Look(request.module.__name__.rsplit(".", 1)[-1], watches, scanner_for)
    for context in scanners.values():
        await context.close()
