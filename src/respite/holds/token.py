"""The hold token: what a hold gives its holder to confirm, extend or release it with.

The token is signed (``respite.signing``, purpose ``hold``): it names the hold, the bed, the
stay, the elder and the principal. Confirm therefore needs no Redis to know what was held, and
a token cannot be forged or moved to another hold or principal (a wrong token answers 404, as
if the hold did not exist). Redis keeps only the token's hash, so a fenced hold cannot be
confirmed by whoever reads Redis.
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

    def as_new_booking(self) -> NewBooking:
        """What confirming this hold books."""
        return NewBooking(
            care_recipient_id=self.care_recipient_id,
            bed_id=self.bed_id,
            check_in=self.check_in,
            check_out=self.check_out,
            hold_id=self.hold_id,
            referral_id=self.referral_id,
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
