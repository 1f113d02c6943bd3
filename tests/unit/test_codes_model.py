"""One-time codes' pure rules: what a person types, how a login is shown partly hidden, the
code a salt gives, and the purposes the notification of a code knows."""

from __future__ import annotations

import secrets
from typing import get_args, get_type_hints

import pytest

from respite.codes.model import PURPOSES, masked_email, masked_phone, typed_code
from respite.keys import one_time_code
from respite.notifications.model import CODE_DIGITS, CodeSent


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ("482913", "482913"),
        (" 482 913 ", "482913"),
        ("482-913", "482913"),
        ("４８２９１３", "482913"),
    ],
)
def test_a_code_is_read_as_a_person_types_it(typed: str, read: str) -> None:
    assert typed_code(typed) == read


@pytest.mark.parametrize(
    ("e164", "shown"),
    [
        ("+8613912345678", "139****5678"),
        ("+85291234567", "+852 912*4567"),
        ("+447912340123", "+44 791***0123"),
    ],
)
def test_a_number_is_shown_with_its_middle_hidden(e164: str, shown: str) -> None:
    assert masked_phone(e164, "CN") == shown


def test_an_address_is_shown_with_its_name_hidden() -> None:
    assert masked_email("daughter@example.com") == "d***@example.com"


def test_a_code_is_six_digits_of_its_salt_under_the_secret_key() -> None:
    salts = [secrets.token_bytes(16) for _ in range(50)]
    codes = [one_time_code("one secret", salt, CODE_DIGITS) for salt in salts]
    assert all(len(code) == 6 and code.isdigit() for code in codes)
    assert codes == [one_time_code("one secret", salt, CODE_DIGITS) for salt in salts]
    # Spread over the million: fifty salts give (all but by a one-in-a-thousand chance) fifty
    # codes; another secret key gives other codes from the same salts.
    assert len(set(codes)) >= 49
    others = [one_time_code("another secret", salt, CODE_DIGITS) for salt in salts]
    assert sum(a == b for a, b in zip(codes, others, strict=True)) <= 1


def test_the_notification_of_a_code_knows_every_purpose() -> None:
    assert get_args(get_type_hints(CodeSent)["purpose"]) == PURPOSES
