"""Sign-in limits that cannot be dodged or turned against someone.

**Which address.** A request counts against its peer's address; ``X-Forwarded-For`` is
believed only when the peer is a trusted proxy (``RESPITE_TRUSTED_PROXIES``), and only as far
as trusted proxies handed it on: the right-most address that is not a trusted proxy is the
client, since everything left of it the client wrote itself. IPv6 clients count by their
/64, the block one subscriber gets, so walking through one's own addresses dodges nothing.

**What is counted, per fixed window.** Every attempt from one address
(``signin_limit_per_address``); wrong passwords for one login from one address
(``signin_limit_per_account``); wrong passwords for one login from every address together
(``signin_limit_account_wide``). Wrong passwords per (login, address), not per login: ten from
one address then lock that address out of that account, not the owner everywhere else. The
account-wide cap bounds guessing spread over many addresses; past it only addresses without a
wrong password for that login in the window may try, so even an attacker who reaches it does
not stop the owner's first correct attempt from another address.

An attempt is counted as a failure before its password is checked, so concurrent guesses
cannot all slip under the limit, and given back when the password was right or was never
checked. The login is the canonical one (``logins.canonical_login``), keyed, never in clear.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import msgspec
from litestar import Request

from respite.errors import RateLimitedError
from respite.ratelimit import Count, count, give_back

if TYPE_CHECKING:
    from respite.cache import RedisClient
    from respite.settings import Settings

__all__ = [
    "SignInAttempt",
    "admit_sign_in",
    "client_address",
    "refusal",
    "request_address",
    "signed_in",
]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_IPV6_SUBSCRIBER_PREFIX = 64


@functools.cache
def _networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        ip = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def _counted_as(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    if isinstance(ip, ipaddress.IPv6Address):
        return str(ipaddress.ip_network(f"{ip}/{_IPV6_SUBSCRIBER_PREFIX}", strict=False))
    return str(ip)


def request_address(request: Request[Any, Any, Any], settings: Settings) -> str:
    """The address ``request`` counts against, by ``client_address``."""
    peer = request.client.host if request.client else None
    forwarded = request.headers.getall("x-forwarded-for", [])
    return client_address(peer, forwarded, settings.trusted_proxies)


def client_address(peer: str | None, forwarded_for: Iterable[str], trusted: Sequence[str]) -> str:
    """The address a request counts against (see the module's docstring).

    ``forwarded_for``: the values of every ``X-Forwarded-For`` header, in order. A hop that is
    not an address counts as the trusted proxy that handed it on."""
    peer_ip = _ip(peer) if peer else None
    if peer_ip is None:
        return peer or "unknown"
    networks = _networks(tuple(trusted))
    current = peer_ip
    if any(current in net for net in networks):
        hops = [hop for value in forwarded_for for hop in value.split(",")]
        for hop in reversed(hops):
            hop_ip = _ip(hop)
            if hop_ip is None:
                break
            current = hop_ip
            if not any(current in net for net in networks):
                break
    return _counted_as(current)


class SignInAttempt(msgspec.Struct, frozen=True, kw_only=True):
    """The failure counters an admitted attempt was counted on."""

    from_address: str
    """Wrong passwords for this login from this address."""
    account_wide: str


def refusal(
    settings: Settings, *, address: Count, from_address: Count, account_wide: Count
) -> RateLimitedError | None:
    """Why an attempt, just counted on each counter, may not go ahead; None if it may."""
    refused = address.refusal(settings.signin_limit_per_address) or from_address.refusal(
        settings.signin_limit_per_account
    )
    if refused is None and from_address.value > 1:
        refused = account_wide.refusal(settings.signin_limit_account_wide)
    return refused


async def admit_sign_in(
    redis: RedisClient, settings: Settings, account: str, address: str
) -> SignInAttempt:
    """Count a sign-in for the login keyed ``account`` from ``address``, as a failure until
    ``signed_in`` says otherwise; RateLimitedError if it may not go ahead."""
    window = settings.signin_window_seconds
    attempt = SignInAttempt(
        from_address=f"rl:signin:fail:{account}:{address}",
        account_wide=f"rl:signin:fail:{account}",
    )
    keys = [f"rl:signin:addr:{address}", attempt.from_address, attempt.account_wide]
    counts = await count(redis, keys, window)
    if counts is None:
        return attempt
    refused = refusal(settings, address=counts[0], from_address=counts[1], account_wide=counts[2])
    if refused is not None:
        # Not checked, so not a wrong password: it must not bring the account-wide cap nearer.
        await give_back(redis, [attempt.from_address, attempt.account_wide], window)
        raise refused
    return attempt


async def signed_in(redis: RedisClient, settings: Settings, attempt: SignInAttempt) -> None:
    """The password was right: not a failure, and this address's failures are forgiven."""
    await give_back(
        redis,
        [attempt.account_wide],
        settings.signin_window_seconds,
        forget=[attempt.from_address],
    )
