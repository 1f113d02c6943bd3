"""Notifications as data: the kinds and their facts, the channels, what a principal chooses,
quiet hours and the retry schedule, as Structs and pure functions (no I/O, no clock).

A notification stores its facts, never its words: each kind has a Struct of facts, and the
words are written from them (``words.py``) in whichever language the reader reads.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Final, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from msgspec import UNSET, Meta, Struct, UnsetType

from respite.i18n import InvalidField, Lang, t
from respite.vocabulary import CreatedAt

__all__ = [
    "CHANNELS",
    "CODE_DIGITS",
    "DEFAULT_TIMEZONE",
    "FACTS",
    "KINDS",
    "RETRY_STEPS",
    "BookingCancelled",
    "BookingConfirmed",
    "BookingReminder",
    "Channel",
    "CodeSent",
    "Facts",
    "InboxItem",
    "NotificationKind",
    "NotificationSettings",
    "OfferMade",
    "Preferences",
    "QuietHours",
    "gives_up",
    "not_before",
    "quiet_until",
    "retry_delay",
]

NotificationKind = Literal[
    "waitlist.offer_made",
    "booking.confirmed",
    "booking.reminder",
    "booking.cancelled",
    "account.code",
]
KINDS: Final[tuple[NotificationKind, ...]] = get_args(NotificationKind)
Channel = Literal["email", "sms"]
CHANNELS: Final[tuple[Channel, ...]] = get_args(Channel)
# The deployment's timezone for quiet hours of a principal who chose none (the one the rest of
# respite assumes where no facility says otherwise: eligibility.model.DEFAULT_TIMEZONE).
DEFAULT_TIMEZONE: Final = "Asia/Shanghai"
# Retry delays of a failing email or SMS, in seconds, before jitter: the last one repeats
# until the retry window is over.
RETRY_STEPS: Final = (30.0, 120.0, 600.0, 1800.0, 3600.0, 7200.0)
MAX_EMAIL = 254
CODE_DIGITS: Final = 6
"""The digits of a one-time code (``respite.codes``)."""


class OfferMade(Struct, frozen=True, kw_only=True):
    """The waiting list offers a bed: the family accepts it by ``deadline`` or it passes on."""

    offer_id: int
    facility_name: str
    facility_timezone: str
    facility_phone: str | None
    bed_label: str
    check_in: date
    check_out: date
    deadline: datetime
    """UTC; written in the facility's local time."""


class BookingConfirmed(Struct, frozen=True, kw_only=True):
    """A stay was booked: where, which bed, which nights (and a calendar file by email)."""

    booking_id: int
    facility_name: str
    facility_address: str
    facility_phone: str
    bed_label: str
    check_in: date
    check_out: date


class BookingReminder(Struct, frozen=True, kw_only=True):
    """A confirmed stay begins in ``days_before`` days, by the facility's date."""

    booking_id: int
    days_before: Literal[1, 3]
    facility_name: str
    facility_address: str
    facility_phone: str
    bed_label: str
    check_in: date
    check_out: date


class BookingCancelled(Struct, frozen=True, kw_only=True):
    """A booking was cancelled: its nights are free again."""

    booking_id: int
    facility_name: str
    facility_phone: str
    bed_label: str
    check_in: date
    check_out: date


class CodeSent(Struct, frozen=True, kw_only=True):
    """A one-time code was sent (``respite.codes``). The facts never hold the code: the inbox says
    only that one was sent, and where; the email or SMS derives it from its row when sent."""

    code_id: int
    purpose: Literal["password_reset", "sign_in"]
    """``codes.model.CodePurpose``."""
    channel: Channel
    sent_to: str
    """The address or number, partly hidden."""
    expires_at: datetime
    minutes: int
    """How long it works, as the message says it."""


Facts = OfferMade | BookingConfirmed | BookingReminder | BookingCancelled | CodeSent
FACTS: Final[dict[NotificationKind, type[Facts]]] = {
    "waitlist.offer_made": OfferMade,
    "booking.confirmed": BookingConfirmed,
    "booking.reminder": BookingReminder,
    "booking.cancelled": BookingCancelled,
    "account.code": CodeSent,
}


def _clock_time(field: str, text: str) -> time:
    hours, colon, minutes = text.partition(":")
    if not (colon and hours.isdigit() and minutes.isdigit() and len(minutes) == 2):
        raise InvalidField(field, t("notification.quiet_hours_form"))
    if not (0 <= int(hours) <= 23 and 0 <= int(minutes) <= 59):
        raise InvalidField(field, t("notification.quiet_hours_range"))
    return time(int(hours), int(minutes))


_CLOCK = "A local time of day, HH:MM (24-hour), in the principal's timezone."


