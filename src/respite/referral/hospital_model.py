"""Hospital organisations and their API credentials, as Structs (no I/O)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from msgspec import Meta, Struct

from respite.i18n import InvalidField, t

__all__ = [
    "Credential",
    "CredentialIssued",
    "Hospital",
    "HospitalFilter",
    "IssueCredential",
    "NewCredential",
    "NewHospital",
    "RevokeCredential",
]

HospitalName = Annotated[str, Meta(min_length=1, max_length=200)]
Label = Annotated[str, Meta(min_length=1, max_length=100)]


def _not_blank(field: str, value: str) -> None:
    if not value.strip():
        raise InvalidField(field, t("referral.not_blank"))


class NewHospital(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: HospitalName

    def __post_init__(self) -> None:
        _not_blank("name", self.name)


class Hospital(Struct, frozen=True, kw_only=True):
    id: int
    name: str
    created_at: datetime


class NewCredential(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    label: Label
    """What uses it, e.g. "HIS production"."""

    def __post_init__(self) -> None:
        _not_blank("label", self.label)


class Credential(Struct, frozen=True, kw_only=True):
    id: int
    label: str
    principal_id: int
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


class CredentialIssued(Credential, frozen=True, kw_only=True):
    token: str
    """Shown once: only its hash is stored. Send it as ``Authorization: Bearer <token>``."""


class HospitalFilter(Struct, frozen=True, kw_only=True):
    """A page of hospitals, by id."""

    cursor: str | None = None
    """The ``next_cursor`` of the previous page."""
    limit: int = 50


class IssueCredential(Struct, frozen=True, kw_only=True):
    hospital_id: int
    credential: NewCredential


class RevokeCredential(Struct, frozen=True, kw_only=True):
    hospital_id: int
    credential_id: int
