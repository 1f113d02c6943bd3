import importlib
import pkgutil

import pytest

import respite
from respite.errors import ConflictError, FieldError, RespiteError
from respite.problems import PROBLEMS, ProblemKind, documented_kinds, field_errors


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


def _all_error_classes() -> set[type[RespiteError]]:
    for module in pkgutil.walk_packages(respite.__path__, "respite."):
        importlib.import_module(module.name)
    found: set[type[RespiteError]] = set()
    todo: list[type[RespiteError]] = [RespiteError]
    while todo:
        cls = todo.pop()
        found.add(cls)
        todo.extend(cls.__subclasses__())
    return found - {RespiteError}


def test_every_domain_error_has_its_own_row() -> None:
    missing = sorted(c.__qualname__ for c in _all_error_classes() if c not in PROBLEMS)
    assert missing == [], f"add a row to respite.problems.PROBLEMS for {missing}"


def test_problem_types_are_unique_and_documented() -> None:
    by_slug: dict[str, ProblemKind] = {}
    for kind in PROBLEMS.values():
        assert by_slug.setdefault(kind.slug, kind) == kind, f"two kinds share {kind.slug}"
        assert kind.about.strip() and kind.title.strip(), kind.slug
    assert set(by_slug) <= set(documented_kinds())


def test_every_conflict_is_named() -> None:
    """ConflictError is only a base: a conflict a client meets has a type of its own."""
    conflicts = [c for c in _all_error_classes() if issubclass(c, ConflictError)]
    assert conflicts != [ConflictError]
    slugs = [PROBLEMS[c].slug for c in conflicts if c is not ConflictError]
    assert "conflict" not in slugs and len(slugs) == len(set(slugs))
