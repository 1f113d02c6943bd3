"""Care recipients (the elders) and their assessments: who owns them, who may see them.

Identifiers are stored encrypted (``respite.crypto``) and shown as their last four characters.
The use cases are imported on first use, so that ``respite.problems`` importing this package's
errors never pulls in its services. ``insert_recipient`` and ``insert_assessment`` run inside a
caller's transaction (a referral registers its patient with the referral).
"""

import importlib
from typing import TYPE_CHECKING

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

_USE_CASES = {
    "create_recipient": "respite.recipients.service",
    "get_recipient": "respite.recipients.service",
    "insert_recipient": "respite.recipients.service",
    "list_recipients": "respite.recipients.service",
    "update_recipient": "respite.recipients.service",
    "insert_assessment": "respite.recipients.assessments",
    "list_assessments": "respite.recipients.assessments",
    "record_assessment": "respite.recipients.assessments",
}

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


def __getattr__(name: str) -> object:
    module = _USE_CASES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
