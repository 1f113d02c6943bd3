"""The pure parts of sign-in limits: one canonical login per account, the client address that
counts, and which counter refuses an attempt."""

from __future__ import annotations

import pytest

from respite.auth.limits import client_address, refusal
from respite.auth.logins import Login, canonical_login, canonical_phone, earlier_phone_spelling
from respite.ratelimit import Count
from respite.settings import Settings


@pytest.mark.parametrize(
    "typed",
    [
        "+86 138-0013-8000",
        "13800138000",
        "138 0013 8000",
        "+8613800138000",
        "008613800138000",
        "+86 (138) 0013 8000",
        " 138.0013.8000 ",
    ],
)
def test_every_spelling_of_a_number_is_one_login(typed: str) -> None:
    assert canonical_login(typed, "CN") == Login("+8613800138000", "phone")


@pytest.mark.parametrize(
    ("typed", "region", "expected"),
    [
        ("021-6403 0000", "CN", "+862164030000"),
        ("+1 650 253 0000", "CN", "+16502530000"),
        ("090-1234-5678", "JP", "+819012345678"),
        ("12345", "CN", None),
        ("+86 138 0013 800", "CN", None),
        ("not a number", "CN", None),
    ],
)
def test_canonical_phone(typed: str, region: str, expected: str | None) -> None:
    assert canonical_phone(typed, region) == expected


def test_an_email_login_is_lower_case_and_anything_else_is_counted_as_typed() -> None:
    assert canonical_login(" Zhang@Example.TEST ", "CN") == Login("zhang@example.test", "email")
    assert canonical_login("Nobody", "CN") == Login("nobody", "other")


@pytest.mark.parametrize(
    ("e164", "earlier"),
    [("+8613800138000", "13800138000"), ("+862164030000", "02164030000")],
)
def test_the_spelling_earlier_registrations_kept(e164: str, earlier: str) -> None:
    assert earlier_phone_spelling(e164) == earlier


TRUSTED = ("10.0.0.0/8", "127.0.0.1", "2001:db8:1::/48")


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        # Not from a trusted proxy: the header is the client's own words.
        ("203.0.113.9", ["198.51.100.1"], "203.0.113.9"),
        ("127.0.0.1", [], "127.0.0.1"),
        # From a trusted proxy: the right-most address that is not a trusted proxy.
        ("127.0.0.1", ["198.51.100.1"], "198.51.100.1"),
        ("127.0.0.1", ["6.6.6.6, 198.51.100.1, 10.1.2.3"], "198.51.100.1"),
        ("127.0.0.1", ["6.6.6.6", "198.51.100.1, 10.1.2.3"], "198.51.100.1"),
        ("10.0.0.5", ["10.0.0.7, 10.0.0.6"], "10.0.0.7"),  # every hop trusted: the first
        ("127.0.0.1", ["198.51.100.1, garbage"], "127.0.0.1"),  # the hop that handed it on
        ("127.0.0.1", ["::ffff:198.51.100.1"], "198.51.100.1"),
        # IPv6 clients count by their /64.
        ("127.0.0.1", ["2001:db8:abcd:12:1::7"], "2001:db8:abcd:12::/64"),
        ("2001:db8:abcd:12:ffff::1", [], "2001:db8:abcd:12::/64"),
        ("2001:db8:1::2", ["198.51.100.1"], "198.51.100.1"),
        (None, ["198.51.100.1"], "unknown"),
        ("testclient", ["198.51.100.1"], "testclient"),
    ],
)
def test_the_client_address_that_counts(
    peer: str | None, forwarded: list[str], expected: str
) -> None:
    assert client_address(peer, forwarded, TRUSTED) == expected


SETTINGS = Settings(
    signin_limit_per_address=30, signin_limit_per_account=10, signin_limit_account_wide=100
)


@pytest.mark.parametrize(
    ("address", "from_address", "account_wide", "refused_by"),
    [
        (30, 10, 100, None),
        (31, 1, 1, "address"),
        (5, 11, 11, "from_address"),
        (5, 2, 101, "account_wide"),
        (5, 1, 500, None),  # past the cap, an address without a failure may still try
    ],
)
def test_which_counter_refuses(
    address: int, from_address: int, account_wide: int, refused_by: str | None
) -> None:
    counts = {
        "address": Count(address, 11),
        "from_address": Count(from_address, 22),
        "account_wide": Count(account_wide, 33),
    }
    refused = refusal(SETTINGS, **counts)
    if refused_by is None:
        assert refused is None
    else:
        assert refused is not None
        assert refused.retry_after == counts[refused_by].ttl


def test_a_refusal_waits_at_least_a_second() -> None:
    refused = Count(2, 0).refusal(1)
    assert refused is not None and refused.retry_after == 1
