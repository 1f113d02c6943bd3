"""How a page is rendered: one Jinja environment, every word said in the page's language.

A page's template receives the values its use case answered with. A ``Text`` among them (a
reason, a title, an error) renders itself in the page's language wherever the template prints
it (the environment's ``finalize``), exactly as it does in a JSON answer; templates write
their own words as ``t("page.key", figure=...)``. The page's language is the context's
``html_lang`` (``frame.page`` puts the request's there), not the language middleware's
context variable: an error page is rendered after the middleware has been left. Nothing in a
template is English or Chinese: both languages come from the catalog, so no page mixes them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context
from jinja2.runtime import Context
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig

from respite.i18n import LANGUAGES, Lang, Text, current_language, formats, render, t

__all__ = ["TEMPLATES", "template_config", "words_in"]

TEMPLATES: Final = Path(__file__).parent / "templates"


def _lang(context: Context) -> Lang:
    lang = context.get("html_lang")
    return lang if lang in LANGUAGES else current_language()


@pass_context
def _finalize(context: Context, value: Any) -> Any:
    if isinstance(value, Text):
        return render(value, _lang(context))
    return value


@functools.lru_cache(maxsize=8192)
def _said(key: str, lang: Lang, figures: tuple[tuple[str, Any], ...]) -> str:
    """A message with these figures in ``lang``: the same words each time (a page's labels,
    a search's prices and counts recur), so said once."""
    return render(t(key, **dict(figures)), lang)


@pass_context
def _say(context: Context, key: str, /, **figures: Any) -> str:
    return words_in(_lang(context))(key, **figures)


@functools.cache
def words_in(lang: Lang) -> Callable[..., str]:
    """The templates' ``t`` for one language, as ``frame.page`` passes it: a function that
    needs no template context, since Jinja copies the whole context for every call of one
    that does, made inside a block (a page's every word)."""

    def say(key: str, /, **figures: Any) -> str:
        try:
            return _said(key, lang, tuple(figures.items()))
        except TypeError:  # a figure that cannot be a key (a list): said every time
            return render(t(key, **figures), lang)

    return say


@pass_context
def _money(context: Context, fen: int) -> str:
    return formats.money(fen, _lang(context))


@pass_context
def _day(context: Context, value: date | str) -> str:
    when = date.fromisoformat(value) if isinstance(value, str) else value
    return formats.day(when, _lang(context))


@pass_context
def _moment(context: Context, value: datetime | str, zone: str | None = None) -> str:
    """A moment as the reader says it; in ``zone`` (a facility's time zone) when given, since
    the database's moments are UTC and a desk reads its own clock."""
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    if zone:
        when = when.astimezone(ZoneInfo(zone))
    return formats.moment(when, _lang(context))


@pass_context
def _distance(context: Context, metres: float) -> str:
    return formats.distance(metres, _lang(context))


@pass_context
def _listing(context: Context, items: list[Any], style: str = "standard") -> str:
    lang = _lang(context)
    words = [render(item, lang) if isinstance(item, Text) else str(item) for item in items]
    return formats.listing(words, lang, "or" if style == "or" else "standard")


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.globals["t"] = _say
    env.filters["money"] = _money
    env.filters["day"] = _day
    env.filters["moment"] = _moment
    env.filters["distance"] = _distance
    env.filters["listing"] = _listing
    return env


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    """The app's templates: Jinja2 through Litestar's template support."""
    return TemplateConfig(instance=JinjaTemplateEngine.from_environment(_environment()))
