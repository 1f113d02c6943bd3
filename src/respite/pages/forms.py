"""A page's form, read into the same Struct the API decodes, with errors people can act on.

A browser posts text: ``read_form`` turns the fields into the Struct's types (numbers,
dates) as msgspec does for the API, leaving out empty fields so a blank optional field is
absent rather than an empty string, and ``_csrf_token`` (checked before). Every required field
left blank is named at once; otherwise the first field msgspec refuses is, in the same words
the API uses (``field_errors``): when the whole is refused, each field is checked on its own,
so every field that is wrong is named at once (or, when each is right alone, the rule across
fields that is not).
"""

from __future__ import annotations

import functools
from typing import Any, TypeVar

import msgspec
from litestar import Request

from respite.errors import FieldError, InvalidInputError
from respite.field_errors import from_msgspec
from respite.i18n import t

__all__ = ["form_fields", "read_form"]

S = TypeVar("S", bound=msgspec.Struct)
_CSRF_FIELD = "_csrf_token"


async def form_fields(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """The posted fields, stripped, without the blank ones and the CSRF token; a field given
    several times (checkboxes) is a list."""
    form = await request.form()
    fields: dict[str, Any] = {}
    for name in form:
        if name == _CSRF_FIELD:
            continue
        values = [value.strip() for value in form.getall(name) if isinstance(value, str)]
        values = [value for value in values if value]
        if not values:
            continue
        fields[name] = values if len(values) > 1 else values[0]
    return fields


def read_form(fields: dict[str, Any], into: type[S], *, lists: frozenset[str] = frozenset()) -> S:
    """``fields`` as an ``into``; ``lists`` name the fields that are always lists (a set of
    checkboxes with one ticked). Raises ``InvalidInputError`` naming the fields."""
    data = {
        name: ([value] if name in lists and not isinstance(value, list) else value)
        for name, value in fields.items()
    }
    try:
        return msgspec.convert(data, into, strict=False)
    except msgspec.ValidationError as exc:
        whole = from_msgspec(exc, into)
    # Refused: say every field that is wrong, not only the first msgspec met.
    errors: list[FieldError] = []
    for field in _fields_of(into):
        if field.encode_name not in data:
            if field.required:
                errors.append(FieldError(field.encode_name, t("input.required")))
            continue
        try:
            msgspec.convert(
                {field.encode_name: data[field.encode_name]}, _alone(into, field.name), strict=False
            )
        except msgspec.ValidationError as exc:
            errors.append(from_msgspec(exc, into))
    raise InvalidInputError(errors or [whole])


@functools.cache
def _fields_of(into: type[msgspec.Struct]) -> tuple[msgspec.structs.FieldInfo, ...]:
    """``into``'s fields, read once: msgspec resolves the type hints anew at every call
    (about 0.2 ms for the search form's dozen, more than the rest of reading it)."""
    return msgspec.structs.fields(into)


@functools.cache
def _alone(into: type[msgspec.Struct], name: str) -> type[msgspec.Struct]:
    """A Struct of ``into``'s field ``name`` alone, to check it without the others."""
    field = next(f for f in _fields_of(into) if f.name == name)
    return msgspec.defstruct(
        f"{into.__name__}_{field.name}",
        [(field.name, field.type)],
        rename={field.name: field.encode_name},
    )
