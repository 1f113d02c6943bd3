"""The pure rules holds and bookings share: overlap, price, the choice of a bed, signed tokens."""

from datetime import date, timedelta

import pytest

from respite.booking.model import NewBooking, overlaps, stay_price
from respite.holds.model import FreeGap, tightest
from respite.holds.token import HoldToken, read_token, sign_token
from respite.signing import Signer


def night(offset: int) -> date:
    return date(2030, 3, 1) + timedelta(days=offset)


@pytest.mark.parametrize(
    ("other", "shared"),
    [
        ((0, 5), True),  # the same stay
        ((4, 6), True),  # shares the last night
        ((-2, 1), True),  # shares the first night
        ((1, 2), True),  # inside
        ((-3, 9), True),  # around
        ((5, 8), False),  # arrives the morning we leave
        ((-2, 0), False),  # leaves the day we arrive
        ((9, 10), False),
    ],
)
def test_stays_overlap_when_they_share_a_night(other: tuple[int, int], shared: bool) -> None:
    first, last = night(other[0]), night(other[1])
    assert overlaps(night(0), night(5), first, last) is shared
    assert overlaps(first, last, night(0), night(5)) is shared


@pytest.mark.parametrize(("nightly", "nights", "total"), [(30000, 5, 150000), (1, 366, 366)])
def test_a_stay_costs_its_nights(nightly: int, nights: int, total: int) -> None:
    assert stay_price(nightly, night(0), night(nights)) == total


def test_the_tightest_gap_comes_first_and_ties_go_to_the_lower_id() -> None:
    gaps = [
        FreeGap(bed_id=4, previous_claim=None, next_claim=None),  # unbounded both sides
        FreeGap(bed_id=3, previous_claim=night(-1), next_claim=night(9)),
        FreeGap(bed_id=2, previous_claim=night(-1), next_claim=None),
        FreeGap(bed_id=1, previous_claim=night(-1), next_claim=night(5)),  # a snug fit
        FreeGap(bed_id=5, previous_claim=None, next_claim=None),
    ]
    assert tightest(gaps) == [1, 3, 2, 4, 5]


def test_a_signer_reads_only_its_own_purpose_and_key() -> None:
    token = Signer("k", "hold").sign(b"payload")
    assert Signer("k", "hold").verify(token) == b"payload"
    assert Signer("k", "cursor").verify(token) is None
    assert Signer("other", "hold").verify(token) is None
    body, mac = token.split(".")
    assert Signer("k", "hold").verify(f"{body}A.{mac}") is None


@pytest.mark.parametrize("text", ["", ".", "abc", "a.b.c", "!!!.???", "é.é", "AAAA.", ".AAAA"])
def test_a_signer_refuses_garbage_without_raising(text: str) -> None:
    assert Signer("k", "hold").verify(text) is None


def test_a_hold_token_round_trips_and_names_what_confirming_books() -> None:
    token = HoldToken(
        hold_id="3-" + "a" * 20,
        facility_id=3,
        bed_id=12,
        care_recipient_id=310,
        check_in=night(0),
        check_out=night(7),
        principal_id=5,
        referral_id=41,
        nightly_price=30000,
        created_at=1_900_000_000.5,
    )
    assert read_token("k", sign_token("k", token)) == token
    assert read_token("other", sign_token("k", token)) is None
    assert read_token("k", Signer("k", "hold").sign(b'{"not": "a token"}')) is None
    assert token.as_new_booking() == NewBooking(
        care_recipient_id=310,
        bed_id=12,
        check_in=night(0),
        check_out=night(7),
        hold_id="3-" + "a" * 20,
        referral_id=41,
        nightly_price=30000,
    )


def test_a_token_signed_before_it_carried_its_price_and_age_confirms_nothing() -> None:
    """Without the price shown nor the hold's age, a token could confirm at any price and
    for ever: it no longer reads at all (404, as a forged one)."""
    signer = Signer("k", "hold")
    older = signer.sign(b'["3-aaaaaaaaaaaaaaaaaaaa",3,12,310,"2030-03-01","2030-03-08",5,41]')
    assert read_token("k", older) is None
