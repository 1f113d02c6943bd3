"""The search's cursors: they round-trip, and any edit, forgery or reuse on another search is
refused."""

import base64

import msgspec
import pytest

from respite.availability.cursor import AVAILABILITY_PAGES, decode_cursor, encode_cursor
from respite.availability.model import PageKey
from respite.errors import InvalidInputError
from respite.settings import Settings
from respite.signing import Signer

SETTINGS = Settings(secret_key="test-secret")
SEARCH = "a" * 32


def refused(token: str, settings: Settings = SETTINGS, search: str = SEARCH) -> None:
    with pytest.raises(InvalidInputError) as caught:
        decode_cursor(settings, token, search)
    assert [e.field for e in caught.value.errors] == ["cursor"]


@pytest.mark.parametrize(
    "key", [PageKey(0.0, 1), PageKey(4213.123456789, 2**62), PageKey(25000, 7)]
)
def test_round_trip(key: PageKey) -> None:
    assert decode_cursor(SETTINGS, encode_cursor(SETTINGS, SEARCH, key), SEARCH) == key


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def test_an_edited_key_is_refused() -> None:
    token = encode_cursor(SETTINGS, SEARCH, PageKey(1500.0, 42))
    body, signature = token.split(".")
    payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    edited = payload.replace(b"1500.0", b"0.0")
    assert edited != payload
    refused(f"{_b64(edited)}.{signature}")


def test_a_cursor_of_another_search_or_key_is_refused() -> None:
    token = encode_cursor(SETTINGS, SEARCH, PageKey(1500.0, 42))
    refused(token, search="b" * 32)
    refused(token, settings=Settings(secret_key="another-secret"))


@pytest.mark.parametrize(
    "token",
    [
        "",
        ".",
        "abc",
        "a.b.c",
        "!!!.???",
        "x" * 600,
        "eyJ9.AAAA",
    ],
)
def test_garbage_is_refused(token: str) -> None:
    refused(token)


def test_a_signed_payload_of_the_wrong_shape_is_still_refused() -> None:
    # Even with the key, only payloads this module writes are accepted.
    signer = Signer(SETTINGS.secret_key, AVAILABILITY_PAGES)
    for payload in (b"{}", b"[1]", b'["' + SEARCH.encode() + b'",1e400,3]', b"[2,1,2,3]"):
        refused(signer.sign(payload))


def test_the_same_payload_signed_for_another_purpose_is_refused() -> None:
    payload = msgspec.json.encode([SEARCH, 1500.0, 42])
    signed = Signer(SETTINGS.secret_key, AVAILABILITY_PAGES).sign(payload)
    assert decode_cursor(SETTINGS, signed, SEARCH) == PageKey(1500.0, 42)
    refused(Signer(SETTINGS.secret_key, "hold").sign(payload))
    refused(Signer(SETTINGS.secret_key, "page:bookings").sign(payload))


def test_the_token_is_url_safe() -> None:
    token = encode_cursor(SETTINGS, SEARCH, PageKey(123.456, 99))
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")
    assert msgspec.json.decode(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
