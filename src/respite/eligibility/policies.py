"""Use cases of policy versions: list the policies, read one's versions, publish a new version.

A version is never changed once published: bookings record the version they were checked
against, so a decision can always be explained by the rules it was made under. A new version
applies from its ``effective_from``; it may not start before the latest version already
published (which would bury that version) nor in the past, and it keeps its programme.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated

import asyncpg
import msgspec
from msgspec import Meta

from respite import audit
from respite.auth.model import Principal
from respite.clock import local_today
from respite.eligibility import queries as q
from respite.eligibility.model import DEFAULT_TIMEZONE, Programme, earliest_date_on_earth
from respite.eligibility.policy import Policy, PolicyPublication
from respite.errors import InvalidInputError, NotFoundError
from respite.i18n import t

if TYPE_CHECKING:
    from respite.deps import Deps

__all__ = [
    "NewPolicyVersion",
    "PolicyListing",
    "PolicyLookup",
    "PolicySummary",
    "PolicyVersion",
    "PolicyVersions",
    "get_policy",
    "list_policies",
    "publish_policy",
]


class PolicyListing(msgspec.Struct, frozen=True, kw_only=True):
    on: date | None = None
    """Which version is in force on this date; default today in ``DEFAULT_TIMEZONE``."""


class PolicyLookup(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    on: date | None = None
    """As in ``PolicyListing``."""
    version: int | None = None
    """Only this version, if given."""


class NewPolicyVersion(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    """The code in the path; the publication must name the same."""
    publication: PolicyPublication


_CODE = Meta(description="The policy's code, e.g. cn-respite.")
_CURRENT = Meta(
    description="The version in force on the date asked about; null if none is in force yet."
)


class PolicySummary(msgspec.Struct, frozen=True, kw_only=True):
    """A policy and which of its versions is in force."""

    code: Annotated[str, _CODE]
    name: Annotated[str, Meta(description="The policy's name.")]
    programme: Annotated[Programme, Meta(description="The kind of bed it is for.")]
    jurisdiction: Annotated[str, Meta(description="Where it applies: ISO 3166 country code.")]
    current_version: Annotated[int, _CURRENT] | None
    latest_version: Annotated[int, Meta(description="The newest version published.")]


class PolicyVersion(msgspec.Struct, frozen=True, kw_only=True):
    """One published version of a policy: it never changes."""

    id: Annotated[int, Meta(description="The id of the policy version.")]
    code: Annotated[str, _CODE]
    version: Annotated[int, Meta(description="The version number, from 1.")]
    effective_from: Annotated[date, Meta(description="The first day it applies (YYYY-MM-DD).")]
    published_at: Annotated[datetime, Meta(description="When it was published (ISO 8601).")]
    document: Annotated[Policy, Meta(description="The rules.")]


class PolicyVersions(msgspec.Struct, frozen=True, kw_only=True):
    """A policy's versions."""

    code: Annotated[str, _CODE]
    current_version: Annotated[int, _CURRENT] | None
    versions: Annotated[list[PolicyVersion], Meta(description="Newest first.")]


def _on(deps: Deps, on: date | None) -> date:
    # Policies serve facilities in every timezone: without a date, the default zone's today.
    return on or local_today(DEFAULT_TIMEZONE, deps.clock.now())


def _version(code: str, row: asyncpg.Record) -> PolicyVersion:
    return PolicyVersion(
        id=row["id"],
        code=code,
        version=row["version"],
        effective_from=row["effective_from"],
        published_at=row["published_at"],
        document=msgspec.json.decode(row["document"], type=Policy),
    )


def _in_force(versions: list[PolicyVersion], on: date) -> int | None:
    candidates = [v for v in versions if v.effective_from <= on]
    if not candidates:
        return None
    return max(candidates, key=lambda v: (v.effective_from, v.version)).version


async def list_policies(
    deps: Deps, principal: Principal, listing: PolicyListing
) -> list[PolicySummary]:
    """Every policy code, with the version in force on ``listing.on``."""
    rows = await deps.pool.fetch(q.SELECT_POLICY_SUMMARIES, _on(deps, listing.on))
    return [
        PolicySummary(
            code=row["code"],
            name=row["name"],
            programme=row["programme"],
            jurisdiction=row["jurisdiction"],
            current_version=row["current_version"],
            latest_version=row["latest_version"],
        )
        for row in rows
    ]


async def get_policy(deps: Deps, principal: Principal, lookup: PolicyLookup) -> PolicyVersions:
    """Every version of a policy, or only ``lookup.version``; 404 if there is none such."""
    code, version = lookup.code, lookup.version
    rows = await deps.pool.fetch(q.SELECT_POLICY_VERSIONS, code)
    if not rows:
        raise NotFoundError("policy", code)
    versions = [_version(code, row) for row in rows]
    current = _in_force(versions, _on(deps, lookup.on))
    if version is not None:
        versions = [v for v in versions if v.version == version]
        if not versions:
            raise NotFoundError("policy version", f"{code} v{version}")
    return PolicyVersions(code=code, current_version=current, versions=versions)


async def publish_policy(deps: Deps, principal: Principal, new: NewPolicyVersion) -> PolicyVersion:
    """Store the publication as the next version of its code (version 1 for a new code).

    "In the past" is judged against the earliest date on Earth: a policy serves facilities in
    every timezone, and a version effective today somewhere is not in the past.
    """
    code, publication = new.code, new.publication
    if publication.code != code:
        raise InvalidInputError.one("code", t("eligibility.code_as_in_path", code=repr(code)))
    if publication.effective_from < earliest_date_on_earth(deps.clock.now()):
        raise InvalidInputError.one("effective_from", t("eligibility.effective_in_past"))
    document = publication.document()
    async with deps.pool.acquire() as conn, conn.transaction():
        await conn.execute(q.LOCK_POLICY_CODE, code)
        latest = await conn.fetchrow(q.SELECT_LATEST_POLICY_VERSION, code)
        if latest is not None:
            _check_follows(latest, publication)
        version = 1 if latest is None else latest["version"] + 1
        row = await conn.fetchrow(
            q.INSERT_POLICY_VERSION,
            code,
            version,
            publication.effective_from,
            msgspec.json.encode(document).decode(),
        )
        assert row is not None  # INSERT ... RETURNING always returns the row
        published = PolicyVersion(
            id=row["id"],
            code=code,
            version=version,
            effective_from=publication.effective_from,
            published_at=row["published_at"],
            document=document,
        )
        await audit.record(conn, principal, "publish", "policy", published.id, after=published)
    return published


def _check_follows(latest: asyncpg.Record, publication: PolicyPublication) -> None:
    if publication.effective_from < latest["effective_from"]:
        figures = {"effective_from": latest["effective_from"], "version": latest["version"]}
        raise InvalidInputError.one(
            "effective_from", t("eligibility.effective_before_latest", **figures)
        )
    if publication.programme != latest["programme"]:
        # Facilities link a code per programme: a code changing programme would silently
        # move their beds under rules written for the other kind of bed.
        figures = {"programme": latest["programme"], "version": latest["version"]}
        raise InvalidInputError.one("programme", t("eligibility.programme_fixed", **figures))
