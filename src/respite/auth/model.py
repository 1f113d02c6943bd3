"""Principals, credentials and the pure rules about them (no I/O)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from datetime import datetime
from typing import Annotated, Literal

from msgspec import Meta, Struct

from respite.i18n import InvalidField, t
from respite.keys import IDENTIFIER_HASH, derive_key

__all__ = [
    "ROLES",
    "STAFF_ROLES",
    "FamilyRegistration",
    "Principal",
    "Role",
    "SignIn",
    "StaffRole",
    "TokenInfo",
    "TokenIssued",
    "hash_password",
    "hash_token",
    "identifier_hash",
    "new_token",
    "normalise_phone",
    "verify_password",
]

Role = Literal["family", "staff", "hospital", "admin"]
ROLES: tuple[Role, ...] = ("family", "staff", "hospital", "admin")
StaffRole = Literal["manager", "front_desk"]
STAFF_ROLES: tuple[StaffRole, ...] = ("manager", "front_desk")
TOKEN_PREFIX = "rsp_"

Email = Annotated[str, Meta(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
Phone = Annotated[str, Meta(min_length=6, max_length=24, pattern=r"^\+?[0-9][0-9 -]{4,22}[0-9]$")]
Password = Annotated[str, Meta(min_length=10, max_length=200)]
Name = Annotated[str, Meta(min_length=1, max_length=100)]
_ROLE = Meta(
    description="family; staff of one facility; hospital (a referral hospital's credential); "
    "or admin."
)


class Principal(Struct, frozen=True, kw_only=True):
    """Whoever a request acts for; the tenant ids say what is theirs."""

    id: Annotated[int, Meta(description="The id of the account.")]
    role: Annotated[Role, _ROLE]
    name: Annotated[str, Meta(description="The account's name.")]
    facility_id: Annotated[int, Meta(description="Staff: the facility they work for.")] | None = (
        None
    )
    hospital_id: Annotated[int, Meta(description="Hospital: the hospital it acts for.")] | None = (
        None
    )
    staff_role: (
        Annotated[
            StaffRole,
            Meta(description="Staff: manager (beds and team too) or front_desk (the day's work)."),
        ]
        | None
    ) = None


class FamilyRegistration(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A family account to create: sign in later with the email address or phone number."""

    name: Annotated[Name, Meta(description="The family member's name.")]
    password: Annotated[Password, Meta(description="At least 10 characters.")]
    email: Annotated[Email, Meta(description="An email address to sign in with.")] | None = None
    phone: (
        Annotated[
            Phone,
            Meta(description="A phone number to sign in with; without a country code, Chinese."),
        ]
        | None
    ) = None

    def __post_init__(self) -> None:
        if self.email is None and self.phone is None:
            raise InvalidField("email", t("auth.login_needed"))


class SignIn(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A family's sign-in."""

    login: Annotated[
        str,
        Meta(min_length=3, max_length=254, description="The email address or phone number."),
    ]
    password: Annotated[str, Meta(min_length=1, max_length=200, description="The password.")]


class TokenIssued(Struct, frozen=True, kw_only=True):
    """A new bearer token and whom it acts for."""

    token: Annotated[
        str,
        Meta(
            description="Shown once: only its hash is stored. Send it as "
            "Authorization: Bearer <token>."
        ),
    ]
    expires_at: (
        Annotated[str, Meta(description="When it stops working (ISO 8601); null: never.")] | None
    )
    principal: Annotated[Principal, Meta(description="Whom the token acts for.")]


class TokenInfo(Struct, frozen=True, kw_only=True):
    """A token as an operator lists it: never the token itself (only its hash is kept)."""

    id: int
    role: Role
    name: str
    label: str
    facility_id: int | None
    hospital_id: int | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> bytes:
    # Tokens carry 256 random bits: a fast hash is enough, unlike passwords.
    return hashlib.sha256(token.encode()).digest()


def identifier_hash(secret_key: str, value: str) -> bytes:
    """Keyed hash of a personal identifier, to find it again without storing it; keyed by
    the identifier-hash key derived from ``secret_key``, never by the secret key itself."""
    key = derive_key(secret_key, IDENTIFIER_HASH)
    return hmac.new(key, value.encode(), hashlib.sha256).digest()


_PHONE_NOISE = re.compile(r"[ -]")


def normalise_phone(phone: str) -> str:
    return _PHONE_NOISE.sub("", phone)


# scrypt parameters: 16 MiB of memory per hash (n * r * 128 bytes).
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P)
    salt_text = base64.urlsafe_b64encode(salt).decode()
    digest_text = base64.urlsafe_b64encode(digest).decode()
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${salt_text}${digest_text}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    expected = base64.urlsafe_b64decode(digest)
    actual = hashlib.scrypt(
        password.encode(),
        salt=base64.urlsafe_b64decode(salt),
        n=int(n),
        r=int(r),
        p=int(p),
        dklen=len(expected),
    )
    return hmac.compare_digest(actual, expected)
