"""Errors of booking that the shared tree in ``respite.errors`` does not already name."""

from __future__ import annotations

from typing import Any

from respite.errors import RespiteError

__all__ = ["IneligibleError"]


class IneligibleError(RespiteError):
    """The eligibility decision refuses and nobody overrode it (422 ``not-eligible``).

    ``reasons`` carries every reason of the decision (``ok`` false for each ground of refusal),
    each with its stable code, messages and figures, so a client can show all of them at once.
    """

    def __init__(self, policy_code: str, reasons: list[dict[str, Any]]) -> None:
        refused = [r["code"] for r in reasons if not r.get("ok")]
        super().__init__(
            "not eligible for this bed: " + ", ".join(refused),
            policy_code=policy_code,
            refused=refused,
            reasons=reasons,
        )
