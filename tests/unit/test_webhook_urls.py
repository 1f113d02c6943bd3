"""Where a callback may go: HTTPS to public addresses only (no server-side request forgery),
http to loopback only when development allows it."""

from __future__ import annotations

import ipaddress

import pytest

from respite.referral.webhook_security import (
    MalformedUrlError,
    UnsafeUrlError,
    forbidden_reason,
    parse_callback_url,
    resolve_target,
)


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("93.184.215.14", None),
        ("2606:2800:21f:cb07:6820:80da:af6b:8b2c", None),
        ("10.1.2.3", "a private address"),
        ("172.16.0.1", "a private address"),
        ("192.168.0.10", "a private address"),
        ("127.0.0.1", "a loopback address"),
        ("::1", "a loopback address"),
        ("169.254.169.254", "a link-local address"),
        ("fe80::1", "a link-local address"),
        ("0.0.0.0", "an unspecified address"),  # noqa: S104
        ("::", "an unspecified address"),
        ("224.0.0.251", "a multicast address"),
        ("ff02::1", "a multicast address"),
        ("fc00::1", "a private address"),
        ("100.64.0.1", "not a public address"),
        ("240.0.0.1", "a private address"),
        ("::ffff:10.0.0.1", "a private address"),
        ("::ffff:127.0.0.1", "a loopback address"),
        ("2002:a00:1::", "a private address"),  # 6to4 of 10.0.0.1
        ("64:ff9b::a9fe:a9fe", "a link-local address"),  # NAT64 of 169.254.169.254
        ("64:ff9b::5db8:d70e", None),  # NAT64 of a public address
    ],
)
def test_forbidden_addresses(address: str, reason: str | None) -> None:
    said = forbidden_reason(ipaddress.ip_address(address), loopback_allowed=False)
    assert (None if said is None else str(said)) == reason


def test_loopback_is_allowed_only_when_asked_and_nothing_else_is() -> None:
    assert forbidden_reason(ipaddress.ip_address("127.0.0.1"), loopback_allowed=True) is None
    assert forbidden_reason(ipaddress.ip_address("::1"), loopback_allowed=True) is None
    assert forbidden_reason(ipaddress.ip_address("10.0.0.1"), loopback_allowed=True) is not None


@pytest.mark.parametrize(
    ("url", "dev", "message"),
    [
        ("http://93.184.215.14/h", False, "https"),
        ("http://93.184.215.14/h", True, "https"),
        ("http://127.0.0.1:9/h", False, "https"),
        ("ftp://93.184.215.14/h", False, "https"),
        ("https://user:pw@example.com/h", False, "credentials"),
        ("https://example.com/h#frag", False, "fragment"),
        ("https:///h", False, "host"),
        ("https://example.com:70000/h", False, "(?i)port"),
        ("https://example.com:0/h", False, "port"),
        ("https://example.com/a b", False, "spaces"),
        (" https://example.com/h", False, "spaces"),
        ("https://[::1/h", False, "valid"),
        ("https://example.com/a\x01b", False, "control character"),
        ("https://exa\x1fmple.com/h", False, "control character"),
        ("https://example.com/\x7f", False, "control character"),
    ],
)
def test_urls_of_the_wrong_form(url: str, dev: bool, message: str) -> None:
    """Each is refused for good: no later delivery could send to it."""
    with pytest.raises(MalformedUrlError, match=message):
        parse_callback_url(url, allow_loopback_http=dev)


@pytest.mark.parametrize(
    ("url", "dev", "port", "loopback"),
    [
        ("https://Example.COM/hooks", False, 443, False),
        ("https://example.com:8443/hooks?x=1", False, 8443, False),
        ("http://127.0.0.1:8080/hooks", True, 8080, True),
        ("http://localhost/hooks", True, 80, True),
        ("https://[::1]:9000/hooks", True, 9000, True),
        ("https://127.0.0.1/hooks", False, 443, False),
    ],
)
def test_urls_of_the_right_form(url: str, dev: bool, port: int, loopback: bool) -> None:
    target = parse_callback_url(url, allow_loopback_http=dev)
    assert (target.port, target.loopback_allowed) == (port, loopback)
    assert target.host == target.host.lower()


async def test_every_resolved_address_is_checked() -> None:
    public = parse_callback_url("https://93.184.215.14/h", allow_loopback_http=False)
    assert [str(a) for a in await resolve_target(public)] == ["93.184.215.14"]
    for url, dev in [("https://127.0.0.1/h", False), ("https://[fd00::5]/h", True)]:
        with pytest.raises(UnsafeUrlError, match="resolves to"):
            await resolve_target(parse_callback_url(url, allow_loopback_http=dev))
    # localhost resolves to loopback addresses only: allowed in development, else refused.
    local = parse_callback_url("http://localhost:1/h", allow_loopback_http=True)
    assert all(a.is_loopback for a in await resolve_target(local))
    with pytest.raises(UnsafeUrlError, match="loopback"):
        await resolve_target(parse_callback_url("https://localhost/h", allow_loopback_http=False))
