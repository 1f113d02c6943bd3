"""``notify``: the one way any domain tells a principal something, inside its own transaction.

The notification and its deliveries are written with the change that causes them, so they
commit together or not at all: a booking rolled back tells no one. The key makes it
idempotent per principal (a second call with the same key writes nothing), so a listener or a
scan that runs twice, or two processes that race, tell the family once. The inbox always has
the notification; email and SMS deliveries are written for the channels the principal turned
on, due at once or when their quiet hours end.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Final

import asyncpg
import msgspec

from respite.clock import zone
from respite.db import Conn
from respite.i18n import Lang
from respite.notifications import queries as q
from respite.notifications.model import (
    DEFAULT_TIMEZONE,
    FACTS,
    Channel,
    Facts,
    NotificationKind,
    not_before,
)

__all__ = ["Choices", "choices", "choices_of", "notify"]

MAX_KEY: Final = 200


class Choices(msgspec.Struct, frozen=True, kw_only=True):
    """What a principal chose, with the defaults filled in where it chose nothing."""

    email_enabled: bool
    sms_enabled: bool
    email: str | None
    """The address it gave, if not the account's."""
    account_email: str | None
    sms_phone: bytes | None
    """Sealed (``respite.crypto``, purpose ``notification_phone``)."""
    phone_last4: str | None
    quiet: tuple[time, time] | None
    timezone: str | None
    language: Lang | None
    """None: the deployment's default language."""

    @property
    def email_to(self) -> str | None:
        return self.email or self.account_email

    @property
    def channels(self) -> list[Channel]:
        chosen: list[Channel] = []
        if self.email_enabled and self.email_to:
            chosen.append("email")
        if self.sms_enabled and self.sms_phone is not None:
            chosen.append("sms")
        return chosen


def choices(row: asyncpg.Record) -> Choices:
    """A principal's choices from a row of ``SELECT_CHOICES`` (or of the worker's lease)."""
    chosen = row["email_enabled"] is not None
    quiet = None
    if row["quiet_start"] is not None:
        quiet = (row["quiet_start"], row["quiet_end"])
    return Choices(
        # Without a choice, email goes to the address the account signed up with: a family
        # expects to hear about its own booking there. SMS needs a number first.
        email_enabled=row["email_enabled"] if chosen else True,
        sms_enabled=bool(row["sms_enabled"]),
        email=row["email"],
        account_email=row["account_email"],
        sms_phone=row["sms_phone_enc"],
        phone_last4=row.get("sms_phone_last4"),
        quiet=quiet,
        timezone=row["timezone"],
        language=row.get("language"),
    )


async def choices_of(conn: Conn, principal_id: int) -> Choices:
    row = await conn.fetchrow(q.SELECT_CHOICES, principal_id)
    if row is None:
        raise LookupError(f"no principal {principal_id}")
    return choices(row)


async def notify(
    conn: Conn,
    *,
    principal_id: int,
    kind: NotificationKind,
    facts: msgspec.Struct,
    key: str,
    now: datetime,
    only: Channel | None = None,
    language: Lang | None = None,
) -> None:
    """Tell ``principal_id`` of ``facts`` (the Struct of ``kind``), once per ``key``, in the
    caller's transaction: the inbox always, email and SMS as the principal chose.

    ``only``: on that one channel instead, whatever the principal chose (a one-time code goes
    where the person asking typed); ``language``: in it rather than the one chosen."""
    if not isinstance(facts, FACTS[kind]):
        raise TypeError(f"{kind} takes {FACTS[kind].__name__}, not {type(facts).__name__}")
    if not 1 <= len(key) <= MAX_KEY:
        raise ValueError(f"a notification key has 1 to {MAX_KEY} characters, not {len(key)}")
    chosen = await choices_of(conn, principal_id)
    notification_id = await conn.fetchval(
        q.INSERT_NOTIFICATION, principal_id, kind, facts, language or chosen.language, key, now
    )
    channels = chosen.channels if only is None else [only]
    if notification_id is None or not channels:
        return
    due = not_before(_facts(facts), now, chosen.quiet, zone(chosen.timezone or DEFAULT_TIMEZONE))
    await conn.execute(q.INSERT_DELIVERIES, notification_id, channels, due, now)


def _facts(facts: msgspec.Struct) -> Facts:
    assert isinstance(facts, Facts)  # checked against the kind by notify
    return facts
