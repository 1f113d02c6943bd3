"""Paging: the one convention of every list.

A list takes ``limit`` (how many items a page holds: each list documents its default and
maximum) and ``cursor`` (the ``next_cursor`` of the previous page; none for the first) and
answers ``{"items": [...], "next_cursor": str | null}``, null on the last page.

A cursor is opaque to clients: the position where a page ended (the last id, or whatever the
list is ordered by), msgspec-encoded and signed by ``respite.signing`` under the service's
secret key, with a purpose of its own per list (``page:bookings``). A client can carry it but
not forge it; a cursor of one list never works on another; nothing is stored, so a cursor
keeps working for as long as the key does. Anything else given as a cursor answers 422 naming
``cursor``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Final, Generic, TypeVar, overload

import msgspec
from litestar.params import QueryParameter

from respite.errors import InvalidInputError
from respite.i18n import t
from respite.settings import Settings
from respite.signing import Signer
from respite.vocabulary import NextCursor

__all__ = [
    "MAX_CURSOR_LENGTH",
    "Cursor",
    "Page",
    "decode",
    "encode",
    "fetch_size",
    "limit_parameter",
    "page",
    "refusal",
]

T = TypeVar("T")
P = TypeVar("P")

# Far above any cursor respite writes; a longer one is refused before its MAC is computed.
MAX_CURSOR_LENGTH: Final = 512


class Page(msgspec.Struct, Generic[T], frozen=True, kw_only=True):
    """One page of a list."""

    items: Annotated[list[T], msgspec.Meta(description="This page's items, in the list's order.")]
    next_cursor: NextCursor


Cursor = Annotated[
    str | None,
    QueryParameter(
        max_length=MAX_CURSOR_LENGTH,
        description="The next_cursor of the previous page; leave it out for the first page.",
    ),
]
"""The ``cursor`` query parameter of every list."""


def limit_parameter(maximum: int) -> QueryParameter:
    """The ``limit`` query parameter of a list that gives at most ``maximum`` items a page
    (its default is the handler's)."""
    return QueryParameter(
        ge=1, le=maximum, description=f"How many items a page holds, at most {maximum}."
    )


def refusal() -> InvalidInputError:
    return InvalidInputError.one("cursor", t("common.cursor_invalid"))


def encode(settings: Settings, purpose: str, position: object) -> str:
    """The cursor of the page after ``position``, for the list of ``purpose`` only."""
    return Signer(settings.secret_key, purpose).sign(msgspec.json.encode(position))


@overload
def decode(settings: Settings, purpose: str, text: str, position: type[P]) -> P: ...
@overload
def decode(settings: Settings, purpose: str, text: None, position: type[P]) -> None: ...
def decode(settings: Settings, purpose: str, text: str | None, position: type[P]) -> P | None:
    """The position in cursor ``text`` (None for no cursor: the first page); the refusal
    (422 naming ``cursor``) for anything but an unedited cursor of this list."""
    if text is None:
        return None
    payload = None
    if len(text) <= MAX_CURSOR_LENGTH:
        payload = Signer(settings.secret_key, purpose).verify(text)
    if payload is None:
        raise refusal()
    try:
        return msgspec.json.decode(payload, type=position)
    except msgspec.MsgspecError:
        raise refusal() from None


def fetch_size(limit: int) -> int:
    """How many rows a list asks the database for: one more than a page holds says whether
    another page follows, without counting and without an empty last page."""
    return limit + 1


def page(
    settings: Settings,
    purpose: str,
    fetched: Sequence[T],
    limit: int,
    position: Callable[[T], object],
) -> Page[T]:
    """The page of the first ``limit`` of ``fetched`` (``fetch_size(limit)`` of them were asked
    for); its ``next_cursor`` carries ``position`` of the last item shown."""
    items = list(fetched[:limit])
    if len(fetched) <= limit:
        return Page(items=items, next_cursor=None)
    return Page(items=items, next_cursor=encode(settings, purpose, position(items[-1])))
