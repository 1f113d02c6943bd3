"""The catalog: both languages or none, the same figures in each, figures as people write them."""

import re
import string
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from respite.i18n import CATALOG, LANGUAGES, Lang, formats, money, negotiate, render, speaking, t
from respite.i18n.catalog import CatalogError, load


def test_no_message_is_a_placeholder() -> None:
    for message in CATALOG.values():
        for lang in LANGUAGES:
            assert "TODO" not in message.versions[lang], (message.key, lang)
        assert message.versions["zh-CN"] != message.versions["en"] or not any(
            c.isalpha() and c.isascii() for c in message.versions["en"]
        ), f"{message.key}: the Chinese is the English"


@pytest.mark.parametrize(
    ("toml", "complaint"),
    [
        ('[a.b]\nen = "x"\n', "a.b has ['en']"),
        ('[a]\nen = "x"\nzh-CN = "y"\nfr = "z"\n', "a has ['en', 'fr', 'zh-CN']"),
        ('[a]\nen = "{n} nights"\nzh-CN = "{m} 晚"\n', "a: en names figures ['n']"),
        ('a = "loose"\n', "a is neither a message"),
        # A figure is a name: never a position, an attribute, an index or a conversion.
        ('[a]\nen = "{} nights"\nzh-CN = "{} 晚"\n', "a: a figure is a name: {}"),
        ('[a]\nen = "{0} nights"\nzh-CN = "{0} 晚"\n', "a: a figure is a name: {0}"),
        ('[a]\nen = "{n.real}"\nzh-CN = "{n.real}"\n', r"a: a figure is a name: {n.real}"),
        ('[a]\nen = "{n[0]}"\nzh-CN = "{n[0]}"\n', r"a: a figure is a name: {n[0]}"),
        ('[a]\nen = "{n!r}"\nzh-CN = "{n!r}"\n', "a: a figure is a name: {n}"),
        ('[a]\nen = "{n:{w}}"\nzh-CN = "{n:{w}}"\n', "a: a figure is a name: {n}"),
    ],
)
def test_an_incomplete_catalog_does_not_load(tmp_path: Path, toml: str, complaint: str) -> None:
    (tmp_path / "x.toml").write_text(toml, encoding="utf-8")
    with pytest.raises(CatalogError, match=re.escape(complaint)):
        load(tmp_path)


def test_a_message_defined_in_two_files_does_not_load(tmp_path: Path) -> None:
    for name in ("one", "two"):
        (tmp_path / f"{name}.toml").write_text('[a]\nen = "x"\nzh-CN = "y"\n', encoding="utf-8")
    with pytest.raises(CatalogError, match="defined twice"):
        load(tmp_path)


def test_unknown_keys_and_figures_are_bugs() -> None:
    with pytest.raises(KeyError, match="no message"):
        t("no.such.message")
    with pytest.raises(KeyError, match="takes figures"):
        t("problem.detail.busy", extra=1)
    with pytest.raises(KeyError, match="takes figures"):
        t("problem.detail.timeout")


class Said:
    """A figure for ``str.format`` that says itself as ``render`` must: what each of the
    catalog's ways (``{total:money}``, ``{distance:distance}``, ``{names:or}``) means."""

    def __init__(self, value: object, lang: Lang) -> None:
        self.value, self.lang = value, lang

    def __format__(self, how: str) -> str:
        if how == "money":
            return money(self.value, self.lang)  # type: ignore[arg-type]
        if how == "distance":
            return formats.distance(self.value, self.lang)  # type: ignore[arg-type]
        if how == "or":
            return formats.listing(self.value, self.lang, "or")  # type: ignore[arg-type]
        return format(self.value, how)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_message_is_said_as_str_format_says_it(lang: Lang) -> None:
    """``render`` reads each message once, at load: what it says is still what ``str.format``
    makes of the message, each figure said in the language's way."""
    for message in CATALOG.values():
        figures: dict[str, object] = {}
        for _, name, how, _ in string.Formatter().parse(message.versions[lang]):
            if name:
                figures[name] = {"money": 123456, "distance": 1250.0, "or": ["a", "b"]}.get(
                    how or "", 7
                )
        expected = message.versions[lang].format(
            **{name: Said(value, lang) for name, value in figures.items()}
        )
        assert render(t(message.key, **figures), lang) == expected, message.key


@pytest.mark.parametrize(
    ("header", "default", "expected"),
    [
        (None, "zh-CN", "zh-CN"),
        (None, "en", "en"),
        ("", "zh-CN", "zh-CN"),
        ("en", "zh-CN", "en"),
        ("en-GB,en;q=0.8", "zh-CN", "en"),
        ("zh-CN,zh;q=0.9,en;q=0.8", "en", "zh-CN"),
        ("zh-TW", "en", "zh-CN"),
        ("zh-Hans", "en", "zh-CN"),
        ("fr-FR,en;q=0.5", "zh-CN", "en"),
        ("fr-FR", "en", "en"),
        ("de, *;q=0.1", "en", "en"),
        ("en;q=0.3,zh;q=0.7", "en", "zh-CN"),
        ("en;q=0,zh-CN", "en", "zh-CN"),
        ("en;q=bogus,zh", "en", "zh-CN"),
        ("EN-us", "zh-CN", "en"),
        ("zh;q=0.5,en;q=0.5", "en", "zh-CN"),
    ],
)
def test_accept_language_is_negotiated(header: str | None, default: Lang, expected: Lang) -> None:
    assert negotiate(header, default) == expected


@pytest.mark.parametrize(
    ("fen", "lang", "expected"),
    [
        (32_000, "en", "¥320.00"),
        (32_000, "zh-CN", "320.00 元"),
        (5, "en", "¥0.05"),
        (123_456_789, "zh-CN", "1,234,567.89 元"),
        (-1_050, "en", "-¥10.50"),
    ],
)
def test_money_reads_as_yuan(fen: int, lang: Lang, expected: str) -> None:
    assert money(fen, lang) == expected


def test_figures_are_written_as_each_language_writes_them() -> None:
    text = t(
        "input.wrong_type",
        expected=[t("input.type.int"), t("input.type.null")],
        got=t("input.type.text"),
    )
    assert render(text, "en") == "expected a whole number or null, got text"
    assert render(text, "zh-CN") == "应为整数或空值（null），实际为文本"
    busy = t("problem.detail.timeout", seconds="30")
    with speaking("en"):
        assert render(busy).startswith("The request took longer than 30 seconds")
    with speaking("zh-CN"):
        assert render(busy).startswith("请求耗时超过 30 秒")


def test_dates_and_times_follow_the_language() -> None:
    from respite.i18n import formats

    assert formats.day(date(2027, 3, 1), "zh-CN") == "2027年3月1日"
    assert formats.day(date(2027, 3, 1), "en") == "March 1, 2027"
    at = datetime(2027, 3, 1, 14, 5, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert formats.moment(at, "zh-CN").startswith("2027年3月1日 14:05")
    assert "2:05" in formats.moment(at, "en")
    assert formats.distance(850, "zh-CN") == "850 米"
    assert formats.distance(1_240, "en") == "1.2 km"
