import pytest

from respite.errors import FieldError
from respite.problems import field_errors


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (
            "Expected `int`, got `str` - at `$.bed_id`",
            FieldError("bed_id", "Expected `int`, got `str`"),
        ),
        (
            "Expected `int` >= 0 - at `$.stay.nights`",
            FieldError("stay.nights", "Expected `int` >= 0"),
        ),
        (
            "Object contains unknown field `zzz`",
            FieldError("zzz", "Object contains unknown field `zzz`"),
        ),
        (
            "Object missing required field `check_in` - at `$.stay`",
            FieldError("stay.check_in", "Object missing required field `check_in`"),
        ),
        ("check_out: must be after check_in", FieldError("check_out", "must be after check_in")),
        (
            "check_out: must be after check_in - at `$.items[2]`",
            FieldError("items[2].check_out", "must be after check_in"),
        ),
        ("Expected `object`, got `array`", FieldError("$", "Expected `object`, got `array`")),
    ],
)
def test_msgspec_messages_become_field_errors(message: str, expected: FieldError) -> None:
    assert field_errors(message) == [expected]
