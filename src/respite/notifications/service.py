"""Use cases of notifications: the caller's settings, and the caller's inbox.

The settings say how a principal is told beyond the inbox (which always is): email (to the
account's address or another), SMS (to a mobile number, stored sealed and shown as its last
four digits), quiet hours and the language. The inbox is the principal's notifications, newest
first, each written when read in the language the request is answered in. Only the caller's
own settings and notifications are reached: another principal's notification is 404.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

import asyncpg
import msgspec
import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from respite import audit, idempotency, paging
from respite.auth.model import Principal
from respite.crypto import cipher_for
from respite.deps import Deps
from respite.errors import FieldError, InvalidInputError, NotFoundError
from respite.i18n import Lang, current_language, t
from respite.notifications import queries as q
from respite.notifications.model import (
    FACTS,
    BookingCancelled,
    BookingConfirmed,
    BookingReminder,
    Channel,
    InboxItem,
    NotificationSettings,
    OfferMade,
    Preferences,
    QuietHours,
)
from respite.notifications.outbox import Choices, choices_of
from respite.notifications.words import written
from respite.paging import Page
from respite.settings import Settings

__all__ = [
    "INBOX_PAGES",
    "ChangeSettings",
    "InboxFilter",
    "get_notification_settings",
    "list_inbox",
    "mark_read",
    "put_notification_settings",
]

INBOX_PAGES: Final = "page:inbox"
_MOBILE: Final = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE})


class ChangeSettings(msgspec.Struct, frozen=True, kw_only=True):
    preferences: Preferences
    idempotency_key: str | None = None


class InboxFilter(msgspec.Struct, frozen=True, kw_only=True):
    cursor: str | None = None
    limit: int = 20


def deployment_channels(settings: Settings) -> list[Channel]:
    channels: list[Channel] = []
    if settings.sends_email:
        channels.append("email")
    if settings.sends_sms:
        channels.append("sms")
    return channels


def _answer(settings: Settings, chosen: Choices) -> NotificationSettings:
    quiet = None
    if chosen.quiet is not None:
        start, end = chosen.quiet
        quiet = QuietHours(start=start.strftime("%H:%M"), end=end.strftime("%H:%M"))
    return NotificationSettings(
        email_enabled=chosen.email_enabled,
        sms_enabled=chosen.sms_enabled,
        email=chosen.email,
        email_to=chosen.email_to,
        phone_last4=chosen.phone_last4,
        quiet_hours=quiet,
        timezone=chosen.timezone,
        language=chosen.language or settings.default_language,
        deployment_channels=deployment_channels(settings),
    )


async def get_notification_settings(deps: Deps, principal: Principal) -> NotificationSettings:
    async with deps.pool.acquire() as conn:
        chosen = await choices_of(conn, principal.id)
    return _answer(deps.settings, chosen)


def _mobile(settings: Settings, text: str) -> str | FieldError:
    """The E.164 form of a mobile number, or why it is not one."""
    try:
        number = phonenumbers.parse(text, settings.phone_region)
    except phonenumbers.NumberParseException:
        return FieldError("phone", t("notification.phone_invalid"))
    if not phonenumbers.is_valid_number(number):
        return FieldError("phone", t("notification.phone_invalid"))
    if phonenumbers.number_type(number) not in _MOBILE:
        return FieldError("phone", t("notification.phone_not_mobile"))
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def _chosen(settings: Settings, before: Choices, wanted: Preferences) -> Choices:
    """The settings ``wanted`` leads to from ``before``; every field it gets wrong, at once."""
    errors: list[FieldError] = []
    sealed, last4 = before.sms_phone, before.phone_last4
    if wanted.phone is None:
        sealed, last4 = None, None
    elif isinstance(wanted.phone, str):
        phone = _mobile(settings, wanted.phone)
        if isinstance(phone, FieldError):
            errors.append(phone)
        else:
            sealed, last4 = cipher_for(settings).encrypt("notification_phone", phone), phone[-4:]
    email = wanted.email.strip().lower() if wanted.email is not None else None
    if wanted.email_enabled and not (email or before.account_email):
        errors.append(FieldError("email", t("notification.email_needed")))
    if wanted.sms_enabled and sealed is None and not any(e.field == "phone" for e in errors):
        errors.append(FieldError("phone", t("notification.phone_needed")))
    if errors:
        raise InvalidInputError(errors)
    return Choices(
        email_enabled=wanted.email_enabled,
        sms_enabled=wanted.sms_enabled,
        email=email,
        account_email=before.account_email,
        sms_phone=sealed,
        phone_last4=last4,
        quiet=wanted.quiet_hours.times if wanted.quiet_hours is not None else None,
        timezone=wanted.timezone,
        language=wanted.language,
    )


def _audited(chosen: Choices) -> dict[str, Any]:
    """What the audit log keeps of the settings: never an address or a whole number."""
    return {
        "email_enabled": chosen.email_enabled,
        "sms_enabled": chosen.sms_enabled,
        "own_email": chosen.email is not None,
        "phone_last4": chosen.phone_last4,
        "quiet": [when.strftime("%H:%M") for when in chosen.quiet] if chosen.quiet else None,
        "timezone": chosen.timezone,
        "language": chosen.language,
    }


async def put_notification_settings(
    deps: Deps, principal: Principal, command: ChangeSettings
) -> NotificationSettings:
    """Replace the caller's settings (a phone left out is kept); a problem naming every wrong
    field changes nothing. A retry with the Idempotency-Key answers what the first did."""
    key, wanted = command.idempotency_key, command.preferences
    operation = "notification_settings.put"
    async with deps.pool.acquire() as conn, conn.transaction():
        if key is not None:
            request_hash = idempotency.body_hash(operation, wanted)
            earlier = await idempotency.replay(
                conn, principal, key, operation, request_hash, NotificationSettings
            )
            if earlier is not None:
                return earlier
        before = await choices_of(conn, principal.id)
        chosen = _chosen(deps.settings, before, wanted)
        quiet = chosen.quiet or (None, None)
        await conn.execute(
            q.UPSERT_SETTINGS,
            principal.id,
            chosen.email_enabled,
            chosen.sms_enabled,
            chosen.email,
            chosen.sms_phone,
            chosen.phone_last4,
            quiet[0],
            quiet[1],
            chosen.timezone,
            chosen.language,
            deps.clock.now(),
        )
        await audit.record(
            conn,
            principal,
            "update",
            "notification_settings",
            principal.id,
            before=_audited(before),
            after=_audited(chosen),
        )
        answer = _answer(deps.settings, chosen)
        if key is not None:
            await idempotency.remember(conn, principal, key, 200, answer)
    return answer


def _item(row: asyncpg.Record, lang: Lang) -> InboxItem:
    facts = msgspec.json.decode(row["facts"], type=FACTS[row["kind"]])
    words = written(facts, lang)
    booking_id = None
    if isinstance(facts, BookingConfirmed | BookingReminder | BookingCancelled):
        booking_id = facts.booking_id
    return InboxItem(
        id=row["id"],
        kind=row["kind"],
        title=words.title,
        body=words.body,
        booking_id=booking_id,
        offer_id=facts.offer_id if isinstance(facts, OfferMade) else None,
        created_at=row["created_at"],
        read_at=row["read_at"],
    )


async def list_inbox(deps: Deps, principal: Principal, filters: InboxFilter) -> Page[InboxItem]:
    """The caller's notifications, newest first, in the language of the request."""
    before = paging.decode(deps.settings, INBOX_PAGES, filters.cursor, int)
    async with deps.pool.acquire() as conn:
        rows = await conn.fetch(
            q.LIST_INBOX, principal.id, before, paging.fetch_size(filters.limit)
        )
    lang = current_language()
    items = [_item(row, lang) for row in rows]
    return paging.page(deps.settings, INBOX_PAGES, items, filters.limit, lambda item: item.id)


async def mark_read(deps: Deps, principal: Principal, notification_id: int) -> InboxItem:
    """Mark one of the caller's notifications read; the first time it was read is kept, so a
    retry answers the same. Another principal's notification is 404."""
    now: datetime = deps.clock.now()
    async with deps.pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(q.MARK_READ, notification_id, principal.id, now)
        if row is not None:
            await audit.record(conn, principal, "read", "notification", notification_id)
        else:
            row = await conn.fetchrow(q.SELECT_INBOX_ITEM, notification_id, principal.id)
        if row is None:
            raise NotFoundError("notification", notification_id)
    return _item(row, current_language())
