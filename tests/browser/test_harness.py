"""The browser harness itself: real pages pass, a bad page fails, a CDN is caught.

Also the example for page tests: serve the app (``live_server``), open a ``page`` (zh-CN
unless ``language`` is parametrized), ``look`` at every page visited.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.async_api import Page

from respite.i18n import LANGUAGES, Lang, render
from respite.problems import documented_kinds
from tests.browser.harness import Look, Watch

INACCESSIBLE = """<!doctype html><html><head><meta charset="utf-8"></head><body>
<p style="color:#bbb;background:#fff">Grey on white, too faint to read</p>
<input type="text" name="who">
</body></html>"""
# As a page that loads a library from a CDN would.
ADD_SCRIPT = """src => {
    const script = document.createElement("script");
    script.src = src;
    document.head.append(script);
}"""


@pytest.mark.parametrize("language", LANGUAGES)
async def test_the_problem_pages_read_well_on_a_phone(
    live_server: str, page: Page, look: Look, language: Lang
) -> None:
    await page.goto(f"{live_server}/problems/")
    assert await page.get_attribute("html", "lang") == language
    # The API's reference, for integrators: not held to the families' age-friendly rules.
    await look(page, "index", age_friendly_rules=False)
    slug, kind = sorted(documented_kinds().items())[0]
    await page.click(f'a[href="/problems/{slug}"]')
    await page.wait_for_url(f"{live_server}/problems/{slug}")
    assert await page.text_content("h1") == render(kind.title, language)
    await look(page, "problem", age_friendly_rules=False)


@pytest.mark.parametrize("javascript", [False])
async def test_a_page_without_javascript_is_scanned_too(
    live_server: str, page: Page, look: Look
) -> None:
    await page.goto(f"{live_server}/problems/not-found")
    await look(page, "no-javascript", age_friendly_rules=False)


async def test_an_inaccessible_page_fails_the_scan(page: Page, look: Look) -> None:
    await page.set_content(INACCESSIBLE)
    with pytest.raises(pytest.fail.Exception) as failed:
        await look(page, "inaccessible")
    report = str(failed.value)
    for rule in ("color-contrast", "label", "html-has-lang", "document-title"):
        assert f"accessibility: {rule} (" in report
    assert "input" in report  # the targets are named


@pytest.mark.parametrize("javascript", [False])
async def test_an_inaccessible_page_fails_the_scan_without_javascript(
    live_server: str, page: Page, look: Look
) -> None:
    await page.route(
        f"{live_server}/bad",
        lambda route: route.fulfill(body=INACCESSIBLE, content_type="text/html"),
    )
    await page.goto(f"{live_server}/bad")
    with pytest.raises(pytest.fail.Exception) as failed:
        await look(page, "inaccessible")
    assert "accessibility: label (critical)" in str(failed.value)


async def test_a_request_outside_this_machine_is_caught(
    live_server: str, page: Page, look: Look, watch_of: Callable[[Page], Watch]
) -> None:
    await page.goto(f"{live_server}/problems/")
    async with page.expect_event("requestfailed"):
        await page.evaluate(ADD_SCRIPT, "https://cdn.example.invalid/library.js")
    assert watch_of(page).outside_requests == ["https://cdn.example.invalid/library.js"]
    with pytest.raises(pytest.fail.Exception) as failed:
        await look(page, "outside")
    assert "request outside this machine (aborted): https://cdn.example.invalid" in str(
        failed.value
    )


async def test_a_script_error_is_caught(
    live_server: str, page: Page, watch_of: Callable[[Page], Watch]
) -> None:
    await page.goto(f"{live_server}/problems/")
    await page.add_script_tag(
        content="console.error('broken'); setTimeout(() => { throw new Error('uncaught') })"
    )
    await page.wait_for_function("true")
    await page.wait_for_timeout(50)
    watch = watch_of(page)
    assert any("broken" in text for text in watch.console_errors)
    assert any("uncaught" in text for text in watch.page_errors)
    watch.forgive()
