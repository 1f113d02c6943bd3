"""The framework's validation wording, said in ours.

msgspec and Litestar explain a bad field in English written for programmers ("Expected `int`,
got `str`", "Invalid RFC3339 encoded date", "Invalid enum value 'women'"). Each such sentence
is recognised here and said again from the catalog, in the caller's language and in words a
person can act on: the expected form of a date, the values an enum allows (read off the
route's own types), the limit a list or a text exceeded. A sentence not recognised says only
that the value is not valid; the original goes to the log so it can be taught here.
"""

from __future__ import annotations

import enum
import logging
import re
from collections.abc import Callable
from typing import Any, Final

import msgspec
import msgspec.inspect as mi

from respite.errors import FieldError
from respite.i18n import InvalidField, Text, t

__all__ = ["field_error", "from_msgspec"]

log = logging.getLogger("respite.problems")

# msgspec says where: "Expected `int`, got `str` - at `$.stay.nights`".
_AT = re.compile(r"^(?P<msg>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)
_NAMED = re.compile(r"^Object (?P<what>contains unknown|missing required) field `(?P<name>[^`]+)`$")

_TYPE_WORDS: Final = {
    "int": "input.type.int",
    "float": "input.type.number",
    "str": "input.type.text",
    "bool": "input.type.boolean",
    "array": "input.type.list",
    "object": "input.type.object",
    "null": "input.type.null",
    "date": "input.type.date",
    "datetime": "input.type.datetime",
    "time": "input.type.time",
    "uuid": "input.type.uuid",
    "bytes": "input.type.text",
    "decimal": "input.type.number",
}
_COMPARISONS: Final = {">=": "at_least", "<=": "at_most", ">": "more_than", "<": "less_than"}


def _kind(word: str) -> Text:
    return t(_TYPE_WORDS.get(word, "input.type.value"))


def _kinds(words: str) -> list[Text]:
    return [_kind(word.strip()) for word in words.split("|")]


Rule = tuple[re.Pattern[str], Callable[[re.Match[str], Any], Text]]


def _enum(match: re.Match[str], field_type: Any) -> Text:
    allowed = _allowed_values(field_type)
    if allowed:
        return t("input.enum", given=match["value"], allowed=allowed)
    return t("input.invalid")


def _pattern(match: re.Match[str], field_type: Any) -> Text:
    example = _example(field_type)
    return t("input.pattern_example", example=example) if example else t("input.pattern")


_RULES: Final[list[Rule]] = [
    (
        re.compile(r"^Expected `(?P<expected>[^`]+)`, got `(?P<got>[^`]+)`$"),
        lambda m, _: t("input.wrong_type", expected=_kinds(m["expected"]), got=_kind(m["got"])),
    ),
    (
        re.compile(r"^Expected `str` of length (?P<op>[<>]=?) (?P<n>\d+)$"),
        lambda m, _: t(f"input.text_{_COMPARISONS[m['op']]}", n=int(m["n"])),
    ),
    (
        re.compile(r"^Expected `(?:array|object)` of length (?P<op>[<>]=?) (?P<n>\d+)$"),
        lambda m, _: t(f"input.items_{_COMPARISONS[m['op']]}", n=int(m["n"])),
    ),
    (
        re.compile(r"^Expected `array` of length (?P<n>\d+)$"),
        lambda m, _: t("input.items_exactly", n=int(m["n"])),
    ),
    (
        re.compile(r"^Expected `(?:int|float|decimal)` (?P<op>[<>]=?) (?P<n>-?[\d.e+-]+)$"),
        lambda m, _: t(f"input.number_{_COMPARISONS[m['op']]}", n=m["n"]),
    ),
    (
        re.compile(r"^Expected `(?:int|float)` that's a multiple of (?P<n>[\d.]+)$"),
        lambda m, _: t("input.number_multiple_of", n=m["n"]),
    ),
    (re.compile(r"^Expected `str` matching regex .*$", re.DOTALL), _pattern),
    (re.compile(r"^Invalid enum value (?P<value>.+)$"), _enum),
    (re.compile(r"^Invalid RFC3339 encoded date$"), lambda m, _: t("input.date")),
    (re.compile(r"^Invalid RFC3339 encoded datetime$"), lambda m, _: t("input.datetime")),
    (re.compile(r"^Invalid RFC3339 encoded time$"), lambda m, _: t("input.time")),
    (
        re.compile(r"^Expected `datetime` with a timezone component$"),
        lambda m, _: t("input.datetime_zone"),
    ),
    (re.compile(r"^Invalid UUID$"), lambda m, _: t("input.uuid")),
    (
        re.compile(r"^(?:Integer value out of range|Number out of range)$"),
        lambda m, _: t("input.number_out_of_range"),
    ),
]


def field_error(path: str, sentence: str, field_type: Any = None) -> FieldError:
    """A framework ``sentence`` about the field at ``path`` (of type ``field_type``)."""
    for pattern, say in _RULES:
        match = pattern.match(sentence)
        if match is not None:
            return FieldError(path or "$", say(match, field_type))
    log.info("validation sentence not recognised: %s", sentence)
    return FieldError(path or "$", t("input.invalid"))


def from_msgspec(exc: msgspec.ValidationError, root_type: Any = None) -> FieldError:
    """One msgspec validation error as a field error with a readable path."""
    match = _AT.match(str(exc))
    assert match is not None  # the pattern matches any string
    text, path = match["msg"], (match["path"] or "").lstrip(".")
    cause = exc.__cause__
    if isinstance(cause, InvalidField):
        return FieldError(_join(path, cause.field), cause.text)
    named = _NAMED.match(text)
    if named is not None:
        key = "input.unknown_field" if named["what"] == "contains unknown" else "input.required"
        return FieldError(_join(path, named["name"]), t(key))
    return field_error(path, text, _type_at(root_type, path))


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


_SEGMENT = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _type_at(root: Any, path: str) -> Any:
    """The type of the field at ``path`` inside ``root`` (a Struct type), or None."""
    if root is None:
        return None
    try:
        info: Any = mi.type_info(root)
    except (TypeError, ValueError):
        return None
    for name, index in _SEGMENT.findall(path):
        info = _step(info, name if not index else None)
        if info is None:
            return None
    return info


def _step(info: Any, name: str | None) -> Any:
    for candidate in _alternatives(info):
        if name is None and isinstance(candidate, (mi.ListType, mi.SetType, mi.FrozenSetType)):
            return candidate.item_type
        if name is None and isinstance(candidate, mi.VarTupleType):
            return candidate.item_type
        if name is not None and isinstance(candidate, (mi.StructType, mi.DataclassType)):
            for field in candidate.fields:
                if name in (field.name, field.encode_name):
                    return field.type
        if name is not None and isinstance(candidate, mi.DictType):
            return candidate.value_type
    return None


def _alternatives(info: Any) -> list[Any]:
    if isinstance(info, mi.UnionType):
        return list(info.types)
    if isinstance(info, mi.Metadata):
        return _alternatives(info.type)
    return [info]


def _allowed_values(info: Any) -> list[str]:
    if info is None:
        return []
    if not isinstance(info, mi.Type):
        try:
            info = mi.type_info(info)
        except (TypeError, ValueError):
            return []
    for candidate in _alternatives(info):
        if isinstance(candidate, mi.EnumType) and issubclass(candidate.cls, enum.Enum):
            return [str(member.value) for member in candidate.cls]
        if isinstance(candidate, mi.LiteralType):
            return [str(value) for value in candidate.values]
    return []


def _example(info: Any) -> str | None:
    if isinstance(info, mi.Metadata):
        extra = info.extra_json_schema or {}
        examples = extra.get("examples")
        if examples:
            return str(examples[0])
        return _example(info.type)
    return None
