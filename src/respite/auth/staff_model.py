"""Staff accounts: invitations to a facility's team, and the team as a manager sees it (no I/O).

An invitation is for one login (an email address or a phone number, in the canonical form
sign-in uses: ``auth.logins``) and one role at one facility. Its link carries a secret token;
only the token's hash is stored, so the link is shown once, to whoever made it, and passed on
by them (the service sends no message yet). It ends when it is used, withdrawn or expired.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Annotated, Final, Literal

from msgspec import Meta, Struct

from respite.auth.model import Name, Password, StaffRole
from respite.vocabulary import CreatedAt, FacilityId

__all__ = [
    "INVITATION_DAYS",
    "INVITATION_PREFIX",
    "Acceptance",
    "Invitation",
    "InvitationIssued",
    "InvitationState",
    "InvitationView",
    "NewInvitation",
    "StaffMember",
    "invitation_path",
    "invitation_state",
    "masked_email",
    "new_invitation_token",
]

INVITATION_DAYS: Final = 7
INVITATION_VALID: Final = timedelta(days=INVITATION_DAYS)
INVITATION_PREFIX: Final = "rsi_"
InvitationState = Literal["pending", "used", "withdrawn", "expired"]
LoginKind = Literal["email", "phone"]

_LOGIN = Meta(
    min_length=3,
    max_length=254,
    description="The email address or phone number the colleague will sign in with; a number "
    "without a country code is read as one of RESPITE_PHONE_REGION (China by default).",
)
_ROLE_HELD = Meta(description="manager or front_desk: what the account may do there.")
_ROLE = Meta(
    description="front_desk (the day's work), or manager (beds and team too): managers invite "
    "front desk only; an admin invites either, and makes a facility's first manager so."
)


class NewInvitation(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A colleague to invite to the facility's team."""

    login: Annotated[str, _LOGIN]
    staff_role: Annotated[StaffRole, _ROLE] = "front_desk"


class Invitation(Struct, frozen=True, kw_only=True):
    """An invitation as its facility's managers see it: never its token, never the whole
    phone number."""

    id: Annotated[int, Meta(description="The id of the invitation.")]
    facility_id: FacilityId
    staff_role: Annotated[StaffRole, _ROLE_HELD]
    login_kind: Annotated[LoginKind, Meta(description="Whether the login is an email or phone.")]
    email: Annotated[str, Meta(description="The email address, masked: l***@example.cn.")] | None
    phone_last4: Annotated[str, Meta(description="The phone number's last four digits.")] | None
    state: Annotated[InvitationState, Meta(description="pending, used, withdrawn or expired.")]
    created_at: CreatedAt
    expires_at: Annotated[datetime, Meta(description="When its link stops working (ISO 8601).")]
    invited_by: Annotated[int, Meta(description="Who invited; null: an operator.")] | None


class InvitationIssued(Struct, frozen=True, kw_only=True):
    """A new invitation and its link, shown once: only the token's hash is kept."""

    invitation: Annotated[Invitation, Meta(description="The invitation, as the team lists it.")]
    token: Annotated[str, Meta(description="The invitation's secret; shown once.")]
    path: Annotated[
        str,
        Meta(
            description="The page the colleague opens to accept, on this site: "
            "/invitations/{token}. The service does not send it: pass it on."
        ),
    ]


class InvitationView(Struct, frozen=True, kw_only=True):
    """What the invitation's page shows the person who opened its link (and the team's page
    the manager who just made it)."""

    id: int
    facility_id: int
    facility_name: str
    staff_role: StaffRole
    login_kind: LoginKind
    email: str | None
    phone_last4: str | None
    state: InvitationState
    expires_at: datetime


class Acceptance(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The invited colleague's name and password: the account is made and signed in."""

    token: Annotated[str, Meta(min_length=1, max_length=100, description="From the link.")]
    name: Annotated[Name, Meta(description="The colleague's name, as the team sees it.")]
    password: Annotated[Password, Meta(description="At least 10 characters.")]


class StaffMember(Struct, frozen=True, kw_only=True):
    """A member of a facility's team: the login masked, as on every page."""

    id: Annotated[int, Meta(description="The id of the staff member's account.")]
    name: Annotated[str, Meta(description="Their name, as they gave it.")]
    staff_role: Annotated[StaffRole, _ROLE_HELD]
    email: Annotated[str, Meta(description="Masked: l***@example.cn.")] | None
    phone_last4: Annotated[str, Meta(description="Their phone number's last four digits.")] | None
    created_at: CreatedAt


def new_invitation_token() -> str:
    return INVITATION_PREFIX + secrets.token_urlsafe(32)


def invitation_path(token: str) -> str:
    return f"/invitations/{token}"


def invitation_state(
    *,
    accepted_at: datetime | None,
    withdrawn_at: datetime | None,
    expires_at: datetime,
    now: datetime,
) -> InvitationState:
    if accepted_at is not None:
        return "used"
    if withdrawn_at is not None:
        return "withdrawn"
    if expires_at <= now:
        return "expired"
    return "pending"


def masked_email(email: str | None) -> str | None:
    """``li.ming@example.cn`` as ``l***@example.cn``: enough to tell colleagues apart."""
    if email is None:
        return None
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"
