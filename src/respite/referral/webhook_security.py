"""Callbacks: Standard Webhooks signatures, and where a callback may be sent (no SSRF).

Signing follows the Standard Webhooks specification: ``webhook-id``, ``webhook-timestamp``
(unix seconds) and ``webhook-signature``: ``v1,`` and the base64 HMAC-SHA256, under the
endpoint's secret, of ``{id}.{timestamp}.{body}``. During a secret rotation both secrets sign,
space-separated, so a receiver that knows either one accepts the callback.

A callback URL must be HTTPS to a host whose every address is public: private, loopback,
link-local, multicast, reserved and unspecified addresses are refused, also when reached
through IPv4-mapped, 6to4 or NAT64 IPv6 forms. The check runs when the URL is registered and
again before each delivery, whose connection then goes to the address just checked, so a DNS
answer that changes in between (rebinding) cannot redirect it. ``allow_loopback_http``
(development only) admits ``http://`` and ``https://`` to loopback hosts. A URL of the wrong
form (``MalformedUrlError``: a control character, anything httpx refuses...) can never be
delivered to, whereas an address refused today may be allowed tomorrow.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import ipaddress
import secrets
import socket
from collections.abc import Mapping, Sequence
from typing import Final
from urllib.parse import SplitResult, urlsplit

import httpx
import msgspec

from respite.i18n import Text, render, t

__all__ = [
    "SECRET_PREFIX",
    "CallbackTarget",
    "MalformedUrlError",
    "UnsafeUrlError",
    "forbidden_reason",
    "new_secret",
    "parse_callback_url",
    "resolve_target",
    "sign",
    "signature_headers",
    "verify",
]

SECRET_PREFIX: Final = "whsec_"
SECRET_BYTES: Final = 32
# Receivers refuse callbacks older or newer than this (replay protection).
TOLERANCE_SECONDS: Final = 300
RESOLVE_TIMEOUT: Final = 5.0
_NAT64: Final = ipaddress.ip_network("64:ff9b::/96")
_LOCAL_NAMES: Final = ("localhost", "localhost.localdomain")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UnsafeUrlError(Exception):
    """A callback URL that respite will not call; ``text`` says why (``str()`` in English,
    for a delivery's log)."""

    def __init__(self, text: Text) -> None:
        super().__init__(render(text, "en"))
        self.text = text


class MalformedUrlError(UnsafeUrlError):
    """A callback URL refused for its form, which no later attempt can change (unlike its
    addresses, which DNS may change): a delivery to it is given up at once."""


class CallbackTarget(msgspec.Struct, frozen=True, kw_only=True):
    url: str
    scheme: str
    host: str
    """Lower case, without IPv6 brackets."""
    port: int
    loopback_allowed: bool


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_headers(
    secrets_: Sequence[str], msg_id: str, timestamp: int, body: bytes
) -> dict[str, str]:
    """The headers of one attempt: every given secret signs (rotation overlap)."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(sign(s, msg_id, timestamp, body) for s in secrets_),
        "content-type": "application/json",
    }


def verify(secret: str, headers: Mapping[str, str], body: bytes, now: float) -> bool:
    """What a receiver does (the README shows the same steps): a fresh timestamp and one
    matching ``v1`` signature."""
    try:
        msg_id, timestamp = headers["webhook-id"], int(headers["webhook-timestamp"])
        received = headers["webhook-signature"].split()
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > TOLERANCE_SECONDS:
        return False
    expected = sign(secret, msg_id, timestamp, body)
    return any(hmac.compare_digest(expected, candidate) for candidate in received)


def _embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    if isinstance(ip, ipaddress.IPv4Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFF_FFFF)
    return None


def forbidden_reason(ip: IPAddress, *, loopback_allowed: bool) -> Text | None:
    """Why respite must not connect to ``ip``, or None when it is a public address."""
    embedded = _embedded_ipv4(ip)
    if embedded is not None:
        return forbidden_reason(embedded, loopback_allowed=loopback_allowed)
    if ip.is_loopback:
        return None if loopback_allowed else t("referral.url.address.loopback")
    for flag, what in (
        (ip.is_unspecified, "unspecified"),
        (ip.is_link_local, "link_local"),
        (ip.is_multicast, "multicast"),
        (ip.is_private, "private"),
        (ip.is_reserved, "reserved"),
        (not ip.is_global, "not_public"),
    ):
        if flag:
            return t(f"referral.url.address.{what}")
    return None


def _is_loopback_host(host: str) -> bool:
    if host in _LOCAL_NAMES or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _split(url: str) -> SplitResult:
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises ValueError for a port out of range or not a number
        # What the delivery will send to: a URL httpx refuses could never be delivered.
        httpx.URL(url)
    except (ValueError, httpx.InvalidURL) as exc:
        raise MalformedUrlError(t("referral.url.invalid", problem=str(exc))) from None
    return parts


def _control_character(url: str) -> str | None:
    return next((ch for ch in url if ord(ch) < 0x20 or ord(ch) == 0x7F), None)


def parse_callback_url(url: str, *, allow_loopback_http: bool) -> CallbackTarget:
    """The URL's parts if its form is acceptable (the addresses are checked by resolving);
    MalformedUrlError if it is not."""
    if url != url.strip() or any(ch in url for ch in "\r\n\t "):
        raise MalformedUrlError(t("referral.url.spaces"))
    if (control := _control_character(url)) is not None:
        raise MalformedUrlError(t("referral.url.control", character=repr(control)))
    parts = _split(url)
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower().rstrip(".")
    if scheme not in ("https", "http"):
        raise MalformedUrlError(t("referral.url.https"))
    if not host:
        raise MalformedUrlError(t("referral.url.host"))
    if parts.username is not None or parts.password is not None:
        raise MalformedUrlError(t("referral.url.credentials"))
    if parts.fragment:
        raise MalformedUrlError(t("referral.url.fragment"))
    loopback = allow_loopback_http and _is_loopback_host(host)
    if scheme == "http" and not loopback:
        raise MalformedUrlError(t("referral.url.https_or_loopback"))
    if parts.port == 0:
        raise MalformedUrlError(t("referral.url.port_zero"))
    default_port = 443 if scheme == "https" else 80
    return CallbackTarget(
        url=url,
        scheme=scheme,
        host=host,
        port=parts.port or default_port,
        loopback_allowed=loopback,
    )


async def resolve_target(target: CallbackTarget) -> list[IPAddress]:
    """Every address of the target's host, each checked; UnsafeUrlError if any is refused
    (an attacker's name may resolve to one public and one private address)."""
    try:
        literal: IPAddress | None = ipaddress.ip_address(target.host)
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [literal]
    else:
        addresses = await _lookup(target.host, target.port)
    for ip in addresses:
        reason = forbidden_reason(ip, loopback_allowed=target.loopback_allowed)
        if reason is not None:
            figures = {"host": target.host, "ip": str(ip), "why": reason}
            raise UnsafeUrlError(t("referral.url.resolves_to", **figures))
    return addresses


async def _lookup(host: str, port: int) -> list[IPAddress]:
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(RESOLVE_TIMEOUT):
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, TimeoutError, UnicodeError):
        raise UnsafeUrlError(t("referral.url.does_not_resolve", host=host)) from None
    addresses: list[IPAddress] = []
    for info in infos:
        # The scope of a link-local IPv6 address ("fe80::1%eth0") is not part of the address.
        text = str(info[4][0]).split("%", 1)[0]
        ip = ipaddress.ip_address(text)
        if ip not in addresses:
            addresses.append(ip)
    if not addresses:
        raise UnsafeUrlError(t("referral.url.does_not_resolve", host=host))
    return addresses
