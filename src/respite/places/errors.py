"""Errors of the gazetteer.

InvalidInputError
├── UnknownPlaceError       no place has the name searched for; near matches listed (422)
└── AmbiguousPlaceError     several places have it (two streets of one name); all listed (422)
GazetteerRejectedError      a gazetteer file with problems imports nothing (422)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from respite.errors import FieldError, InvalidInputError, RespiteError
from respite.i18n import t

if TYPE_CHECKING:  # errors sit below every layer (problems.py imports them all)
    from respite.places.model import Place, PlaceProblem

__all__ = ["AmbiguousPlaceError", "GazetteerRejectedError", "UnknownPlaceError"]


class UnknownPlaceError(InvalidInputError):
    def __init__(self, given: str, near_matches: Sequence[Place]) -> None:
        message = (
            t("places.unknown_near", given=given, names=[p.name for p in near_matches])
            if near_matches
            else t("places.unknown", given=given)
        )
        super().__init__([FieldError("place", message)])
        self.extensions = {"near_matches": list(near_matches)}


class AmbiguousPlaceError(InvalidInputError):
    def __init__(self, given: str, candidates: Sequence[Place]) -> None:
        message = t("places.ambiguous", given=given, count=len(candidates))
        super().__init__([FieldError("place", message)])
        self.extensions = {"candidates": list(candidates)}


class GazetteerRejectedError(RespiteError):
    def __init__(self, problems: list[PlaceProblem]) -> None:
        super().__init__(
            t("places.rejected", count=len(problems), first=problems[0].message),
            problems=problems,
        )
        self.problems = problems
