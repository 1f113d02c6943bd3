"""The life cycle as a pure function: every status × action, and every boundary of ``today``."""

from datetime import date, timedelta

import msgspec
import pytest

from respite.booking.model import (
    ACTIONS,
    MAX_OVERRIDES,
    STATUSES,
    Action,
    Cancellation,
    IllegalTransition,
    Outcome,
    Status,
    WalkIn,
    transition,
)
from respite.eligibility.overrides import Override
from respite.eligibility.reasons import REFUSAL_CODES
from respite.i18n import t


def day(offset: int) -> date:
    """``offset`` days after the check-in of the stay every test judges: 10 to 15 May 2030,
    five nights (10, 11, 12, 13, 14)."""
    return date(2030, 5, 10) + timedelta(days=offset)


IN, OUT = 0, 5  # the stay, as offsets: dates are made in the tests, not at import


def step(
    status: Status, action: Action, today: int, check_in: int = IN, check_out: int = OUT
) -> Outcome:
    return transition(status, action, day(today), day(check_in), day(check_out))


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
    if (status, action) in LEGAL:
        outcome = step(status, action, 2)
        assert outcome.status in STATUSES and outcome.status != status
    else:
        with pytest.raises(IllegalTransition) as refused:
            step(status, action, 2)
        assert refused.value.current_status == status
        assert refused.value.action == action
        assert refused.value.why.params["status"] == t(f"booking.status.{status}")


@pytest.mark.parametrize(
    ("today", "legal"),
    [
        (-30, False),
        (-1, False),
        (0, True),  # the first day of the stay
        (4, True),  # the last night
        (5, False),  # the check-out day: the stay is over
        (40, False),
    ],
)
def test_check_in_only_while_the_stay_runs(today: int, legal: bool) -> None:
    if legal:
        assert step("confirmed", "check_in", today) == Outcome(
            status="checked_in", check_out=day(OUT)
        )
    else:
        with pytest.raises(IllegalTransition) as refused:
            step("confirmed", "check_in", today)
        assert refused.value.current_status == "confirmed"


@pytest.mark.parametrize(
    ("today", "check_out", "freed"),
    [
        (-3, 1, 4),  # recorded before the stay began: one night is kept
        (0, 1, 4),  # leaving on the day of arrival keeps the first night
        (1, 1, 4),
        (3, 3, 2),
        (4, 4, 1),  # the last night is freed
        (5, OUT, 0),  # on time
        (9, OUT, 0),  # late: nothing to free, the stay keeps its dates
    ],
)
def test_check_out_frees_the_remaining_nights(today: int, check_out: int, freed: int) -> None:
    outcome = step("checked_in", "check_out", today)
    assert outcome.status == "checked_out"
    assert outcome.check_out == day(check_out)
    assert outcome.nights_freed == freed
    if freed:
        assert (outcome.free_from, outcome.free_until) == (day(check_out), day(OUT))
    else:
        assert outcome.free_from is None and outcome.free_until is None


def test_a_one_night_stay_checked_out_on_arrival_keeps_its_night() -> None:
    outcome = step("checked_in", "check_out", IN, IN, 1)
    assert outcome == Outcome(status="checked_out", check_out=day(1))


@pytest.mark.parametrize(("today", "legal"), [(-1, False), (0, True), (4, True), (30, True)])
def test_no_show_from_the_first_day_frees_every_night(today: int, legal: bool) -> None:
    if not legal:
        with pytest.raises(IllegalTransition):
            step("confirmed", "no_show", today)
        return
    outcome = step("confirmed", "no_show", today)
    freed = {"free_from": day(IN), "free_until": day(OUT)}
    assert outcome == Outcome(status="no_show", check_out=day(OUT), **freed)
    assert outcome.nights_freed == 5


