"""Care recipients (the elders) and their assessments: who owns them, who may see them.

Identifiers are stored encrypted (``respite.crypto``) and shown as their last four characters.
The use cases are imported on first use, so that ``respite.problems`` importing this package's
errors never pulls in its services. ``insert_recipient`` and ``insert_assessment`` run inside a
caller's transaction (a referral registers its patient with the referral).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from respite.exports import on_first_use

if TYPE_CHECKING:
    from respite.recipients.assessments import (
        insert_assessment,
        list_assessments,
        record_assessment,
    )
    from respite.recipients.service import (
        create_recipient,
        get_recipient,
        insert_recipient,
        list_recipients,
        update_recipient,
    )


__all__ = [
    "create_recipient",
    "get_recipient",
    "insert_assessment",
    "insert_recipient",
    "list_assessments",
    "list_recipients",
    "record_assessment",
    "update_recipient",
]
__getattr__ = on_first_use(
    __name__,
    {
        "respite.recipients.assessments": (
            "insert_assessment",
            "list_assessments",
            "record_assessment",
        ),
        "respite.recipients.service": (
            "create_recipient",
            "get_recipient",
            "insert_recipient",
            "list_recipients",
            "update_recipient",
        ),
    },
)
