"""The search pages in a real browser (issue #14): a search by place name in both languages,
its results (the reasons nearer places were not offered, the shifted dates), a facility's
page, a refused search, a family's search for its elder, and the search without JavaScript.
Every page is scanned and photographed (``look``)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from playwright.async_api import Page

from respite.clock import ManualClock
from respite.dev.city import gazetteer
from respite.i18n import LANGUAGES, Lang
from respite.places.service import replace_places
from tests import builders, dates
from tests.browser.actions import say, tab_to
from tests.browser.harness import Look

TIANPING = (31.2055, 121.4400)  # 徐汇区天平路街道
KM_LAT = 1 / 111.195
PASSWORD = "a long enough secret"


@pytest.fixture
async def tianping(db: Any, clock: ManualClock) -> dict[str, Any]:
    """Near 天平路: a facility without oxygen, one with it further away, and one nearer whose
    oxygen bed is taken on the stay's first night (free a day later)."""
    when = dates.when(clock, ahead=20)
    await replace_places(db, gazetteer())
    lat, lon = TIANPING
    plain = await builders.facility(db, lat=lat + 0.3 * KM_LAT, lon=lon, name="徐汇康乐之家")
    busy = await builders.facility(db, lat=lat + 0.9 * KM_LAT, lon=lon, name="枫林颐养院")
    oxygen = await builders.facility(
        db,
        lat=lat + 1.2 * KM_LAT,
        lon=lon,
        name="衡山护理院",
        address="上海市徐汇区衡山路 100 号",
        phone="021 6431 0000",
        district="徐汇区",
        community="天平路街道",
        visiting_hours="每天 9:00–11:30、14:00–17:00",
        price_includes="三餐、日常护理、洗衣",
        description="紧邻衡山公园的护理院，有康复室和花园。",
    )
    await builders.bed(db, plain, price=18000)
    booked = await builders.bed(db, busy, capabilities=("oxygen",), price=21000)
    await builders.booking(db, booked, when.d, when.d + timedelta(days=1))
    await builders.bed(db, oxygen, capabilities=("oxygen", "wheelchair"), price=22000)
    await builders.bed(db, oxygen, capabilities=("oxygen",), price=26000)
    return {
        "check_in": when.d.isoformat(),
        "check_out": (when.d + timedelta(days=3)).isoformat(),
        "shifted": (when.d + timedelta(days=1)).isoformat(),
        "oxygen": oxygen,
    }


async def fill_search(page: Page, place: str, stay: dict[str, Any], *, oxygen: bool) -> None:
    await page.fill("#f-place", place)
    await page.fill("#f-check_in", stay["check_in"])
    await page.fill("#f-check_out", stay["check_out"])
    if oxygen:  # among the needs, folded away until opened
        if not await page.is_visible("input[name=needs][value=oxygen]"):
            await page.click("details.more > summary")
        await page.check("input[name=needs][value=oxygen]")


@pytest.mark.parametrize(
    ("language", "place"), [("zh-CN", "天平路"), ("en", "Tianping Lu Subdistrict")]
)
async def test_a_search_by_place_name_its_results_and_a_facility(
    live_server: str,
    page: Page,
    look: Look,
    language: Lang,
    place: str,
    tianping: dict[str, Any],
) -> None:
    await page.goto(live_server)
    await page.click(f"nav >> text={say('page.nav.search', language)}")
    assert await page.text_content("h1") == say("page.search.title", language)
    await look(page, "search-form")
    await fill_search(page, place, tianping, oxygen=True)
    await page.click("#f-search")
    results = page.locator("section.results")
    await results.wait_for()
    assert "衡山护理院" in await results.inner_text()
    assert "徐汇康乐之家" in await page.inner_text("section.excluded")
    assert "枫林颐养院" in await page.inner_text("section.shifted")
    await look(page, "search-results")
    # What was asked is said in words, and the form comes back filled in to change it.
    assert say("page.search.need.oxygen", language) in await results.inner_text()
    await page.click("#change-search")
    await page.locator("#f-place").wait_for()
    assert await page.input_value("#f-place") == place
    assert await page.is_checked("input[name=needs][value=oxygen]")
    assert await page.locator("section.results").count() == 0
    await look(page, "search-change")
    await page.go_back()
    await page.click(f"section.shifted >> text={say('page.search.shifted.search_these', language)}")
    await page.wait_for_url(f"**check_in={tianping['shifted']}**")
    assert "枫林颐养院" in await page.inner_text("section.results")
    await look(page, "search-shifted")
    await page.click("section.results >> text=衡山护理院")
    await page.wait_for_url(f"{live_server}/facilities/{tianping['oxygen']}")
    assert await page.text_content("h1") == "衡山护理院"
    assert await page.get_attribute("a.tel", "href") == "tel:02164310000"
    assert say("facility_profile.capability.oxygen", language) in await page.inner_text("main")
    await look(page, "facility")


