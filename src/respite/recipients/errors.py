"""Errors of care recipients that the shared tree in ``respite.errors`` does not already name."""

from __future__ import annotations

from respite.errors import ConflictError, PermissionDeniedError
from respite.i18n import t

__all__ = ["DuplicateNationalIdError", "OwnerOnlyFieldsError"]


class DuplicateNationalIdError(ConflictError):
    """The owner already registered an elder with this national ID (409
    ``duplicate-national-id``): use that care recipient instead of a second one."""

    def __init__(self, *, care_recipient_id: int) -> None:
        super().__init__(
            t("recipient.duplicate_national_id", care_recipient_id=care_recipient_id),
            care_recipient_id=care_recipient_id,
        )


class OwnerOnlyFieldsError(PermissionDeniedError):
    """Staff changed a field of an elder they see but do not own that only the owner changes
    (403 ``owner-only-fields``); nothing was changed."""

    def __init__(self, *, fields: list[str], owner: str) -> None:
        super().__init__(
            t("recipient.owner_only_fields", owner=t(f"recipient.owner.{owner}"), fields=fields),
            fields=fields,
            owner=owner,
        )
