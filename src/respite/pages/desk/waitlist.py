"""The facility's waiting list, as its staff read it: ``/desk/waitlist``.

The live entries waiting for this facility's beds of one kind, first served first — the
order the offer worker serves them in (``waitlist.service.queue_of``, the JSON queue's use
case) — each with its place, its priority group, the elder's sex, age and needs in words
(what decides which bed can take them; never a name), the window and nights, its status,
and the latest time it was passed over here and why. Front desk and managers alike; the
facility is always the staff member's own, so no other facility's queue can be asked for.
"""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal

import msgspec
from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.params import QueryParameter
from litestar.response import Template

from respite.deps import Deps
from respite.i18n import Text, t
from respite.pages.frame import page
from respite.pages.guards import staff
from respite.waitlist import service
from respite.waitlist.model import QueueEntry

__all__ = ["DeskWaitlistPage"]

KINDS: Final = ("respite", "home")
Kind = Annotated[Literal["respite", "home"], QueryParameter(name="kind")]


class Row(msgspec.Struct, frozen=True, kw_only=True):
    """One line of the queue, said in words."""

    entry: QueueEntry
    who: Text
    needs: list[Text]
    nights: Text
    status: Text
    last_pass: Text | None


def _row(entry: QueueEntry) -> Row:
    last = entry.last_pass
    nights = (
        t("page.waitlist.nights_range", fewest=entry.min_nights, n=entry.nights)
        if entry.min_nights != entry.nights
        else t("desk.today.nights_one")
        if entry.nights == 1
        else t("desk.today.nights_many", n=entry.nights)
    )
    return Row(
        entry=entry,
        who=t("desk.waitlist.who_words", sex=t(f"page.elders.sex.{entry.sex}"), age=entry.age),
        needs=[t(f"page.elders.need.{need}") for need in entry.needs],
        nights=nights,
        status=t(f"desk.waitlist.state.{entry.status}"),  # a queue holds live entries only
        last_pass=None
        if last is None
        else t(
            "desk.waitlist.pass_words",
            check_in=last.check_in,
            check_out=last.check_out,
            why=last.message,
        ),
    )


class DeskWaitlistPage(Controller):
    path = "/desk/waitlist"
    include_in_schema = False

    @get("/")
    async def queue(
        self, request: Request[Any, Any, Any], deps: NamedDependency[Deps], kind: Kind = "respite"
    ) -> Template:
        principal = staff(request)
        assert principal.facility_id is not None  # guards.staff: staff of one facility
        queue = await service.queue_of(deps, principal, principal.facility_id, kind)
        return page(
            request,
            "desk/waitlist/queue.html",
            kind=kind,
            kinds=KINDS,
            rows=[_row(entry) for entry in queue.items],
        )