@pytest.mark.parametrize("language", LANGUAGES)
async def test_a_refused_search_names_each_field(
    live_server: str, page: Page, look: Look, language: Lang, tianping: dict[str, Any]
) -> None:
    await page.goto(f"{live_server}/search")
    await fill_search(
        page,
        "Nowhere",
        {"check_in": tianping["check_out"], "check_out": tianping["check_in"]},
        oxygen=False,
    )
    await page.click("#f-search")
    summary = page.locator(".error-summary")
    await summary.wait_for()
    assert await summary.locator("a").count() == 1  # the dates first: no place is looked up
    await page.wait_for_function("document.activeElement.matches('[data-error-summary]')")
    await look(page, "search-errors")
    await summary.locator('a[href="#f-check_out"]').click()
    assert await page.evaluate("document.activeElement.id") == "f-check_out"
    await page.fill("#f-check_out", (tianping["check_out"]))
    await page.fill("#f-check_in", (tianping["check_in"]))
    await page.click("#f-search")
    await page.locator('.error-summary a[href="#f-place"]').wait_for()
    await look(page, "search-unknown-place")


@pytest.mark.parametrize("javascript", [False])
async def test_the_search_without_javascript(
    live_server: str, page: Page, look: Look, tianping: dict[str, Any]
) -> None:
    await page.goto(f"{live_server}/search")
    await fill_search(page, "徐汇区", tianping, oxygen=True)
    await page.click("#f-search")
    await page.wait_for_url("**/search?*")
    assert "衡山护理院" in await page.inner_text("section.results")
    await look(page, "search-results-no-javascript")
    await page.click("section.shifted a.button")
    await page.wait_for_url(f"**check_in={tianping['shifted']}**")
    await look(page, "search-shifted-no-javascript")


async def test_a_family_searches_near_its_elders_home(
    live_server: str, page: Page, look: Look, db: Any, tianping: dict[str, Any]
) -> None:
    await page.goto(f"{live_server}/register?next=/search")
    await page.fill("#f-name", "李明")
    await page.fill("#f-login", "li@example.test")
    await page.fill("#f-password", PASSWORD)
    await page.click(f"button:has-text('{say('page.register.submit', 'zh-CN')}')")
    await page.wait_for_url(f"{live_server}/search")
    family = await db.fetchval("SELECT id FROM principals WHERE email = 'li@example.test'")
    elder = await builders.recipient(db, family_id=family, needs=("oxygen",), home=TIANPING)
    await page.reload()
    await page.check(f"input[name=care_recipient_id][value='{elder}']")
    await page.check("input[name=near_home][value=true]")
    await page.fill("#f-check_in", tianping["check_in"])
    await page.fill("#f-check_out", tianping["check_out"])
    await page.click("#f-search")
    hold = page.locator("section.results form[action='/holds'] button")
    await hold.first.wait_for()
    assert await hold.count() == 1
    assert await page.input_value("section.results form input[name=care_recipient_id]") == str(
        elder
    )
    await look(page, "search-for-an-elder")


async def test_the_results_in_large_print(
    live_server: str, page: Page, look: Look, tianping: dict[str, Any]
) -> None:
    await page.goto(f"{live_server}/search")
    await page.click("button[name=display][value=large]")
    await page.wait_for_url(f"{live_server}/search")
    await fill_search(page, "天平路街道", tianping, oxygen=True)
    await page.click("#f-search")
    await page.locator("section.results").wait_for()
    assert await page.get_attribute("html", "class") == "large"
    await look(page, "search-results-large-print")  # 60×60 tap targets, 22 px text
    await page.click("section.results >> text=衡山护理院")
    await page.wait_for_url(f"{live_server}/facilities/{tianping['oxygen']}")
    await look(page, "facility-large-print")


async def test_a_search_by_keyboard_alone(
    live_server: str, page: Page, look: Look, tianping: dict[str, Any]
) -> None:
    await page.goto(f"{live_server}/search")
    await tab_to(page, "#f-place")
    await page.keyboard.type("天平路街道")
    for field in ("check_in", "check_out"):
        await tab_to(page, f"#f-{field}")
        # The order of a date field's parts follows the machine's locale, not the page's:
        # the date is filled, the field reached and left by keyboard.
        await page.fill(f"#f-{field}", tianping[field])
    await page.keyboard.press("Enter")
    await page.locator("section.results").wait_for()
    # From the top: the link to change the search, the one to sign in to hold a bed, then
    # the first facility's name.
    await page.evaluate("document.activeElement.blur()")
    await tab_to(page, "#change-search")
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.id") == "sign-in-to-hold"
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.matches('.results h3 a')")
    name = await page.evaluate("document.activeElement.textContent")
    assert name == "徐汇康乐之家"  # no needs given: the nearest, oxygen or not
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/facilities/*")
    assert await page.text_content("h1") == name
    await look(page, "facility-by-keyboard")
