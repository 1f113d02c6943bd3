"""Holds: requests, answers, the signed hold token, and the choice of bed (pure).

The token a hold gives its holder is signed: it names the hold, the bed, the stay, the elder
and the principal, with an HMAC under the service's secret key. Confirm therefore needs no
Redis to know what was held, and a token cannot be forged or moved to another hold or
principal (a wrong token answers 404, as if the hold did not exist).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Sequence
from datetime import date
from typing import Annotated

import msgspec
from msgspec import Meta, Struct

from respite.booking.model import Id
from respite.eligibility import Programme
from respite.eligibility.model import check_stay_dates

__all__ = [
    "ConfirmRequest",
    "FreeGap",
    "HeldBed",
    "Hold",
    "HoldRequest",
    "HoldToken",
    "hold_facility",
    "read_token",
    "sign_token",
    "tightest",
    "token_hash",
]

HOLD_ID = re.compile(r"^(?P<facility>[0-9]{1,18})-[0-9a-f]{20}$")
TokenText = Annotated[str, Meta(min_length=10, max_length=1000)]


class HoldRequest(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Hold one bed (``bed_id``) or let the service pick one (``facility_id`` + ``kind``)."""

    care_recipient_id: Id
    check_in: date
    check_out: date
    bed_id: Id | None = None
    facility_id: Id | None = None
    kind: Programme | None = None
    referral_id: Id | None = None
    """A hospital's referral this hold (and the booking it becomes) is for."""

    def __post_init__(self) -> None:
        check_stay_dates(self.check_in, self.check_out)
        if self.bed_id is not None and (self.facility_id is not None or self.kind is not None):
            raise ValueError("bed_id: give either bed_id, or facility_id and kind, not both")
        if self.bed_id is None and (self.facility_id is None or self.kind is None):
            raise ValueError("bed_id: give bed_id, or facility_id and kind")


class ConfirmRequest(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    token: TokenText


class HoldToken(Struct, frozen=True, array_like=True):
    hold_id: str
    facility_id: int
    bed_id: int
    care_recipient_id: int
    check_in: date
    check_out: date
    principal_id: int
    # Last and optional: tokens signed before referrals existed still read.
    referral_id: int | None = None


class HeldBed(Struct, frozen=True, kw_only=True):
    id: int
    label: str
    facility_id: int
    kind: Programme


class Hold(Struct, frozen=True, kw_only=True):
    hold_id: str
    token: str
    """Secret: present it to confirm, extend or release the hold."""
    expires_at: float
    """Unix time; the hold is gone after it unless extended."""
    max_expires_at: float
    extensions_left: int
    bed: HeldBed
    care_recipient_id: int
    check_in: date
    check_out: date
    nights: int
    nightly_price: int
    total_price: int


class FreeGap(Struct, frozen=True, kw_only=True):
    """A free bed with the claims around the stay: the night before and the night after."""

    bed_id: int
    previous_claim: date | None
    next_claim: date | None


def tightest(gaps: Sequence[FreeGap]) -> list[int]:
    """Bed ids, the one whose free gap the stay fills most tightly first.

    Filling the snuggest gap keeps long free runs intact for long stays; an unbounded side
    counts as a very long gap, and ties go to the lower bed id for a stable answer.
    """
    far = date.max.toordinal()

    def width(gap: FreeGap) -> tuple[int, int]:
        start = gap.previous_claim.toordinal() if gap.previous_claim else -far
        end = gap.next_claim.toordinal() if gap.next_claim else far
        return (end - start, gap.bed_id)

    return [gap.bed_id for gap in sorted(gaps, key=width)]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, payload: bytes) -> bytes:
    return hmac.new(secret.encode(), b"hold:" + payload, hashlib.sha256).digest()[:18]


def sign_token(secret: str, token: HoldToken) -> str:
    payload = msgspec.json.encode(token)
    return f"{_b64(payload)}.{_b64(_mac(secret, payload))}"


def read_token(secret: str, text: str) -> HoldToken | None:
    """The token's contents if its signature holds, else None."""
    payload_text, _, mac_text = text.partition(".")
    try:
        payload, mac = _unb64(payload_text), _unb64(mac_text)
    except ValueError:
        return None
    if not hmac.compare_digest(mac, _mac(secret, payload)):
        return None
    try:
        return msgspec.json.decode(payload, type=HoldToken)
    except msgspec.ValidationError:
        return None


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def hold_facility(hold_id: str) -> int | None:
    """The facility a hold id belongs to, or None when the id is not one of ours."""
    match = HOLD_ID.match(hold_id)
    return int(match.group("facility")) if match else None
