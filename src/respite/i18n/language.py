"""Which language a request is answered in.

On a page, the language switch decides first (the ``respite_lang`` cookie it sets; the API
never reads it); then ``Accept-Language`` (RFC 9110 §12.5.4: weighted ranges, ``*``,
prefixes: ``zh``, ``zh-Hans``, ``zh-TW`` all read Simplified Chinese here, the only Chinese we
write); without
one, or with none we speak, the deployment's default (``RESPITE_DEFAULT_LANGUAGE``, zh-CN).
The middleware puts the choice in a context variable for the request, so every ``Text`` in
the answer is rendered in it, and says it back in ``Content-Language``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Final, Literal, cast

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "LANGUAGE_COOKIE",
    "Lang",
    "LanguageMiddleware",
    "current_language",
    "negotiate",
    "speaking",
]

Lang = Literal["zh-CN", "en"]
LANGUAGES: Final[tuple[Lang, ...]] = ("zh-CN", "en")
DEFAULT_LANGUAGE: Final[Lang] = "zh-CN"
SCOPE_KEY: Final = "respite.language"
LANGUAGE_COOKIE: Final = "respite_lang"
API_PREFIX: Final = "/v1/"
_MAX_RANGES: Final = 20  # a header longer than this is not a person's browser

_current: ContextVar[Lang] = ContextVar("respite_language", default=DEFAULT_LANGUAGE)


def _ours(tag: str) -> Lang | None:
    primary = tag.split("-", 1)[0]
    if primary == "zh":
        return "zh-CN"
    if primary == "en":
        return "en"
    return None


def negotiate(header: str | None, default: Lang = DEFAULT_LANGUAGE) -> Lang:
    """The language to answer in, from an ``Accept-Language`` value."""
    if not header:
        return default
    best: tuple[float, int, Lang] | None = None
    for position, item in enumerate(header.split(",")[:_MAX_RANGES]):
        tag, _, params = item.strip().lower().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                continue
        if not 0 < weight <= 1:
            continue
        lang = default if tag.strip() == "*" else _ours(tag.strip())
        if lang is None:
            continue
        # Higher weight wins; at equal weight, the one listed first.
        if best is None or (weight, -position) > (best[0], best[1]):
            best = (weight, -position, lang)
    return best[2] if best is not None else default


def current_language() -> Lang:
    """The language of the request being answered (the default outside one)."""
    return _current.get()


@contextlib.contextmanager
def speaking(lang: Lang) -> Iterator[None]:
    """Render every ``Text`` in ``lang`` inside the block (pages, workers, tests)."""
    token = _current.set(lang)
    try:
        yield
    finally:
        _current.reset(token)


def request_language(scope: Scope, default: Lang) -> Lang:
    known = cast("dict[str, object]", scope).get(SCOPE_KEY)
    if known == "zh-CN" or known == "en":
        return known
    accept: bytes | None = None
    page = not scope["path"].startswith(API_PREFIX)
    for name, value in scope.get("headers", ()):
        if name == b"cookie" and page:
            chosen = _chosen(value)
            if chosen is not None:
                return chosen
        elif name == b"accept-language":
            accept = value
    return negotiate(accept.decode("latin-1"), default) if accept is not None else default


def _chosen(cookies: bytes) -> Lang | None:
    """The language a page's switch chose, from a ``Cookie`` header."""
    marker = LANGUAGE_COOKIE.encode() + b"="
    for part in cookies.split(b";"):
        part = part.strip()
        if part.startswith(marker):
            value = part[len(marker) :]
            if value == b"zh-CN":
                return "zh-CN"
            if value == b"en":
                return "en"
    return None


class LanguageMiddleware:
    """Negotiates the language once per request and says it in ``Content-Language``."""

    def __init__(self, app: ASGIApp, default: Lang = DEFAULT_LANGUAGE) -> None:
        self.app = app
        self.default = default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        lang = request_language(scope, self.default)
        vary = (
            b"Accept-Language"
            if scope["path"].startswith(API_PREFIX)
            else b"Accept-Language, Cookie"
        )
        cast("dict[str, object]", scope)[SCOPE_KEY] = lang

        async def send_with_language(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                if b"content-language" not in present:
                    headers.append((b"content-language", lang.encode()))
                headers.append((b"vary", vary))
                message["headers"] = headers
            await send(message)

        with speaking(lang):
            await self.app(scope, receive, send_with_language)
