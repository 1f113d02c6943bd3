"""Priority groups of the waiting list: who is offered a freed bed first, as policy data.

A policy lists its groups in order (``Policy.waiting_priorities``); an entry belongs to the
first group whose rule it meets, and entries in no group come after every group. Within a
group, the entry that joined first goes first. Pure: the facts are arguments, ``today`` the
facility's local date.

Two kinds of rule, each a tagged Struct like the quotas:

- ``discharged_within``: the elder leaves (or left) hospital at most ``days`` days before
  today, or will leave on a date already known (a hospital's referral, or the date the family
  gives when joining);
- ``age_living_alone``: aged at least ``min_age`` on today's date, living alone if
  ``living_alone`` says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Annotated

from msgspec import Meta, Struct

from respite.eligibility.model import Age, CareRecipient, age_on
from respite.i18n import Text, t

__all__ = [
    "DEFAULT_PRIORITIES",
    "AgeLivingAlone",
    "DischargedWithin",
    "PriorityGroup",
    "Ranked",
    "describe",
    "rank",
]

GroupCode = Annotated[
    str,
    Meta(
        pattern=r"^[a-z0-9][a-z0-9_-]{1,39}$",
        description="The group's code, stable, shown to staff and owners with its words.",
    ),
]


class _Group(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, tag_field="rule"):
    code: GroupCode


class DischargedWithin(_Group, frozen=True, tag="discharged_within"):
    """Discharged from hospital within ``days`` days, or with a discharge date ahead."""

    days: Annotated[int, Meta(ge=1, le=365, description="At most this many days ago.")]


class AgeLivingAlone(_Group, frozen=True, tag="age_living_alone"):
    """Aged at least ``min_age``, and living alone when ``living_alone`` is true."""

    min_age: Annotated[Age, Meta(description="Completed years on the day of the offer.")]
    living_alone: Annotated[bool, Meta(description="Whether the elder must live alone.")] = True


PriorityGroup = DischargedWithin | AgeLivingAlone

DEFAULT_PRIORITIES: tuple[PriorityGroup, ...] = (
    DischargedWithin(code="recent_discharge", days=14),
    AgeLivingAlone(code="eighty_alone", min_age=80, living_alone=True),
)
"""The groups of a policy that names none (every preset's version 1 among them)."""


class Ranked(Struct, frozen=True, kw_only=True):
    """Where an entry stands: its group's place in the policy's list (``len(groups)`` when in
    none) and the group's code."""

    rank: int
    group: str | None


def _meets(
    group: PriorityGroup, elder: CareRecipient, discharged_on: date | None, today: date
) -> bool:
    if isinstance(group, DischargedWithin):
        return discharged_on is not None and (today - discharged_on).days <= group.days
    old_enough = age_on(elder.birth_date, today) >= group.min_age
    return old_enough and (not group.living_alone or elder.living_situation == "alone")


def rank(
    groups: Sequence[PriorityGroup],
    elder: CareRecipient,
    discharged_on: date | None,
    today: date,
) -> Ranked:
    """The first group of ``groups`` the elder is in, on ``today``."""
    for place, group in enumerate(groups):
        if _meets(group, elder, discharged_on, today):
            return Ranked(rank=place, group=group.code)
    return Ranked(rank=len(groups), group=None)


def describe(group: PriorityGroup) -> Text:
    """The group's rule in words."""
    if isinstance(group, DischargedWithin):
        return t("waitlist.priority.discharged_within", days=group.days)
    if group.living_alone:
        return t("waitlist.priority.age_living_alone", age=group.min_age)
    return t("waitlist.priority.age", age=group.min_age)
