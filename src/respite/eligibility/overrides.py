"""Overriding a refusal at the desk: which grounds a policy lets staff override, and how, and
whether the overrides a request names cover a decision. Pure functions of the policy and the
decision; who may override at all is the booking's to check.
"""

from collections.abc import Sequence
from typing import Annotated, Final, Literal

from msgspec import Meta, Struct

from respite.eligibility.model import Decision
from respite.eligibility.policy import OverrideRules, Policy
from respite.eligibility.reasons import REFUSAL_CODES
from respite.i18n import InvalidField, t

__all__ = [
    "MAX_OVERRIDES",
    "Override",
    "OverrideCheck",
    "OverrideForm",
    "OverrideOption",
    "check_overrides",
    "override_form",
    "override_options",
]

OverrideForm = Literal["with_reason", "with_acknowledgement", "never"]
"""How a ground of refusal may be overridden: with a written reason, only with an explicit
acknowledgement of that very rule as well, or not at all."""

# More than the codes one decision can refuse on at once (each missing capability among them).
MAX_OVERRIDES: Final = 20
_REFUSAL_CODES: Final = frozenset(REFUSAL_CODES)


class Override(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One rule a request overrides: the code of the reason that refused, and for a rule that
    the policy lets staff override only so, ``acknowledged: true``."""

    code: Annotated[
        str,
        Meta(
            min_length=1,
            max_length=80,
            description="The code of the reason that refused, as the not-eligible answer gave it.",
        ),
    ]
    acknowledged: Annotated[
        bool,
        Meta(description="True for a rule the policy lets staff override only when acknowledged."),
    ] = False

    def __post_init__(self) -> None:
        if self.code not in _REFUSAL_CODES:
            raise InvalidField("code", t("eligibility.not_a_refusal_code", code=repr(self.code)))


class OverrideOption(Struct, frozen=True, kw_only=True):
    """How one ground of refusal of a decision may be overridden."""

    code: str
    allowed: OverrideForm


class OverrideCheck(Struct, frozen=True, kw_only=True):
    """What a request's overrides leave undone: positions (in the request's list) of overrides
    naming a rule that did not refuse, and the codes that refused and are not covered by an
    override in a form the policy allows."""

    nothing_to_override: tuple[int, ...]
    not_overridden: tuple[str, ...]

    @property
    def covered(self) -> bool:
        return not self.nothing_to_override and not self.not_overridden


def override_form(rules: OverrideRules, code: str) -> OverrideForm:
    """The form ``rules`` allow for ``code``: its own entry first, else its prefix's."""
    for candidate in (code, code.partition(":")[0]):
        if candidate in rules.with_reason:
            return "with_reason"
        if candidate in rules.with_acknowledgement:
            return "with_acknowledgement"
    return "never"


def override_options(policy: Policy, decision: Decision) -> list[OverrideOption]:
    """For each ground of refusal of ``decision``, in its order, how it may be overridden."""
    return [
        OverrideOption(code=code, allowed=override_form(policy.overridable, code))
        for code in _refused(decision)
    ]


def check_overrides(
    policy: Policy, decision: Decision, overrides: Sequence[Override]
) -> OverrideCheck:
    """Whether ``overrides`` cover every ground of refusal of ``decision`` under ``policy``,
    and name nothing else."""
    refused = _refused(decision)
    named = {override.code: override for override in overrides}
    return OverrideCheck(
        nothing_to_override=tuple(
            i for i, override in enumerate(overrides) if override.code not in refused
        ),
        not_overridden=tuple(
            code
            for code in refused
            if not _covers(named.get(code), override_form(policy.overridable, code))
        ),
    )


def _refused(decision: Decision) -> list[str]:
    # Each code once: a stay across two quota periods may exhaust both.
    return list(dict.fromkeys(r.code for r in decision.reasons if not r.ok))


def _covers(override: Override | None, form: OverrideForm) -> bool:
    if override is None or form == "never":
        return False
    return form == "with_reason" or override.acknowledged