@pytest.mark.parametrize("today", [-100, -1, 0, 3, 10])
def test_cancel_of_a_confirmed_booking_frees_every_night_on_any_day(today: int) -> None:
    outcome = step("confirmed", "cancel", today)
    freed = {"free_from": day(IN), "free_until": day(OUT)}
    assert outcome == Outcome(status="cancelled", check_out=day(OUT), **freed)


@pytest.mark.parametrize(
    ("status", "action", "words"),
    [
        ("confirmed", "check_out", "Check-out needs a checked-in booking"),
        ("cancelled", "check_in", "Check-in needs a confirmed booking; this one is cancelled"),
        ("checked_in", "cancel", "Cancelling needs a confirmed booking; this one is checked in"),
        ("no_show", "no_show", "A no-show needs a confirmed booking"),
        ("checked_out", "check_out", "this one is checked out"),
    ],
)
def test_refusals_say_why(status: Status, action: Action, words: str) -> None:
    with pytest.raises(IllegalTransition, match=words):
        step(status, action, 1)


@pytest.mark.parametrize(
    ("status", "action", "today", "words"),
    [
        ("cancelled", "check_in", 1, "办理入住需要已确认的预订，此预订已取消。"),
        ("confirmed", "check_out", 1, "办理退房需要已入住的预订，此预订已确认。"),
        ("confirmed", "check_in", -1, "入住从 2030年5月10日 开始，今天是 2030年5月9日。"),
        ("confirmed", "no_show", -1, "入住从 2030年5月10日 开始，从当天起才能登记未到。"),
    ],
)
def test_refusals_say_why_in_chinese(
    status: Status, action: Action, today: int, words: str
) -> None:
    with pytest.raises(IllegalTransition) as refused:
        step(status, action, today)
    assert refused.value.why.in_("zh-CN") == words


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
        ({"check_out": "2030-05-11", "override_reason": "x" * 10}, "overrides: name each rule"),
        (
            {"check_out": "2030-05-11", "overrides": [{"code": "quota_exhausted"}]},
            "override_reason: overriding a rule needs a written reason",
        ),
        (
            {
                "check_out": "2030-05-11",
                "override_reason": "x" * 10,
                "overrides": [{"code": "sex_rule"}, {"code": "sex_rule", "acknowledged": True}],
            },
            "overrides: 'sex_rule' is named more than once",
        ),
        (
            {"check_out": "2030-05-11", "override_reason": "x" * 10, "overrides": [{"code": "x"}]},
            r"code: 'x' is not a reason code that refuses - at `\$.overrides\[0\]`",
        ),
        (
            {
                "check_out": "2030-05-11",
                "override_reason": "x" * 10,
                "overrides": [{"code": "sex_rule", "acknowledged": "yes"}],
            },
            r"Expected `bool`, got `str` - at `\$.overrides\[0\].acknowledged`",
        ),
        (
            {
                "check_out": "2030-05-11",
                "override_reason": "x" * 10,
                "overrides": [{"code": c} for c in REFUSAL_CODES[: MAX_OVERRIDES + 1]],
            },
            f"length <= {MAX_OVERRIDES}",
        ),
    ],
)
def test_walk_in_bodies_are_refused(fields: dict[str, object], message: str) -> None:
    with pytest.raises(msgspec.ValidationError, match=message):
        _walk_in(**fields)


def test_walk_in_body_accepted_at_the_bounds() -> None:
    most = [{"code": c} for c in REFUSAL_CODES[:MAX_OVERRIDES]]
    longest = _walk_in(check_out="2031-05-11", override_reason="x" * 10, overrides=most)
    assert (longest.check_out - longest.check_in).days == 366
    assert longest.check_in_now is False
    assert len(longest.overrides) == MAX_OVERRIDES
    assert longest.overrides[0] == Override(code=REFUSAL_CODES[0], acknowledged=False)


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_cancellation_needs_a_reason(reason: str) -> None:
    with pytest.raises(msgspec.ValidationError, match="reason"):
        msgspec.json.decode(msgspec.json.encode({"reason": reason}), type=Cancellation)