class QuietHours(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """When no email or SMS is sent: each waits until the quiet hours end. A start later than
    the end spans midnight (22:00 to 07:00). A waiting-list offer whose deadline would pass
    first is sent anyway."""

    start: Annotated[str, Meta(max_length=5, description=f"When they begin. {_CLOCK}")]
    end: Annotated[str, Meta(max_length=5, description=f"When they end. {_CLOCK}")]

    def __post_init__(self) -> None:
        if _clock_time("start", self.start) == _clock_time("end", self.end):
            raise InvalidField("end", t("notification.quiet_hours_empty"))

    @property
    def times(self) -> tuple[time, time]:
        return _clock_time("start", self.start), _clock_time("end", self.end)


def _zone(field: str, name: str) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # a folder of the database is OSError
        raise InvalidField(field, t("notification.timezone_unknown")) from None


def _looks_like_email(text: str) -> bool:
    local, at, domain = text.partition("@")
    return bool(local and at and "." in domain.strip(".") and not any(c.isspace() for c in text))


_QUIET = Meta(
    description="When no email or SMS is sent (they wait until the end); null: no quiet hours."
)
_EMAIL = Meta(
    max_length=MAX_EMAIL,
    description="Where email goes, if not to the account's own address; null: the account's.",
)
_PHONE = Meta(
    max_length=40,
    description="A mobile number for SMS, with its country code or of the deployment's "
    "region. Stored encrypted and never shown again whole (only phone_last4). Leave it out "
    "to keep the number stored; null removes it (and turns SMS off).",
)


class Preferences(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How the caller is told: the channels, their addresses, quiet hours, the language."""

    email_enabled: Annotated[bool, Meta(description="Send notifications by email.")]
    sms_enabled: Annotated[bool, Meta(description="Send notifications by SMS (needs a phone).")]
    email: Annotated[str, _EMAIL] | None
    quiet_hours: Annotated[QuietHours, _QUIET] | None
    timezone: (
        Annotated[
            str,
            Meta(
                max_length=64,
                description="The IANA timezone of the quiet hours, e.g. Asia/Shanghai; "
                "null: the deployment's (Asia/Shanghai).",
            ),
        ]
        | None
    )
    language: Annotated[Lang, Meta(description="The language of email and SMS: zh-CN or en.")]
    phone: Annotated[str, _PHONE] | UnsetType | None = UNSET

    def __post_init__(self) -> None:
        if self.email is not None and not _looks_like_email(self.email.strip()):
            raise InvalidField("email", t("notification.email_invalid"))
        if self.timezone is not None:
            _zone("timezone", self.timezone)


class NotificationSettings(Struct, frozen=True, kw_only=True):
    """How the caller is told (the inbox always): what ``PUT`` takes, and what it led to."""

    email_enabled: Annotated[bool, Meta(description="Notifications go out by email.")]
    sms_enabled: Annotated[bool, Meta(description="Notifications go out by SMS.")]
    email: Annotated[str, _EMAIL] | None
    email_to: (
        Annotated[str, Meta(description="The address email goes to; null if there is none.")] | None
    )
    phone_last4: (
        Annotated[str, Meta(description="The last four digits of the SMS number, if any.")] | None
    )
    quiet_hours: Annotated[QuietHours, _QUIET] | None
    timezone: (
        Annotated[str, Meta(description="The timezone of the quiet hours; null: Asia/Shanghai.")]
        | None
    )
    language: Annotated[Lang, Meta(description="The language of email and SMS.")]
    deployment_channels: Annotated[
        list[Channel],
        Meta(
            description="The channels this deployment sends on (email with an SMTP server, "
            "sms with an SMS gateway); the inbox always works."
        ),
    ]


class InboxItem(Struct, frozen=True, kw_only=True):
    """One notification of the caller's inbox, written in the caller's language."""

    id: Annotated[int, Meta(description="The notification's id.")]
    kind: Annotated[
        NotificationKind,
        Meta(
            description="waitlist.offer_made, booking.confirmed, booking.reminder, "
            "booking.cancelled, or account.code (a one-time code was sent; never the code)."
        ),
    ]
    title: Annotated[str, Meta(description="What happened, in a line.")]
    body: Annotated[str, Meta(description="The details, one sentence a line.")]
    booking_id: Annotated[int, Meta(description="The booking it is about, if any.")] | None
    offer_id: Annotated[int, Meta(description="The waiting-list offer it is about, if any.")] | None
    created_at: CreatedAt
    read_at: Annotated[datetime, Meta(description="When it was first marked read.")] | None


def quiet_until(now: datetime, quiet: tuple[time, time], zone: ZoneInfo) -> datetime | None:
    """When the quiet hours around ``now`` end (UTC), or None when ``now`` is outside them."""
    start, end = quiet
    local = now.astimezone(zone)
    at = local.time()
    if start < end:
        inside, ends_on = start <= at < end, local.date()
    else:
        inside = at >= start or at < end
        ends_on = local.date() if at < end else local.date() + timedelta(days=1)
    if not inside:
        return None
    return datetime.combine(ends_on, end, tzinfo=zone).astimezone(UTC)


def not_before(
    facts: Facts, now: datetime, quiet: tuple[time, time] | None, zone: ZoneInfo
) -> datetime:
    """When an email or SMS of ``facts`` may be sent: now, or the end of the quiet hours."""
    if isinstance(facts, CodeSent):
        return now  # asked for this minute, and useless after the next few
    until = None if quiet is None else quiet_until(now, quiet, zone)
    if until is None:
        return now
    if isinstance(facts, OfferMade) and facts.deadline <= until:
        # The family would wake to an offer that lapsed while they slept, and the bed would go
        # to the next family: a message at night is the lesser harm.
        return now
    return until


def retry_delay(failures: int, scale: float, rand: float) -> float:
    """Seconds before the next attempt after ``failures`` failed ones (≥ 1): exponential
    steps with full jitter (``rand`` uniform in [0, 1)), never less than ``scale`` seconds."""
    step = RETRY_STEPS[min(max(failures, 1), len(RETRY_STEPS)) - 1]
    return max(scale, step * scale * rand)


def gives_up(facts: Facts, first_attempt_at: datetime, now: datetime, window: float) -> bool:
    """A failing delivery is given up once retried for the whole window; an offer's, once its
    deadline has passed (it could only announce a bed that is gone); a code's, once it has
    expired."""
    if isinstance(facts, OfferMade) and now >= facts.deadline:
        return True
    if isinstance(facts, CodeSent) and now >= facts.expires_at:
        return True
    return (now - first_attempt_at).total_seconds() >= window
