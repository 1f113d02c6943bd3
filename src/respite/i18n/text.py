"""``Text``: a message of the catalog with its figures, said in a language only at the edge."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, Final

from respite.i18n import formats
from respite.i18n.catalog import CATALOG
from respite.i18n.language import Lang, current_language

__all__ = ["InvalidField", "Text", "render", "t"]

_LIST_STYLES: Final = {"": "standard", "or": "or"}


class Text:
    """A catalog message and the figures it names; rendered by ``render`` or on encoding.

    Not a Struct on purpose: msgspec hands it to the app's encoder hook, which renders it in
    the request's language, so a domain value can carry words without knowing who reads them.
    """

    __slots__ = ("key", "params")

    def __init__(self, key: str, params: Mapping[str, Any]) -> None:
        self.key = key
        self.params = params

    def __str__(self) -> str:  # logs and tracebacks read English
        return render(self, "en")

    def __repr__(self) -> str:
        return f"t({self.key!r}, **{dict(self.params)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Text) and (self.key, self.params) == (other.key, other.params)

    def __hash__(self) -> int:
        return hash(self.key)

    def in_(self, lang: Lang) -> str:
        return render(self, lang)


def t(key: str, /, **params: Any) -> Text:
    """The message ``key`` with its figures; a key or figure the catalog lacks is a bug."""
    message = CATALOG.get(key)
    if message is None:
        raise KeyError(f"no message {key!r} in the catalog")
    if params.keys() != message.figures:
        raise KeyError(
            f"message {key!r} takes figures {sorted(message.figures)}, not {sorted(params)}"
        )
    return Text(key, params)


def _said(value: Any, how: str, lang: Lang) -> str:
    """One figure of a message in ``lang``, said ``how`` (its format spec)."""
    if how == "money":
        return formats.money(value, lang)
    if how == "distance":
        return formats.distance(value, lang)
    if isinstance(value, Text):
        return render(value, lang)
    if isinstance(value, datetime):
        return formats.moment(value, lang)
    if isinstance(value, date):
        return formats.day(value, lang)
    if isinstance(value, (list, tuple, frozenset, set)):
        items = [_said(item, "", lang) for item in value]
        if isinstance(value, (frozenset, set)):
            items.sort()
        style = _LIST_STYLES.get(how)
        if style is None:
            raise ValueError(f"unknown list style {how!r}")
        return formats.listing(items, lang, style)  # type: ignore[arg-type]
    return format(value, how)


def render(text: Text, lang: Lang | None = None) -> str:
    """``text`` in ``lang`` (by default the language of the request being answered): what
    ``str.format`` would make of the message, each figure said in the language."""
    lang = lang or current_language()
    parts = CATALOG[text.key].parts[lang]
    if len(parts) == 1 and parts[0][1] is None:  # words without figures
        return parts[0][0]
    params = text.params
    said = []
    for words, name, how in parts:
        said.append(words)
        if name is not None:
            said.append(_said(params[name], how, lang))
    return "".join(said)


class InvalidField(ValueError):
    """Raised by a Struct's ``__post_init__``: ``field`` is wrong, and ``text`` says why.

    msgspec turns it into a ValidationError with the path of the Struct that raised it and
    keeps it as the cause, so the edge answers with the message in the caller's language.
    """

    def __init__(self, field: str, text: Text) -> None:
        super().__init__(f"{field}: {render(text, 'en')}")
        self.field = field
        self.text = text
