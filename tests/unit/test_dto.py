"""Strict bodies: strings that PostgreSQL cannot store are refused, with where they are."""

import msgspec
import pytest

from respite.dto import Strict


class Item(msgspec.Struct, forbid_unknown_fields=True):
    label: str


class Body(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    items: list[Item] = []
    tags: dict[str, str] = {}


def decode(raw: bytes) -> Body:
    dto = Strict[Body].__new__(Strict[Body])
    decoded: Body = dto.decode_bytes(raw)
    return decoded


@pytest.mark.parametrize(
    ("raw", "where"),
    [
        (b'{"name": "a\\u0000"}', "$.name"),
        (b'{"name": "a", "items": [{"label": "x"}, {"label": "\\u0000"}]}', "$.items[1].label"),
        (b'{"name": "a", "tags": {"k\\u0000": "v"}}', "$.tags.k\x00"),
    ],
)
def test_nul_is_refused_where_it_is(raw: bytes, where: str) -> None:
    with pytest.raises(msgspec.ValidationError) as refused:
        decode(raw)
    assert str(refused.value).endswith(f"at `{where}`")


def test_an_escaped_backslash_before_u0000_is_no_nul() -> None:
    assert decode(b'{"name": "a\\\\u0000"}').name == "a\\u0000"
