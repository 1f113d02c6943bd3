"""The calendar file of a booking (RFC 5545, written by ``icalendar``): one all-day event.

Its UID is the booking's, so a calendar that imports the file twice (or a later one for the
same booking) keeps one event. DTSTAMP is when the notification was made, so every retry of
the email attaches the same bytes. The event runs from the check-in day through the check-out
day: the family brings the elder on the first and fetches them on the last, and both belong
in their calendar (DTEND is exclusive, so it is the day after check-out).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from icalendar import Calendar, Event

from respite.i18n import Lang, render, t
from respite.notifications.model import BookingConfirmed

__all__ = ["PRODID", "stay_calendar", "stay_uid"]

PRODID = "-//respite//notifications//EN"


def stay_uid(booking_id: int, domain: str) -> str:
    return f"booking-{booking_id}@{domain}"


def stay_calendar(facts: BookingConfirmed, lang: Lang, stamp: datetime, domain: str) -> str:
    figures = {
        "bed": facts.bed_label,
        "nights": (facts.check_out - facts.check_in).days,
        "check_in": facts.check_in,
        "check_out": facts.check_out,
    }
    event = Event()
    event.add("uid", stay_uid(facts.booking_id, domain))
    event.add("dtstamp", stamp)
    event.add("dtstart", facts.check_in)
    event.add("dtend", facts.check_out + timedelta(days=1))
    event.add(
        "summary", render(t("notification.calendar.summary", facility=facts.facility_name), lang)
    )
    description = [render(t("notification.calendar.description", **figures), lang)]
    if facts.facility_phone.strip():
        description.append(
            render(t("notification.phone", phone=facts.facility_phone.strip()), lang)
        )
    event.add("description", "\n".join(description))
    if facts.facility_address.strip():
        event.add("location", f"{facts.facility_name}, {facts.facility_address.strip()}")
    else:
        event.add("location", facts.facility_name)
    # An all-day stay does not make the family busy all day.
    event.add("transp", "TRANSPARENT")
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add_component(event)
    written: bytes = calendar.to_ical()
    return written.decode()
