"""A family's elders in a real browser at a phone's size: add one, change the details, record an
assessment and read the level and why, in both languages, each page scanned and photographed;
and the same done without JavaScript, by keyboard."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import Page

from respite.dev.city import gazetteer
from respite.i18n import LANGUAGES, Lang, t
from respite.places.service import replace_places
from tests.browser.actions import say
from tests.browser.harness import Look

ELDER_PAGE = re.compile(r"/elders/\d+$")
LEVEL = re.compile(r"/elders/\d+#level$")


@pytest.fixture
async def places(db: Any) -> None:
    await replace_places(db, gazetteer())


async def sign_up(page: Page, url: str, login: str) -> None:
    await page.goto(f"{url}/register")
    await page.fill("#f-name", "李明")
    await page.fill("#f-login", login)
    await page.fill("#f-password", "a long enough secret")
    await page.click("form[action='/register'] button[type=submit]")
    await page.wait_for_url(f"{url}/elders")


@pytest.mark.parametrize("language", LANGUAGES)
async def test_a_family_adds_an_elder_changes_them_and_records_an_assessment(
    live_server: str, page: Page, look: Look, language: Lang, places: None
) -> None:
    await sign_up(page, live_server, f"li-{language}@example.test")
    assert await page.get_attribute("html", "lang") == language
    await look(page, "list-empty")
    await page.click("a[href='/elders/new']")
    await look(page, "new")

    await page.click("form[action='/elders/new'] button[type=submit]")
    summary = page.locator(".error-summary")
    assert await summary.is_visible()
    await look(page, "new-refused")
    await summary.locator("a[href='#f-birth_date']").click()
    assert await page.evaluate("document.activeElement.id") == "f-birth_date"

    await page.fill("#f-name", "王秀英")
    await page.click("label[for='f-sex']")
    await page.fill("#f-birth_date", "1941-04-03")
    await page.fill("#f-home_address", "上海市徐汇区天平路 12 号")
    await page.fill("#f-home_place", "天平路街道")
    await page.click("label[for='f-living_situation']")
    await page.check("#f-needs")
    await page.check("#f-needs-fall_risk")
    await page.fill("#f-emergency_contact_name", "李明")
    await page.fill("#f-emergency_contact_phone", "138 0013 8000")
    await page.click("form[action='/elders/new'] button[type=submit]")
    await page.wait_for_url(ELDER_PAGE)
    assert await page.text_content("h1") == "王秀英"
    assert say("page.elders.detail.none", language) in await page.inner_text("main")
    await look(page, "elder-new")

    await page.click("a[href$='/edit']")
    await look(page, "edit")
    await page.uncheck("#f-needs-fall_risk")
    await page.check("#f-needs-wheelchair")
    await page.click("form[action$='/edit'] button[type=submit]")
    await page.wait_for_url(ELDER_PAGE)
    main = await page.inner_text("main")
    assert say("page.elders.need.wheelchair", language) in main
    assert say("page.elders.need.fall_risk", language) not in main

    await page.click("main a[href$='/assessment']")
    await look(page, "assess")
    await page.fill("#f-self_care", "40")
    await page.click("form button[type=submit]")
    await page.wait_for_selector(".error-summary")
    await look(page, "assess-refused")
    for field, score in (("self_care", "20"), ("mobility", "10"), ("mental", "12")):
        await page.fill(f"#f-{field}", score)
    await page.fill("#f-perception_social", "8")
    await page.check("#f-dementia_or_mental_disorder")
    await page.fill("#f-assessed_on", "2026-11-20")
    await page.fill("#f-assessor", "张医生")
    await page.fill("#f-organisation", "徐汇区老年人能力评估中心")
    await page.click("form button[type=submit]")
    await page.wait_for_url(LEVEL)
    main = await page.inner_text("main")
    level = say("page.elders.detail.level_now", language, level=3, name=t("page.elders.level.3"))
    assert level in main
    why = say("page.elders.reason.dementia_or_mental_disorder.applied", language, before=2, after=3)
    assert why in main
    await look(page, "elder-assessed")

    await page.click("nav a[href='/elders']")
    assert say("page.elders.list.level", language, level=3, name=t("page.elders.level.3")) in (
        await page.inner_text("main")
    )
    await look(page, "list")


@pytest.mark.parametrize("language", ["en"])
@pytest.mark.parametrize("javascript", [False])
async def test_without_javascript_by_keyboard(
    live_server: str, page: Page, look: Look, places: None
) -> None:
    """The whole of it with the keyboard alone, in a browser that runs no script."""
    await sign_up(page, live_server, "keys@example.test")
    await page.goto(f"{live_server}/elders/new")
    await page.focus("#f-name")
    await page.keyboard.type("Zhao Lan")
    await page.focus("#f-sex-male")
    await page.keyboard.press("Space")
    await page.focus("#f-birth_date")
    await page.keyboard.type("1936-02-01")
    await page.focus("#f-home_place")
    await page.keyboard.type("Tianping")
    await page.keyboard.press("Enter")  # a name that is not one place: the places it may be
    await page.wait_for_selector(".error-summary")
    assert await page.locator(".error-summary a[href='#f-home_place']").count() == 1
    await look(page, "home-choice")
    await page.focus("input[name=home_place_choice]")
    await page.keyboard.press("Space")
    await page.focus("#f-needs-wheelchair")
    await page.keyboard.press("Space")
    await page.focus("#f-name")
    await page.keyboard.press("Enter")
    await page.wait_for_url(ELDER_PAGE)
    main = await page.inner_text("main")
    assert "Zhao Lan" in main and "Tianping Lu Subdistrict" in main and "Male" in main
    await look(page, "elder-by-keyboard")

    await page.goto(page.url + "/assessment")
    for field, score in (("self_care", "5"), ("mobility", "3"), ("mental", "10")):
        await page.focus(f"#f-{field}")
        await page.keyboard.type(score)
    await page.focus("#f-perception_social")
    await page.keyboard.type("2")
    await page.focus("#f-coma")
    await page.keyboard.press("Space")
    await page.focus("#f-assessed_on")
    await page.keyboard.type("2026-11-02")
    await page.focus("#f-assessor")
    await page.keyboard.type("Dr Wu")
    await page.focus("#f-organisation")
    await page.keyboard.type("Xuhui Assessment Centre")
    await page.keyboard.press("Enter")
    await page.wait_for_url(LEVEL)
    main = await page.inner_text("main")
    assert "Level 4: ability completely lost" in main
    assert "The total score is 20 of 90, which is level 4 (ability completely lost)." in main
    assert "In a coma: the level is 4, already the highest." in main
    await look(page, "assessed-by-keyboard")


@pytest.mark.parametrize("language", LANGUAGES)
async def test_large_print(live_server: str, page: Page, look: Look, language: Lang) -> None:
    await sign_up(page, live_server, f"big-{language}@example.test")
    await page.click("button[name=display][value=large]")
    await page.goto(f"{live_server}/elders/new")
    assert await page.get_attribute("html", "class") == "large"
    await look(page, "new-large")
    # A tap target of a radio is its whole line (60 px tall in large print).
    line = await page.locator(".choice").first.bounding_box()
    assert line is not None and line["height"] >= 60
    await page.fill("#f-name", "王秀英")
    await page.check("#f-sex")
    await page.fill("#f-birth_date", "1941-04-03")
    await page.click("form[action='/elders/new'] button[type=submit]")
    await page.wait_for_url(ELDER_PAGE)
    await page.click("main a[href$='/assessment']")
    await look(page, "assess-large")
    for field, score in (("self_care", "30"), ("mobility", "14"), ("mental", "25")):
        await page.fill(f"#f-{field}", score)
    await page.fill("#f-perception_social", "12")
    await page.fill("#f-risk_events_30d", "2")
    await page.fill("#f-assessed_on", "2026-11-20")
    await page.fill("#f-assessor", "张医生")
    await page.fill("#f-organisation", "徐汇区老年人能力评估中心")
    await page.click("form button[type=submit]")
    await page.wait_for_url(LEVEL)
    assert say("page.elders.reason.risk_events.applied", language, events=2, before=1, after=2) in (
        await page.inner_text("main")
    )
    await look(page, "elder-large")
