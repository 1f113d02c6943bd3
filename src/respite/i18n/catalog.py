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

__all__ = ["CATALOG", "CatalogError", "Message", "load"]

CATALOG_DIR: Final = Path(__file__).parent / "catalog"


class CatalogError(ValueError):
    """The catalog is incomplete or inconsistent; the message says where."""


class Message:
    """One message in every language, with the names of the figures it takes."""

    __slots__ = ("figures", "key", "versions")

    def __init__(self, key: str, versions: Mapping[Lang, str]) -> None:
        self.key = key
        self.versions = dict(versions)
        self.figures = _figures(key, versions[LANGUAGES[0]])
        for lang in LANGUAGES[1:]:
            other = _figures(key, versions[lang])
            if other != self.figures:
                raise CatalogError(
                    f"{key}: {lang} names figures {sorted(other)}, "
                    f"{LANGUAGES[0]} names {sorted(self.figures)}"
                )

    def __repr__(self) -> str:
        return f"Message({self.key!r})"


def _figures(key: str, template: str) -> frozenset[str]:
    try:
        fields = [name for _, name, _, _ in string.Formatter().parse(template) if name]
    except ValueError as exc:
        raise CatalogError(f"{key}: {exc}") from None
    return frozenset(fields)


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
