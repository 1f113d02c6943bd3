"""The pages' templates, one environment per language: a message without figures is its words
from the moment a template is compiled, anything else is said as the page is drawn, and
every word is escaped as the page's other values are."""

from __future__ import annotations

from datetime import date

import pytest
from markupsafe import escape

from respite.i18n import LANGUAGES, Lang, formats, render, t
from respite.pages.templating import PageTemplates


@pytest.fixture(scope="module")
def templates() -> PageTemplates:
    return PageTemplates(None, None)


def draw(templates: PageTemplates, source: str, lang: Lang, **context: object) -> str:
    return templates.render_string(source, {"html_lang": lang, **context})


@pytest.mark.parametrize("lang", LANGUAGES)
def test_words_without_figures_are_said_when_compiled(templates: PageTemplates, lang: Lang) -> None:
    source = '<p>{{ t("page.footer") }}</p>{% set w = t("page.service") %}{{ w }}'
    code = templates.environments[lang].compile(source, raw=True)
    words = render(t("page.footer"), lang)
    assert "context.call" not in code and str(escape(words)) in code
    service = render(t("page.service"), lang)
    assert draw(templates, source, lang) == f"<p>{escape(words)}</p>{service}"


def test_the_compiled_words_are_escaped(templates: PageTemplates) -> None:
    # "A service of the city's respite care programme...": its apostrophe, escaped once.
    assert "city&#39;s" in draw(templates, '{{ t("page.footer") }}', "en")
    assert "city's" not in draw(templates, '{{ t("page.footer") }}', "en")


def test_an_unknown_key_fails_the_template_not_a_page(templates: PageTemplates) -> None:
    with pytest.raises(KeyError, match=r"no message 'page\.no_such'"):
        draw(templates, '{{ t("page.no_such") }}', "en")
    with pytest.raises(KeyError, match="takes figures"):
        draw(templates, '{{ t("page.search.result.heading_many") }}', "en")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_figures_and_chosen_keys_are_said_as_the_page_is_drawn(
    templates: PageTemplates, lang: Lang
) -> None:
    source = '{{ t(key) }}|{{ t("page.search.result.heading_many", count=n) }}|{{ t("page." ~ k) }}'
    drawn = draw(templates, source, lang, key="page.service", n=3, k="footer")
    heading = render(t("page.search.result.heading_many", count=3), lang)
    footer = escape(render(t("page.footer"), lang))
    assert drawn == f"{render(t('page.service'), lang)}|{heading}|{footer}"


def test_a_method_named_t_is_not_a_message(templates: PageTemplates) -> None:
    class Other:
        def t(self, word: str) -> str:
            return f"<{word}>"

    assert draw(templates, '{{ other.t("page.service") }}', "en", other=Other()) == (
        "&lt;page.service&gt;"
    )


@pytest.mark.parametrize("lang", LANGUAGES)
def test_each_language_says_values_in_its_own(templates: PageTemplates, lang: Lang) -> None:
    source = "{{ reason }}|{{ fen|money }}|{{ day|day }}|{{ metres|distance }}"
    drawn = draw(
        templates,
        source,
        lang,
        reason=t("page.service"),
        fen=12345,
        day=date(2027, 3, 1),
        metres=900,
    )
    said = [
        render(t("page.service"), lang),
        formats.money(12345, lang),
        formats.day(date(2027, 3, 1), lang),
        formats.distance(900, lang),
    ]
    assert drawn == "|".join(str(escape(s)) for s in said)


def test_a_page_is_drawn_in_its_language(templates: PageTemplates) -> None:
    page = templates.get_template("error.html")
    assert templates.get_template("error.html") is page  # both languages, compiled once
    for lang in LANGUAGES:
        assert set(page.versions) == set(LANGUAGES)
        drawn = draw(templates, '{{ t("page.service") }}', lang)
        assert drawn == render(t("page.service"), lang)
