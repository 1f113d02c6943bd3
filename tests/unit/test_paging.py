"""The paging convention: signed cursors bound to one list, and one more row than a page holds."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec
import pytest

from respite import paging
from respite.errors import InvalidInputError
from respite.settings import Settings
from respite.signing import Signer

SETTINGS = Settings(secret_key="test-secret")
BOOKINGS = "page:bookings"


class Position(msgspec.Struct, frozen=True, array_like=True):
    updated_at: datetime
    id: int


def refused(text: str, purpose: str = BOOKINGS, settings: Settings = SETTINGS) -> None:
    with pytest.raises(InvalidInputError) as caught:
        paging.decode(settings, purpose, text, int)
    assert [(e.field, str(e.message)) for e in caught.value.errors] == [
        ("cursor", "is not a cursor of this list; start again without one")
    ]


@pytest.mark.parametrize(
    ("position", "kind"),
    [
        (1, int),
        (2**63 - 1, int),
        (Position(datetime(2030, 3, 1, 8, 30, 0, 123456, tzinfo=UTC), 42), Position),
    ],
)
def test_a_cursor_gives_back_its_position(position: object, kind: type[object]) -> None:
    cursor = paging.encode(SETTINGS, BOOKINGS, position)
    assert paging.decode(SETTINGS, BOOKINGS, cursor, kind) == position
    # Stateless: the same position always makes the same cursor, and it reads again and again.
    assert paging.encode(SETTINGS, BOOKINGS, position) == cursor
    assert paging.decode(SETTINGS, BOOKINGS, cursor, kind) == position


def test_no_cursor_is_the_first_page() -> None:
    assert paging.decode(SETTINGS, BOOKINGS, None, int) is None


def test_a_cursor_of_another_list_or_key_is_refused() -> None:
    cursor = paging.encode(SETTINGS, "page:facilities", 42)
    refused(cursor)
    refused(paging.encode(SETTINGS, BOOKINGS, 42), settings=Settings(secret_key="other"))
    refused(Signer(SETTINGS.secret_key, "hold").sign(b"42"))


def test_an_edited_cursor_is_refused() -> None:
    body, mac = paging.encode(SETTINGS, BOOKINGS, 42).split(".")
    forged_body = Signer("guess", BOOKINGS).sign(b"43").split(".")[0]
    refused(f"{forged_body}.{mac}")
    refused(f"{body}.{mac[::-1]}")
    refused(f"{body}A.{mac}")


@pytest.mark.parametrize(
    "text", ["", ".", "abc", "a.b.c", "!!!.???", "é.é", "x" * 600, "MQ.AAAA", "null"]
)
def test_garbage_is_refused(text: str) -> None:
    refused(text)


def test_a_signed_payload_of_another_shape_is_refused() -> None:
    signer = Signer(SETTINGS.secret_key, BOOKINGS)
    for payload in (b'"42"', b"4.5", b"true", b"[1,2]", b"{}", b"not json"):
        refused(signer.sign(payload))
    with pytest.raises(InvalidInputError):
        paging.decode(SETTINGS, BOOKINGS, paging.encode(SETTINGS, BOOKINGS, 42), Position)


def test_a_cursor_longer_than_any_respite_writes_is_refused_unread() -> None:
    long = paging.encode(SETTINGS, BOOKINGS, "x" * paging.MAX_CURSOR_LENGTH)
    assert len(long) > paging.MAX_CURSOR_LENGTH
    with pytest.raises(InvalidInputError):
        paging.decode(SETTINGS, BOOKINGS, long, str)


@pytest.mark.parametrize(
    ("fetched", "limit", "items", "more"),
    [
        ([], 2, [], False),
        ([3], 2, [3], False),
        ([3, 5], 2, [3, 5], False),  # a full page with nothing behind it is the last
        ([3, 5, 8], 2, [3, 5], True),
        ([3, 5, 8], 1, [3], True),
    ],
)
def test_one_row_more_than_a_page_says_another_follows(
    fetched: list[int], limit: int, items: list[int], more: bool
) -> None:
    assert paging.fetch_size(limit) == limit + 1
    page = paging.page(SETTINGS, BOOKINGS, fetched, limit, lambda n: n * 10)
    assert page.items == items
    if more:
        assert page.next_cursor is not None
        assert paging.decode(SETTINGS, BOOKINGS, page.next_cursor, int) == items[-1] * 10
    else:
        assert page.next_cursor is None
