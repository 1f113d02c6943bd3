"""Finding an elder at the desk: the elders of the facility whom its staff may book.

An elder of the facility is one it registered (a walk-in) or one with a stay there; of those,
only the ones the viewer sees by the one rule of ``eligibility.subject`` are found (a stay
long over shows no one), by part of the name, the last four digits of the emergency
contact's number, or the whole number however it is spelled (``model.read_query``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import asyncpg

from respite.auth.model import Principal
from respite.desk import queries as q
from respite.desk.model import (
    ElderSearch,
    FoundElder,
    FoundElders,
    needs_words,
    read_query,
    refuse_other_facility,
)
from respite.eligibility.subject import Viewer
from respite.errors import InvalidInputError
from respite.i18n import Text
from respite.recipients.phones import contact_phone_hash

if TYPE_CHECKING:
    from respite.deps import Deps

__all__ = ["find_elders"]

_MATCHES = {"name": q.ELDERS_BY_NAME, "last4": q.ELDERS_BY_LAST4, "phone": q.ELDERS_BY_PHONE}


def _elder(row: asyncpg.Record) -> FoundElder:
    needs = list(row["needs"])
    return FoundElder(
        care_recipient_id=row["id"],
        name=row["name"],
        sex=row["sex"],
        birth_date=row["birth_date"],
        needs=needs,
        needs_words=needs_words(needs),
        level=row["level"],
        emergency_contact_name=row["emergency_contact_name"],
        emergency_contact_phone_last4=row["emergency_contact_phone_last4"],
        registered_here=row["registered_here"],
    )


async def find_elders(deps: Deps, principal: Principal, search: ElderSearch) -> FoundElders:
    """The facility's elders matching ``search.q``, by name, at most ``search.limit``."""
    refuse_other_facility(principal, search.facility_id)
    query = read_query(search.q)
    if isinstance(query, Text):
        raise InvalidInputError.one("q", query)
    value: str | bytes = query.value
    if query.by == "phone":
        value = contact_phone_hash(deps.settings, query.value)
    viewer = Viewer.of(principal, deps.clock.now(), deps.settings)
    rows = await deps.pool.fetch(
        _MATCHES[query.by], search.facility_id, *viewer.params(), value, search.limit + 1
    )
    found = [_elder(row) for row in rows[: search.limit]]
    return FoundElders(matched_by=query.by, items=found, more=len(rows) > search.limit)
