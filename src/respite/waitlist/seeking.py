"""An entry that joins (or loses its offer) looks for a free bed at once.

Nights freed later reach it through the outbox; what is free already when it joins is found
here: the beds of its kind at its facilities with a free run in its window, the earliest
first, at most ``SEEK_BEDS`` of them. Each becomes a ``freed`` job, so the bed goes to whoever
the priority order puts first among all the entries waiting for it, not simply to the entry
that looked.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from respite.db import Conn
from respite.waitlist import queries as q
from respite.waitlist.matching import Run, Window, fit

__all__ = ["SEEK_BEDS", "seek_for_entry"]

SEEK_BEDS = 5

SELECT_BEDS_OF = """
SELECT b.id FROM beds b
WHERE b.facility_id = ANY($1::bigint[]) AND b.kind = $2 AND b.active AND b.retired_at IS NULL
ORDER BY array_position($1::bigint[], b.facility_id), b.id
"""

SELECT_CLAIMS_OF = """
SELECT n.bed_id, n.night FROM bed_nights n
JOIN beds b ON b.id = n.bed_id
WHERE b.facility_id = ANY($1::bigint[]) AND b.kind = $2 AND n.night >= $3 AND n.night < $4
"""

INSERT_SEEN = """
INSERT INTO waitlist_jobs (kind, cause, bed_id, from_night, until_night)
VALUES ('freed', $4, $1, $2, $3)
"""


def _runs(claimed: set[date], window: Run) -> list[Run]:
    runs, start, night = [], None, window.start
    while night < window.end:
        if night in claimed:
            if start is not None:
                runs.append(Run(start, night))
            start = None
        elif start is None:
            start = night
        night += timedelta(days=1)
    if start is not None:
        runs.append(Run(start, window.end))
    return runs


async def seek_for_entry(conn: Conn, entry_id: int, cause: str, today: date) -> str:
    """Queue the free runs the entry could be offered; the job's outcome."""
    entry = await conn.fetchrow(q.SELECT_ENTRY, entry_id)
    if entry is None or entry["status"] != "waiting":
        return "not_waiting"
    wanted = Window(
        earliest_check_in=max(entry["earliest_check_in"], today),
        latest_check_out=entry["latest_check_out"],
        nights=entry["nights"],
        min_nights=entry["min_nights"],
    )
    if wanted.latest_check_out <= wanted.earliest_check_in:
        return "window_passed"
    span = Run(wanted.earliest_check_in, wanted.latest_check_out)
    facilities, kind = entry["facility_ids"], entry["kind"]
    claims: dict[int, set[date]] = defaultdict(set)
    for row in await conn.fetch(SELECT_CLAIMS_OF, facilities, kind, span.start, span.end):
        claims[row["bed_id"]].add(row["night"])
    found = 0
    for bed in await conn.fetch(SELECT_BEDS_OF, facilities, kind):
        run = next((r for r in _runs(claims[bed["id"]], span) if fit(wanted, r) is not None), None)
        if run is None:
            continue
        await conn.execute(INSERT_SEEN, bed["id"], run.start, run.end, cause)
        found += 1
        if found == SEEK_BEDS:
            break
    if found:
        await conn.execute("SELECT pg_notify('respite_waitlist', $1)", str(entry_id))
    return f"queued_{found}"
