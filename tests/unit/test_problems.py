import importlib
import pkgutil

import pytest

import respite
from respite.errors import ConflictError, RespiteError
from respite.i18n import LANGUAGES, Lang, render
from respite.problems import PROBLEMS, ProblemKind, documented_kinds


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
    assert set(by_slug) <= set(documented_kinds())


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("kind", documented_kinds().values(), ids=lambda kind: kind.slug)
def test_every_problem_type_is_documented_in_both_languages(kind: ProblemKind, lang: Lang) -> None:
    # t() raises for a message the catalog lacks; the catalog refuses one language alone.
    assert render(kind.title, lang).strip() and render(kind.about, lang).strip()
    for name in kind.members:
        assert render(kind.member(name), lang).strip()


def test_every_conflict_is_named() -> None:
    """ConflictError is only a base: a conflict a client meets has a type of its own."""
    conflicts = [c for c in _all_error_classes() if issubclass(c, ConflictError)]
    assert conflicts != [ConflictError]
    slugs = [PROBLEMS[c].slug for c in conflicts if c is not ConflictError]
    assert "conflict" not in slugs and len(slugs) == len(set(slugs))
