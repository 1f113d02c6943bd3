"""Logins in one canonical form: an email address in lower case, a phone number in E.164.

Every spelling of one number (``+86 138-0013-8000``, ``13800138000``, ``138 0013 8000``) is
one login: the account is stored, found and rate-limited by it, so re-spelling a number
neither misses the account nor dodges the sign-in limit. A number written without its country
code is read as one of ``phone_region`` (``RESPITE_PHONE_REGION``, China by default).
"""

from __future__ import annotations

import re
from typing import Literal

import msgspec
import phonenumbers
from phonenumbers import PhoneNumberFormat

__all__ = ["Login", "canonical_login", "canonical_phone", "earlier_phone_spelling"]

_NOT_DIGITS = re.compile(r"[^0-9]")


def canonical_phone(text: str, region: str) -> str | None:
    """The E.164 form of a valid phone number (``+8613800138000``); None if it is not one."""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


class Login(msgspec.Struct, frozen=True):
    """What a sign-in's login is looked up and counted by. One that is neither an email
    address nor a valid number (``other``) names no account, and is counted as typed."""

    value: str
    kind: Literal["email", "phone", "other"]


def canonical_login(text: str, region: str) -> Login:
    login = text.strip().lower()
    if "@" in login:
        return Login(login, "email")
    phone = canonical_phone(login, region)
    return Login(login, "other") if phone is None else Login(phone, "phone")


def earlier_phone_spelling(e164: str) -> str | None:
    """How registrations before canonical logins kept a number typed without its country code
    (``13800138000``: the digits as typed). Such an account is still found by any spelling,
    and moves to the canonical form when it next signs in."""
    national = phonenumbers.format_number(phonenumbers.parse(e164), PhoneNumberFormat.NATIONAL)
    digits = _NOT_DIGITS.sub("", national)
    return digits if digits and digits != e164 else None
