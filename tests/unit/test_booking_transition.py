"""The life cycle as a pure function: every status × action, and every boundary of ``today``."""

from datetime import date, timedelta

import msgspec
import pytest

from respite.booking.model import (
    ACTIONS,
    STATUSES,
    Action,
    Cancellation,
    IllegalTransition,
    Outcome,
    Status,
    WalkIn,
    transition,
)

IN = date(2030, 5, 10)
OUT = date(2030, 5, 15)  # five nights: 10, 11, 12, 13, 14


def day(offset: int) -> date:
    return IN + timedelta(days=offset)


# (status, action) pairs that are legal on some day inside the stay; everything else is refused
# whatever the day.
LEGAL = {
    ("confirmed", "check_in"),
    ("confirmed", "no_show"),
    ("confirmed", "cancel"),
    ("checked_in", "check_out"),
}


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("action", ACTIONS)
def test_every_status_and_action_inside_the_stay(status: Status, action: Action) -> None:
    today = day(2)
    if (status, action) in LEGAL:
        outcome = transition(status, action, today, IN, OUT)
        assert outcome.status in STATUSES and outcome.status != status
    else:
        with pytest.raises(IllegalTransition) as refused:
            transition(status, action, today, IN, OUT)
        assert refused.value.current_status == status
        assert refused.value.action == action
        assert status in refused.value.why


@pytest.mark.parametrize(
    ("today", "legal"),
    [
        (day(-30), False),
        (day(-1), False),
        (day(0), True),  # the first day of the stay
        (day(4), True),  # the last night
        (day(5), False),  # the check-out day: the stay is over
        (day(40), False),
    ],
)
def test_check_in_only_while_the_stay_runs(today: date, legal: bool) -> None:
    if legal:
        assert transition("confirmed", "check_in", today, IN, OUT) == Outcome(
            status="checked_in", check_out=OUT
        )
    else:
        with pytest.raises(IllegalTransition) as refused:
            transition("confirmed", "check_in", today, IN, OUT)
        assert refused.value.current_status == "confirmed"


@pytest.mark.parametrize(
    ("today", "check_out", "freed"),
    [
        (day(-3), day(1), 4),  # recorded before the stay began: one night is kept
        (day(0), day(1), 4),  # leaving on the day of arrival keeps the first night
        (day(1), day(1), 4),
        (day(3), day(3), 2),
        (day(4), day(4), 1),  # the last night is freed
        (day(5), OUT, 0),  # on time
        (day(9), OUT, 0),  # late: nothing to free, the stay keeps its dates
    ],
)
def test_check_out_frees_the_remaining_nights(today: date, check_out: date, freed: int) -> None:
    outcome = transition("checked_in", "check_out", today, IN, OUT)
    assert outcome.status == "checked_out"
    assert outcome.check_out == check_out
    assert outcome.nights_freed == freed
    if freed:
        assert (outcome.free_from, outcome.free_until) == (check_out, OUT)
    else:
        assert outcome.free_from is None and outcome.free_until is None


def test_a_one_night_stay_checked_out_on_arrival_keeps_its_night() -> None:
    outcome = transition("checked_in", "check_out", IN, IN, day(1))
    assert outcome == Outcome(status="checked_out", check_out=day(1))


@pytest.mark.parametrize(
    ("today", "legal"), [(day(-1), False), (day(0), True), (day(4), True), (day(30), True)]
)
def test_no_show_from_the_first_day_frees_every_night(today: date, legal: bool) -> None:
    if not legal:
        with pytest.raises(IllegalTransition):
            transition("confirmed", "no_show", today, IN, OUT)
        return
    outcome = transition("confirmed", "no_show", today, IN, OUT)
    assert outcome == Outcome(status="no_show", check_out=OUT, free_from=IN, free_until=OUT)
    assert outcome.nights_freed == 5


@pytest.mark.parametrize("today", [day(-100), day(-1), day(0), day(3), day(10)])
def test_cancel_of_a_confirmed_booking_frees_every_night_on_any_day(today: date) -> None:
    outcome = transition("confirmed", "cancel", today, IN, OUT)
    assert outcome == Outcome(status="cancelled", check_out=OUT, free_from=IN, free_until=OUT)


@pytest.mark.parametrize(
    ("status", "action", "words"),
    [
        ("confirmed", "check_out", "check-out needs a checked-in booking"),
        ("cancelled", "check_in", "check-in needs a confirmed booking; this one is cancelled"),
        ("checked_in", "cancel", "cancel needs a confirmed booking; this one is checked_in"),
        ("no_show", "no_show", "no-show needs a confirmed booking"),
        ("checked_out", "check_out", "this one is checked_out"),
    ],
)
def test_refusals_say_why(status: Status, action: Action, words: str) -> None:
    with pytest.raises(IllegalTransition, match=words):
        transition(status, action, day(1), IN, OUT)


def _walk_in(**fields: object) -> WalkIn:
    body = {"care_recipient_id": 1, "bed_id": 2, "check_in": "2030-05-10", **fields}
    return msgspec.json.decode(msgspec.json.encode(body), type=WalkIn, strict=True)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"check_out": "2030-05-10"}, "check_out: must be after check_in"),
        ({"check_out": "2030-05-09"}, "check_out: must be after check_in"),
        ({"check_out": "2031-05-12"}, "check_out: a stay is at most 366 nights"),
        ({"check_out": "2030-05-11", "override_reason": "          x"}, "override_reason: "),
        ({"check_out": "2030-05-11", "override_reason": "short"}, "length >= 10"),
        ({"check_out": "2030-05-11", "bed_id": 2**63}, "<= 9223372036854775807"),
        ({"check_out": "2030-05-11", "bed_id": "2"}, "Expected `int`"),
        ({"check_out": "2030-05-11", "surprise": 1}, "unknown field `surprise`"),
    ],
)
def test_walk_in_bodies_are_refused(fields: dict[str, object], message: str) -> None:
    with pytest.raises(msgspec.ValidationError, match=message):
        _walk_in(**fields)


def test_walk_in_body_accepted_at_the_bounds() -> None:
    longest = _walk_in(check_out="2031-05-11", override_reason="x" * 10)
    assert (longest.check_out - longest.check_in).days == 366
    assert longest.check_in_now is False


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_cancellation_needs_a_reason(reason: str) -> None:
    with pytest.raises(msgspec.ValidationError, match="reason"):
        msgspec.json.decode(msgspec.json.encode({"reason": reason}), type=Cancellation)
