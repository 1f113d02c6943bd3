"""The hold token: what a hold gives its holder to confirm, extend or release it with.

The token is signed (``respite.signing``, purpose ``hold``): it names the hold, the bed, the
stay, the elder, the principal, the nightly price the hold showed and when the hold was
placed. Confirm therefore needs no Redis to know what was held, nor what it was shown to cost
and whether it is past its maximum age; a token cannot be forged or moved to another hold or
principal (a wrong token answers 404, as if the hold did not exist). Redis keeps only the
token's hash, so a fenced hold cannot be confirmed by whoever reads Redis.
"""

from __future__ import annotations

import hashlib
from datetime import date

import msgspec
from msgspec import Struct

from respite.booking.model import NewBooking
from respite.signing import Signer

__all__ = ["PURPOSE", "HoldToken", "read_token", "sign_token", "token_hash"]

PURPOSE = "hold"


class HoldToken(Struct, frozen=True, array_like=True, kw_only=True):
    hold_id: str
    facility_id: int
    bed_id: int
    care_recipient_id: int
    check_in: date
    check_out: date
    principal_id: int
    referral_id: int | None = None
    # Required after the optional referral: a token signed before they existed (it carries
    # neither) no longer reads, so it confirms nothing at any age.
    nightly_price: int
    """The price the hold showed, in minor units: confirm books at it or not at all."""
    created_at: float
    """When the hold was placed (unix seconds by the app's clock): its maximum age counts
    from here."""

    def as_new_booking(self) -> NewBooking:
        """What confirming this hold books."""
        return NewBooking(
            care_recipient_id=self.care_recipient_id,
            bed_id=self.bed_id,
            check_in=self.check_in,
            check_out=self.check_out,
            hold_id=self.hold_id,
            referral_id=self.referral_id,
            nightly_price=self.nightly_price,
        )


def sign_token(secret_key: str, token: HoldToken) -> str:
    return Signer(secret_key, PURPOSE).sign(msgspec.json.encode(token))


def read_token(secret_key: str, text: str) -> HoldToken | None:
    """The token's contents if its signature holds, else None."""
    payload = Signer(secret_key, PURPOSE).verify(text)
    if payload is None:
        return None
    try:
        return msgspec.json.decode(payload, type=HoldToken)
    except msgspec.MsgspecError:
        return None


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
