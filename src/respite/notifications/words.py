"""What a notification says, written from its facts in the reader's language (pure).

Every word comes from the catalog (``catalog/notifications.toml``). The inbox writes a
notification when it is read, so a reader who switches language reads it in the new one;
email and SMS are written when they are sent, in the language the principal chose.
"""

from __future__ import annotations

from msgspec import Struct

from respite.clock import zone
from respite.i18n import Lang, Text, render, t
from respite.notifications.model import (
    BookingCancelled,
    BookingConfirmed,
    BookingReminder,
    CodeSent,
    Facts,
    OfferMade,
)

__all__ = ["Written", "lines_of", "title_of", "written"]


class Written(Struct, frozen=True, kw_only=True):
    """A notification in one language: its title and its body (one sentence a line)."""

    title: str
    body: str


def title_of(facts: Facts) -> Text:
    if isinstance(facts, CodeSent):
        return t(f"notification.code.title_{facts.purpose}")
    if isinstance(facts, OfferMade):
        return t("notification.offer_made.title", facility=facts.facility_name)
    if isinstance(facts, BookingConfirmed):
        return t("notification.booking_confirmed.title", facility=facts.facility_name)
    if isinstance(facts, BookingReminder):
        key = "tomorrow" if facts.days_before == 1 else "soon"
        return t(f"notification.booking_reminder.title_{key}", facility=facts.facility_name)
    return t("notification.booking_cancelled.title", facility=facts.facility_name)


def _stay(
    facts: OfferMade | BookingConfirmed | BookingReminder | BookingCancelled,
) -> dict[str, object]:
    return {
        "facility": facts.facility_name,
        "bed": facts.bed_label,
        "check_in": facts.check_in,
        "check_out": facts.check_out,
        "nights": (facts.check_out - facts.check_in).days,
    }


def _reach(address: str, phone: str | None) -> list[Text]:
    """The facility's address and phone, each only when the facility recorded one."""
    found = []
    if address.strip():
        found.append(t("notification.address", address=address.strip()))
    if phone and phone.strip():
        found.append(t("notification.phone", phone=phone.strip()))
    return found


def _code_lines(facts: CodeSent, code: str | None) -> list[Text]:
    """The email or SMS gives the code; the inbox says only where it went."""
    if code is None:
        return [
            t("notification.code.sent", sent_to=facts.sent_to, minutes=facts.minutes),
            t("notification.code.not_you"),
        ]
    return [
        t("notification.code.code", code=code, minutes=facts.minutes),
        t("notification.code.never_tell"),
    ]


def lines_of(facts: Facts, code: str | None = None) -> list[Text]:
    if isinstance(facts, CodeSent):
        return _code_lines(facts, code)
    if isinstance(facts, OfferMade):
        # The deadline in the facility's local time, with its date: a family elsewhere reads
        # the time the facility keeps, and says so.
        local = facts.deadline.astimezone(zone(facts.facility_timezone))
        return [
            t("notification.offer_made.stay", **_stay(facts)),
            t("notification.offer_made.deadline", deadline=local),
            *_reach("", facts.facility_phone),
        ]
    if isinstance(facts, BookingConfirmed):
        return [
            t("notification.booking_confirmed.stay", **_stay(facts)),
            *_reach(facts.facility_address, facts.facility_phone),
        ]
    if isinstance(facts, BookingReminder):
        return [
            t("notification.booking_reminder.stay", **_stay(facts)),
            *_reach(facts.facility_address, facts.facility_phone),
        ]
    assert isinstance(facts, BookingCancelled)
    return [
        t("notification.booking_cancelled.stay", **_stay(facts)),
        *_reach("", facts.facility_phone),
    ]


def written(facts: Facts, lang: Lang, *, code: str | None = None) -> Written:
    """``facts`` in ``lang``; ``code`` only for the email or SMS that carries a one-time code."""
    return Written(
        title=render(title_of(facts), lang),
        body="\n".join(render(line, lang) for line in lines_of(facts, code)),
    )
