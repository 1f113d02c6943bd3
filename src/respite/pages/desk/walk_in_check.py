"""What the walk-in page shows before the Book button: whether each bed is free for the stay,
and the eligibility decision for the elder in the chosen bed, in words.

Both come from the use cases the rest of the desk uses: the occupancy board (the database's
claims and Redis's live holds) says which beds are free on every night of the stay, and
``eligibility.check_bed`` decides, under the facility's policy in force on check-in, with the
same engine and the same loading as ``book()``. Each ground of refusal comes with the form
its override takes under that policy (``eligibility.overrides.override_options``), so the
override form names every rule it overrides and how.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Final

import msgspec

from respite.auth.model import Principal
from respite.booking.model import stay_price
from respite.clock import local_today
from respite.deps import Deps
from respite.eligibility.model import Stay
from respite.eligibility.overrides import OverrideForm, override_options
from respite.eligibility.service import check_bed
from respite.eligibility.subject import Viewer
from respite.i18n import Text, t
from respite.inventory import occupancy_board
from respite.inventory.board import (
    BOARD_MAX_NIGHTS,
    BlockedCell,
    BoardQuery,
    BookedCell,
    HeldCell,
)
from respite.inventory.model import Bed
from respite.nights import first_elder_claim

__all__ = ["Rule", "Verdict", "bed_problems", "elder_staying", "judge_stay"]

_BOARD_WINDOW: Final = timedelta(days=BOARD_MAX_NIGHTS)


class Rule(msgspec.Struct, frozen=True, kw_only=True):
    """One ground of refusal: its code, what it found in words, how it may be overridden."""

    index: int
    code: str
    message: Text
    allowed: OverrideForm


class Verdict(msgspec.Struct, frozen=True, kw_only=True):
    """The decision for the elder in the bed, and what the stay costs."""

    eligible: bool
    refused: list[Rule]
    passed: list[Text]
    policy_code: str
    policy_version: int
    nights: int
    nightly_price: int
    total_price: int

    @property
    def overridable(self) -> bool:
        """Every refusal may be overridden in some form (none is ``never``)."""
        return all(rule.allowed != "never" for rule in self.refused)


async def bed_problems(
    deps: Deps, principal: Principal, facility_id: int, check_in: date, check_out: date
) -> tuple[dict[int, Text], bool]:
    """Why each bed that is not free on every night of the stay is not (its first night
    taken, and by what), and whether the holds could not be read (then held nights look
    free). The board answers at most ``BOARD_MAX_NIGHTS`` a time: a longer stay is read in
    windows."""
    problems: dict[int, Text] = {}
    holds_unknown = False
    start = check_in
    while start < check_out:
        end = min(start + _BOARD_WINDOW, check_out)
        query = BoardQuery(facility_id=facility_id, start=start, end=end)
        board = await occupancy_board(deps, principal, query)
        holds_unknown = holds_unknown or board.holds_unknown
        for row in board.beds:
            if row.bed_id in problems:
                continue
            for offset, cell in enumerate(row.cells):
                why = _taken(cell, start + timedelta(days=offset))
                if why is not None:
                    problems[row.bed_id] = why
                    break
        start = end
    return problems, holds_unknown


async def elder_staying(deps: Deps, elder_id: int, stay: Stay) -> Text | None:
    """Why the elder cannot stay on these nights wherever the bed: another live stay of theirs
    shares a night (an elder takes one bed a night), in the words the booking would refuse
    with; None when they are free. ``elder_id`` is an elder the caller has read through its
    scope."""
    async with deps.pool.acquire() as conn:
        other = await first_elder_claim(conn, elder_id, stay.check_in, stay.check_out)
    if other is None:
        return None
    return t("booking.elder_staying", check_in=other[0], check_out=other[1])


def _taken(cell: object, night: date) -> Text | None:
    if isinstance(cell, BookedCell):
        return t("desk.walk_in.bed.booked", night=night)
    if isinstance(cell, BlockedCell):
        reason = t(f"desk.walk_in.block_reason.{cell.reason}")
        return t("desk.walk_in.bed.blocked", night=night, reason=reason)
    if isinstance(cell, HeldCell):
        return t("desk.walk_in.bed.held", night=night)
    return None


async def judge_stay(
    deps: Deps, principal: Principal, elder_id: int, bed: Bed, stay: Stay, timezone: str
) -> Verdict:
    """The engine's decision for ``elder_id`` in ``bed`` (a bed of the principal's facility,
    already read through its scope), on the facility's date, as ``book()`` would decide it."""
    now = deps.clock.now()
    viewer = Viewer.of(principal, now, deps.settings)
    async with deps.pool.acquire() as conn:
        checked = await check_bed(conn, viewer, elder_id, bed.id, stay, local_today(timezone, now))
    decision = checked.decision
    options = {o.code: o.allowed for o in override_options(checked.policy.policy, decision)}
    refused = [
        Rule(index=0, code=r.code, message=r.message, allowed=options[r.code])
        for r in decision.reasons
        if not r.ok
    ]
    return Verdict(
        eligible=decision.eligible,
        refused=_once(refused),
        passed=[r.message for r in decision.reasons if r.ok],
        policy_code=checked.policy.policy.code,
        policy_version=checked.policy.version,
        nights=(stay.check_out - stay.check_in).days,
        nightly_price=bed.nightly_price,
        total_price=stay_price(bed.nightly_price, stay.check_in, stay.check_out),
    )


def _once(rules: list[Rule]) -> list[Rule]:
    """Each code once (a stay across two quota periods may refuse on one code twice), in
    the decision's order, numbered again."""
    seen: dict[str, Rule] = {}
    for rule in rules:
        seen.setdefault(rule.code, rule)
    return [msgspec.structs.replace(r, index=i) for i, r in enumerate(seen.values())]
