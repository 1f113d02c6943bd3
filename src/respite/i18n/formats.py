"""Figures as people write them: yuan, dates, distances and lists, in each language.

Amounts are integers of fen everywhere in the API; only words show yuan. Dates and lists
follow CLDR through Babel, so ``2027年3月1日`` and ``March 1, 2027``, ``甲、乙和丙`` and
``a, b and c`` come from the same data every Chinese and English program uses.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from functools import cache, lru_cache
from typing import Final, Literal

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.lists import format_list

from respite.i18n.language import Lang

__all__ = ["day", "distance", "listing", "locale", "moment", "money"]

_LOCALES: Final[dict[Lang, str]] = {"zh-CN": "zh_Hans_CN", "en": "en"}


@cache
def locale(lang: Lang) -> Locale:
    return Locale.parse(_LOCALES[lang])


def money(fen: int, lang: Lang) -> str:
    """``¥320.00`` in English, ``320.00 元`` in Chinese."""
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(fen), 100)
    figure = f"{yuan:,}.{cents:02d}"
    return f"{sign}{figure} 元" if lang == "zh-CN" else f"{sign}¥{figure}"


@lru_cache(maxsize=4096)  # CLDR formatting costs ~10 µs; a search repeats its dates
def day(value: date, lang: Lang) -> str:
    return format_date(value, "long", locale=locale(lang))


def moment(value: datetime, lang: Lang) -> str:
    """A time in its own zone (callers pass the facility's local time)."""
    return format_datetime(value, "medium", tzinfo=value.tzinfo, locale=locale(lang))


def distance(metres: float, lang: Lang) -> str:
    if metres < 1000:
        return f"{round(metres)} 米" if lang == "zh-CN" else f"{round(metres)} m"
    km = f"{metres / 1000:.1f}"
    return f"{km} 公里" if lang == "zh-CN" else f"{km} km"


def listing(items: Sequence[str], lang: Lang, style: Literal["standard", "or"]) -> str:
    return format_list(list(items), style=style, locale=locale(lang))
