"""The desk's pure rules: how a search reads ``q``, and one hash key for every spelling."""

from __future__ import annotations

import pytest

from respite.desk.model import Query, read_query
from respite.i18n import Text
from respite.recipients.phones import phone_key


@pytest.mark.parametrize(
    ("q", "read"),
    [
        ("王秀英", Query("name", "王秀英")),
        ("  秀 ", Query("name", "秀")),
        ("Wang", Query("name", "Wang")),
        ("8000", Query("last4", "8000")),
        ("80-00", Query("last4", "8000")),
        ("13800138000", Query("phone", "13800138000")),
        ("+86 138 0013 8000", Query("phone", "+86 138 0013 8000")),
        ("(021) 6404-1990", Query("phone", "(021) 6404-1990")),
        ("138a", Query("name", "138a")),
    ],
)
def test_a_search_reads_q_as_a_name_a_numbers_last_four_or_a_number(q: str, read: Query) -> None:
    assert read_query(q) == read


@pytest.mark.parametrize("q", ["", "   ", "1", "123", "12345", "+8000"])
def test_a_few_digits_or_nothing_is_refused_with_words(q: str) -> None:
    assert isinstance(read_query(q), Text)


@pytest.mark.parametrize(
    "spelling",
    ["13800138000", "+86 138 0013 8000", "138-0013-8000", "+8613800138000", "(138) 0013 8000"],
)
def test_every_spelling_of_a_number_has_one_key(spelling: str) -> None:
    assert phone_key(spelling, "CN") == "+8613800138000"


def test_a_number_phonenumbers_does_not_know_keeps_its_digits() -> None:
    assert phone_key("12 34-56", "CN") == "123456"
    assert phone_key("+1 2", "CN") == "+12"
