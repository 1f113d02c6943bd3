"""The message catalog: ``catalog/*.toml``, read once, checked whole.

A message is a TOML table with one string per language; its key is its dotted path, whatever
file holds it (files only group messages by domain)::

    [hold.held_by_another]
    en = "Someone else is holding this bed until {until}."
    zh-CN = "这张床位已被他人预留，保留至 {until}。"

Loading fails, naming the key, when a message lacks a language, has one it should not, or
when its versions use different figures: a sentence that exists in one language only never
reaches anyone.
"""

from __future__ import annotations

import string
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from respite.i18n.language import LANGUAGES, Lang

__all__ = ["CATALOG", "CatalogError", "Message", "Part", "load"]

CATALOG_DIR: Final = Path(__file__).parent / "catalog"


class CatalogError(ValueError):
    """The catalog is incomplete or inconsistent; the message says where."""


Part = tuple[str, str | None, str]
"""A stretch of a message: its text, then the figure that follows it (``None`` at the end)
and how that figure is said (``money``, ``distance``, ``or`` or nothing)."""


class Message:
    """One message in every language, with the names of the figures it takes; each version
    also in ``parts``, read once here rather than on every rendering."""

    __slots__ = ("figures", "key", "parts", "versions")

    def __init__(self, key: str, versions: Mapping[Lang, str]) -> None:
        self.key = key
        self.versions = dict(versions)
        self.parts: dict[Lang, tuple[Part, ...]] = {
            lang: _parts(key, template) for lang, template in self.versions.items()
        }
        self.figures = _figures(self.parts[LANGUAGES[0]])
        for lang in LANGUAGES[1:]:
            other = _figures(self.parts[lang])
            if other != self.figures:
                raise CatalogError(
                    f"{key}: {lang} names figures {sorted(other)}, "
                    f"{LANGUAGES[0]} names {sorted(self.figures)}"
                )

    def __repr__(self) -> str:
        return f"Message({self.key!r})"


def _parts(key: str, template: str) -> tuple[Part, ...]:
    """``template`` read as ``str.format`` reads it; a figure is a name, said plainly or in
    one of the catalog's ways (``{total:money}``), never an index, attribute or conversion."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise CatalogError(f"{key}: {exc}") from None
    parts = []
    for text, name, spec, conversion in parsed:
        if name is not None and (not name.isidentifier() or conversion or "{" in (spec or "")):
            raise CatalogError(f"{key}: a figure is a name: {{{name}}}")
        parts.append((text, name, spec or ""))
    return tuple(parts)


def _figures(parts: tuple[Part, ...]) -> frozenset[str]:
    return frozenset(name for _, name, _ in parts if name)


def _walk(table: Mapping[str, Any], prefix: str, into: dict[str, Message], source: str) -> None:
    for name, value in table.items():
        key = f"{prefix}.{name}" if prefix else name
        if not isinstance(value, dict):
            raise CatalogError(f"{source}: {key} is neither a message nor a group of messages")
        texts: dict[Lang, str] = {k: v for k, v in value.items() if isinstance(v, str)}
        if not texts:
            _walk(value, key, into, source)
            continue
        if set(value) != set(LANGUAGES):
            raise CatalogError(
                f"{source}: {key} has {sorted(value)}; a message has exactly {list(LANGUAGES)}"
            )
        if key in into:
            raise CatalogError(f"{source}: {key} is defined twice")
        into[key] = Message(key, texts)


def load(directory: Path = CATALOG_DIR) -> dict[str, Message]:
    messages: dict[str, Message] = {}
    for path in sorted(directory.glob("*.toml")):
        with path.open("rb") as file:
            _walk(tomllib.load(file), "", messages, path.name)
    return messages


CATALOG: Final[Mapping[str, Message]] = load()
