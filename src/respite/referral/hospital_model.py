"""Hospital organisations and their API credentials, as Structs (no I/O)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from msgspec import Meta, Struct

from respite.i18n import InvalidField, t
from respite.vocabulary import HospitalId

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

HospitalName = Annotated[
    str, Meta(min_length=1, max_length=200, description="The hospital's name.")
]
Label = Annotated[
    str, Meta(min_length=1, max_length=100, description='What uses it, e.g. "HIS production".')
]


def _not_blank(field: str, value: str) -> None:
    if not value.strip():
        raise InvalidField(field, t("referral.not_blank"))


class NewHospital(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A referral hospital to register."""

    name: HospitalName

    def __post_init__(self) -> None:
        _not_blank("name", self.name)


class Hospital(Struct, frozen=True, kw_only=True):
    """A referral hospital: an organisation whose credentials share its patients."""

    id: HospitalId
    name: Annotated[str, Meta(description="The hospital's name.")]
    created_at: Annotated[datetime, Meta(description="When it was registered (ISO 8601).")]


class NewCredential(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """An API credential to issue."""

    label: Label

    def __post_init__(self) -> None:
        _not_blank("label", self.label)


class Credential(Struct, frozen=True, kw_only=True):
    """An API credential of a hospital (never its token)."""

    id: Annotated[int, Meta(description="The id of the credential.")]
    label: Annotated[str, Meta(description="What uses it.")]
    principal_id: Annotated[
        int, Meta(description="The account the credential acts as (audit records name it).")
    ]
    created_at: Annotated[datetime, Meta(description="When it was issued (ISO 8601).")]
    expires_at: Annotated[datetime, Meta(description="When it stops working (null: never).")] | None
    revoked_at: Annotated[datetime, Meta(description="When it was revoked, if it was.")] | None


class CredentialIssued(Credential, frozen=True, kw_only=True):
    """A new credential, with its token shown this once."""

    token: Annotated[
        str,
        Meta(
            description="Shown once: only its hash is stored. Send it as "
            "Authorization: Bearer <token>."
        ),
    ]


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
