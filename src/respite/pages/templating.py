"""How a page is rendered: one Jinja environment per language, every word said in it.

A page's template receives the values its use case answered with. A ``Text`` among them (a
reason, a title, an error) renders itself in the page's language wherever the template prints
it (the environment's ``finalize``), exactly as it does in a JSON answer; templates write
their own words as ``t("page.key", figure=...)``. The page's language is the context's
``html_lang`` (``frame.page`` puts the request's there), not the language middleware's
context variable: an error page is rendered after the middleware has been left. Nothing in a
template is English or Chinese: both languages come from the catalog, so no page mixes them.

Each language has its own environment, so each template is compiled once per language, and
what does not change from one page to the next is said then, not on every page: a ``t`` of a
key alone (``t("page.service")``, most of a page's words) becomes the words themselves when
the template is compiled (``SaidOnce``), and Jinja joins them, escaped, to the HTML around
them; filters and ``finalize`` know their language without reading the page's context.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any, Final, cast
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context
from jinja2 import Template as JinjaTemplate
from jinja2 import TemplateNotFound as JinjaTemplateNotFound
from jinja2.ext import Extension
from jinja2.lexer import Token, TokenStream
from litestar.exceptions import TemplateNotFoundException
from litestar.template.base import TemplateCallableType
from litestar.template.config import TemplateConfig

from respite.i18n import LANGUAGES, Lang, Text, current_language, formats, render, t

__all__ = ["TEMPLATES", "PageTemplates", "template_config", "words_in"]

TEMPLATES: Final = Path(__file__).parent / "templates"


@functools.lru_cache(maxsize=8192)
def _said(key: str, lang: Lang, figures: tuple[tuple[str, Any], ...]) -> str:
    """A message with these figures in ``lang``: the same words each time (a page's labels,
    a search's prices and counts recur), so said once."""
    return render(t(key, **dict(figures)), lang)


@functools.cache
def words_in(lang: Lang) -> Callable[..., str]:
    """The templates' ``t`` for one language (and the pages' own, to say words in Python): a
    function that needs no template context, since Jinja copies the whole context for every
    call of one that does, made inside a block (a page's every word)."""

    def say(key: str, /, **figures: Any) -> str:
        try:
            return _said(key, lang, tuple(figures.items()))
        except TypeError:  # a figure that cannot be a key (a list): said every time
            return render(t(key, **figures), lang)

    return say


class SaidOnce(Extension):
    """``t("key")``, a message without figures, is its words in the environment's language
    from the moment the template is compiled: a constant, which Jinja escapes once and joins
    to the template's text. A key the catalog lacks, or one that takes figures, fails the
    template's compilation (naming it) rather than a page. ``t(name)``, ``t("a." ~ b)`` and
    ``t("key", figure=...)`` are said when the page is drawn, by the ``t`` of the globals."""

    def filter_stream(self, stream: TokenStream) -> Iterator[Token]:
        say = cast("Callable[..., str]", self.environment.globals["t"])
        tokens = list(stream)
        i = 0
        while i < len(tokens):
            token = tokens[i]
            after = tokens[i + 1 : i + 4]
            if (
                token.test("name:t")
                and not (i and tokens[i - 1].test("dot"))
                and [a.type for a in after] == ["lparen", "string", "rparen"]
            ):
                yield Token(token.lineno, "string", say(after[1].value))
                i += 4
                continue
            yield token
            i += 1


def _environment(lang: Lang) -> Environment:
    """The environment of the pages in ``lang``."""

    def finalize(value: Any) -> Any:
        return render(value, lang) if isinstance(value, Text) else value

    def day(value: date | str) -> str:
        return formats.day(date.fromisoformat(value) if isinstance(value, str) else value, lang)

    def moment(value: datetime | str, zone: str | None = None) -> str:
        """A moment as the reader says it; in ``zone`` (a facility's time zone) when given,
        since the database's moments are UTC and a desk reads its own clock."""
        when = datetime.fromisoformat(value) if isinstance(value, str) else value
        if zone:
            when = when.astimezone(ZoneInfo(zone))
        return formats.moment(when, lang)

    def listing(items: list[Any], style: str = "standard") -> str:
        words = [render(item, lang) if isinstance(item, Text) else str(item) for item in items]
        return formats.listing(words, lang, "or" if style == "or" else "standard")

    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        finalize=finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
        # Every template of the pages, compiled once for the process's life.
        cache_size=-1,
    )
    env.globals["t"] = words_in(lang)
    env.add_extension(SaidOnce)
    env.filters["money"] = functools.partial(_money, lang=lang)
    env.filters["day"] = day
    env.filters["moment"] = moment
    env.filters["distance"] = functools.partial(_distance, lang=lang)
    env.filters["listing"] = listing
    return env


def _money(fen: int, lang: Lang) -> str:
    return formats.money(fen, lang)


def _distance(metres: float, lang: Lang) -> str:
    return formats.distance(metres, lang)


class Bilingual:
    """One template in each language: ``render`` draws the one of the context's
    ``html_lang`` (the request's language otherwise)."""

    __slots__ = ("versions",)

    def __init__(self, versions: Mapping[Lang, JinjaTemplate]) -> None:
        self.versions = versions

    def render(self, *args: Any, **context: Any) -> str:
        lang = context.get("html_lang")
        template = self.versions[lang if lang in LANGUAGES else current_language()]
        return template.render(*args, **context)


class PageTemplates:
    """Litestar's template engine for the pages: the environments of both languages."""

    def __init__(self, directory: Path | list[Path] | None, engine_instance: Any | None) -> None:
        self.environments: dict[Lang, Environment] = {
            lang: _environment(lang) for lang in LANGUAGES
        }
        self.templates: dict[str, Bilingual] = {}

    def get_template(self, template_name: str) -> Bilingual:
        found = self.templates.get(template_name)
        if found is None:
            try:
                versions = {
                    lang: env.get_template(template_name) for lang, env in self.environments.items()
                }
            except JinjaTemplateNotFound as exc:
                raise TemplateNotFoundException(template_name=template_name) from exc
            found = self.templates[template_name] = Bilingual(versions)
        return found

    def render_string(self, template_string: str, context: Mapping[str, Any]) -> str:
        return Bilingual(
            {lang: env.from_string(template_string) for lang, env in self.environments.items()}
        ).render(**context)

    def register_template_callable(
        self, key: str, template_callable: TemplateCallableType[Mapping[str, Any], Any, Any]
    ) -> None:
        for env in self.environments.values():
            env.globals[key] = pass_context(template_callable)


def template_config() -> TemplateConfig[PageTemplates]:
    """The app's templates: Jinja2 through Litestar's template support."""
    return TemplateConfig(instance=PageTemplates(None, None))
