"""Notifications' pure rules: quiet hours and the offer that cannot wait, the retry schedule,
what each kind says in both languages, and the calendar file of a booking."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import msgspec
import pytest
from icalendar import Calendar

from respite.notifications.calendar import stay_calendar
from respite.notifications.model import (
    RETRY_STEPS,
    BookingCancelled,
    BookingConfirmed,
    BookingReminder,
    OfferMade,
    Preferences,
    gives_up,
    not_before,
    quiet_until,
    retry_delay,
)
from respite.notifications.words import written

SHANGHAI = ZoneInfo("Asia/Shanghai")
NIGHT = (time(22, 0), time(7, 0))
AFTERNOON = (time(13, 0), time(14, 30))


def at(hour: int, minute: int = 0, day: int = 10) -> datetime:
    """An instant at a Shanghai wall-clock time on 2027-03-<day>."""
    return datetime(2027, 3, day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


@pytest.mark.parametrize(
    ("now", "quiet", "ends"),
    [
        (at(21, 59), NIGHT, None),
        (at(22, 0), NIGHT, at(7, 0, day=11)),
        (at(23, 30), NIGHT, at(7, 0, day=11)),
        (at(0, 0), NIGHT, at(7, 0)),
        (at(6, 59), NIGHT, at(7, 0)),
        (at(7, 0), NIGHT, None),
        (at(12, 59), AFTERNOON, None),
        (at(13, 0), AFTERNOON, at(14, 30)),
        (at(14, 30), AFTERNOON, None),
    ],
)
def test_quiet_hours_end_at_their_local_end(
    now: datetime, quiet: tuple[time, time], ends: datetime | None
) -> None:
    assert quiet_until(now, quiet, SHANGHAI) == ends


def offer(deadline: datetime) -> OfferMade:
    return OfferMade(
        offer_id=7,
        facility_name="静安寺社区养老院",
        facility_timezone="Asia/Shanghai",
        facility_phone="021-6248 0000",
        bed_label="2F-05",
        check_in=date(2027, 3, 12),
        check_out=date(2027, 3, 15),
        deadline=deadline,
    )


def confirmed() -> BookingConfirmed:
    return BookingConfirmed(
        booking_id=1207,
        facility_name="新华街道为老服务中心",
        facility_address="上海市长宁区新华路 365 号",
        facility_phone="021-6283 1234",
        bed_label="3F-12",
        check_in=date(2027, 5, 3),
        check_out=date(2027, 5, 8),
    )


def test_a_message_in_quiet_hours_waits_but_an_offer_that_would_lapse_does_not() -> None:
    now = at(23, 0)
    morning = at(7, 0, day=11)
    assert not_before(confirmed(), now, NIGHT, SHANGHAI) == morning
    assert not_before(confirmed(), at(8, 0), NIGHT, SHANGHAI) == at(8, 0)
    assert not_before(confirmed(), now, None, SHANGHAI) == now
    # The offer lapses at 06:00, before the quiet hours end: sent at once.
    assert not_before(offer(at(6, 0, day=11)), now, NIGHT, SHANGHAI) == now
    # Its deadline is after they end: it waits like anything else.
    assert not_before(offer(at(9, 0, day=11)), now, NIGHT, SHANGHAI) == morning


def test_retries_back_off_with_jitter_then_give_up_after_the_window() -> None:
    assert [retry_delay(n, 1.0, 1.0) for n in range(1, 8)] == [*RETRY_STEPS, RETRY_STEPS[-1]]
    assert retry_delay(3, 1.0, 0.0) == 1.0  # never less than the scale
    assert retry_delay(2, 0.01, 0.5) == pytest.approx(0.6)
    first = at(9, 0)
    assert not gives_up(confirmed(), first, first + timedelta(hours=23), 86400)
    assert gives_up(confirmed(), first, first + timedelta(hours=24), 86400)
    # An offer is given up once its deadline has passed, whatever the window.
    assert gives_up(offer(at(10, 0)), first, at(10, 0), 86400)
    assert not gives_up(offer(at(10, 0)), first, at(9, 59), 86400)


def test_an_offer_says_its_deadline_in_the_facility_time_in_both_languages() -> None:
    deadline = datetime(2027, 3, 11, 10, 30, tzinfo=UTC)  # 18:30 in Shanghai
    en = written(offer(deadline), "en")
    zh = written(offer(deadline), "zh-CN")
    assert en.title == "A bed is offered to you at 静安寺社区养老院"
    assert zh.title == "静安寺社区养老院为您提供了一张床位"
    assert en.body.splitlines() == [
        "Bed 2F-05 at 静安寺社区养老院 is free for your stay of 3 nights, March 12, 2027 to"
        " March 15, 2027.",
        "Accept it by Mar 11, 2027, 6:30:00\u202fPM (the facility's local time), or it is offered to"
        " the next family.",
        "The facility's phone: 021-6248 0000.",
    ]
    assert zh.body.splitlines() == [
        "静安寺社区养老院的 2F-05 号床位可供您入住：2027年3月12日至2027年3月15日，共 3 晚。",
        "请在2027年3月11日 18:30:00（机构当地时间）前接受，逾期将提供给下一户家庭。",
        "机构电话：021-6248 0000。",
    ]


def test_a_facility_without_phone_or_address_says_neither() -> None:
    quiet = msgspec.structs.replace(confirmed(), facility_address=" ", facility_phone="")
    assert written(quiet, "en").body == (
        "Bed 3F-12 at 新华街道为老服务中心 is booked for 5 nights, May 3, 2027 to May 8, 2027."
    )
    no_phone = msgspec.structs.replace(offer(at(9, 0)), facility_phone=None)
    assert "phone" not in written(no_phone, "en").body


@pytest.mark.parametrize(
    ("facts", "en", "zh"),
    [
        (
            confirmed(),
            "Booking confirmed: 新华街道为老服务中心",
            "预订已确认：新华街道为老服务中心",
        ),
        (
            BookingReminder(days_before=3, **msgspec.structs.asdict(confirmed())),
            "In three days: your stay at 新华街道为老服务中心",
            "三天后入住：新华街道为老服务中心",
        ),
        (
            BookingReminder(days_before=1, **msgspec.structs.asdict(confirmed())),
            "Tomorrow: your stay at 新华街道为老服务中心",
            "明天入住：新华街道为老服务中心",
        ),
        (
            BookingCancelled(
                booking_id=1207,
                facility_name="新华街道为老服务中心",
                facility_phone="",
                bed_label="3F-12",
                check_in=date(2027, 5, 3),
                check_out=date(2027, 5, 8),
            ),
            "Booking cancelled: 新华街道为老服务中心",
            "预订已取消：新华街道为老服务中心",
        ),
    ],
)
def test_every_kind_has_its_title_in_both_languages(facts: object, en: str, zh: str) -> None:
    assert isinstance(facts, BookingConfirmed | BookingReminder | BookingCancelled)
    assert written(facts, "en").title == en
    assert written(facts, "zh-CN").title == zh


@pytest.mark.parametrize(
    ("lang", "summary"),
    [("en", "Respite stay at 新华街道为老服务中心"), ("zh-CN", "新华街道为老服务中心短期托养")],
)
def test_the_calendar_file_is_one_all_day_event_through_the_check_out_day(
    lang: str, summary: str
) -> None:
    stamp = datetime(2027, 4, 20, 9, 12, 5, tzinfo=UTC)
    text = stay_calendar(confirmed(), lang, stamp, "respite.test")  # type: ignore[arg-type]
    calendar = Calendar.from_ical(text)
    events = list(calendar.walk("VEVENT"))
    assert len(events) == 1
    event = events[0]
    assert str(calendar["VERSION"]) == "2.0"
    assert str(event["UID"]) == "booking-1207@respite.test"
    assert event.decoded("DTSTART") == date(2027, 5, 3)
    assert event.decoded("DTEND") == date(2027, 5, 9)  # exclusive: the check-out day is in
    assert event.decoded("DTSTAMP") == stamp
    assert str(event["SUMMARY"]) == summary
    assert "上海市长宁区新华路 365 号" in str(event["LOCATION"])
    assert "021-6283 1234" in str(event["DESCRIPTION"])
    # The same facts and stamp give the same bytes (a retried email attaches the same file).
    assert stay_calendar(confirmed(), lang, stamp, "respite.test") == text  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"email": "not an address"}, "email"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"quiet_hours": {"start": "24:00", "end": "07:00"}}, "quiet_hours.start"),
        ({"quiet_hours": {"start": "22:00", "end": "07:60"}}, "quiet_hours.end"),
        ({"quiet_hours": {"start": "10pm", "end": "07:00"}}, "quiet_hours.start"),
        ({"quiet_hours": {"start": "07:00", "end": "07:00"}}, "quiet_hours.end"),
    ],
)
def test_preferences_refuse_what_cannot_be_kept(changes: dict[str, object], field: str) -> None:
    body = {
        "email_enabled": True,
        "sms_enabled": False,
        "email": None,
        "quiet_hours": None,
        "timezone": None,
        "language": "en",
        **changes,
    }
    with pytest.raises(msgspec.ValidationError) as raised:
        msgspec.convert(body, Preferences)
    assert field.rsplit(".", 1)[-1] in str(raised.value)
