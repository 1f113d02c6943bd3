"""One-time codes as data: what is asked for and typed, and the pure rules (no I/O, no clock).

A code is six decimal digits derived from its row's random salt under the one-time-code key
(``keys.one_time_code``), so it is never stored: it is derived again to be sent and to be
checked. What a person types is read as they may type it: spaces, hyphens and full-width
digits (``１２３``) are all the same code.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Annotated, Final, Literal, get_args

import phonenumbers
from msgspec import Meta, Struct

from respite.auth.model import Password
from respite.notifications.model import CODE_DIGITS

__all__ = [
    "CODE_DIGITS",
    "PURPOSES",
    "SALT_BYTES",
    "CodeChannel",
    "CodeOnItsWay",
    "CodePurpose",
    "CodeRequest",
    "CodeSignIn",
    "PasswordReset",
    "masked_email",
    "masked_phone",
    "typed_code",
]

CodePurpose = Literal["password_reset", "sign_in"]
"""(Also the purposes of ``notifications.model.CodeSent``, which sits below this domain.)"""
PURPOSES: Final[tuple[CodePurpose, ...]] = get_args(CodePurpose)
CodeChannel = Literal["email", "sms"]
SALT_BYTES: Final = 16

_LOGIN = Meta(
    min_length=3,
    max_length=254,
    description="The account's email address or phone number (any spelling of it): the code "
    "goes there, by email or by SMS.",
)
_CODE = Meta(
    min_length=1,
    max_length=20,
    description=f"The {CODE_DIGITS}-digit code that was sent; spaces and full-width digits "
    "are read as typed.",
    examples=["482913"],
)
_PURPOSE = Meta(
    description="password_reset: to set a new password; sign_in: to sign in without one."
)


class CodeRequest(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Send a one-time code to an account's email address or phone."""

    login: Annotated[str, _LOGIN]
    purpose: Annotated[CodePurpose, _PURPOSE]


class CodeOnItsWay(Struct, frozen=True, kw_only=True):
    """Where a code goes and until when it works. The same answer whether or not an account
    has this login, so that no one learns which logins have accounts: only the owner of the
    address or number receives a code."""

    channel: Annotated[CodeChannel, Meta(description="email or sms: how the code is sent.")]
    sent_to: Annotated[
        str,
        Meta(
            description="The address or number, partly hidden (d***@example.com, 139****5678).",
            examples=["139****5678"],
        ),
    ]
    expires_at: Annotated[datetime, Meta(description="When the code stops working.")]


class CodeSignIn(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Sign in with a code sent for ``sign_in``."""

    login: Annotated[str, _LOGIN]
    code: Annotated[str, _CODE]


class PasswordReset(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Set a new password with a code sent for ``password_reset``: every session and token
    of the account is signed out, and the answer signs in anew."""

    login: Annotated[str, _LOGIN]
    code: Annotated[str, _CODE]
    password: Annotated[Password, Meta(description="The new password: at least 10 characters.")]


def typed_code(text: str) -> str:
    """What was typed, as a code: full-width digits made ASCII, spaces and hyphens dropped."""
    plain = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in plain if not ch.isspace() and ch != "-")


def masked_email(address: str) -> str:
    """``daughter@example.com`` as ``d***@example.com``."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}"


def masked_phone(e164: str, region: str) -> str:
    """``+8613912345678`` as ``139****5678``: its national digits, the middle hidden; a number
    of another region than the deployment's keeps its calling code (``+44 791***0123``)."""
    number = phonenumbers.parse(e164)
    digits = phonenumbers.national_significant_number(number)
    hidden = f"{digits[:3]}{'*' * max(len(digits) - 7, 1)}{digits[-4:]}"
    if phonenumbers.region_code_for_number(number) == region:
        return hidden
    return f"+{number.country_code} {hidden}"
