"""Strict request bodies.

Litestar converts request bodies leniently (``"3"`` passes for an ``int``); respite refuses a
wrong type instead. ``Strict[T]`` decodes the raw body with msgspec in strict mode, so every
constraint, unknown field and ``__post_init__`` check of ``T`` applies. The OpenAPI schema is
generated from ``T`` itself (not from the DTO's transfer model, which loses constraints on
optional fields), so the documentation matches what is enforced, down to
``additionalProperties: false`` for every struct of the body that refuses unknown fields.
Decoding errors become problem details in ``problems.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Generic, TypeVar

import msgspec
from litestar.dto import MsgspecDTO
from litestar.openapi.spec import Reference, Schema
from litestar.typing import FieldDefinition

__all__ = ["Strict"]

T = TypeVar("T", bound=msgspec.Struct)


class Strict(MsgspecDTO[T], Generic[T]):
    @classmethod
    def create_for_field_definition(
        cls, field_definition: FieldDefinition, handler_id: str, backend_cls: Any = None
    ) -> None:
        """Nothing to build: the body is decoded by msgspec straight into ``T``
        (``decode_bytes``) and documented from ``T`` (``create_openapi_schema``), so Litestar's
        transfer models would only cost every app start-up (half of it, measured)."""

    def decode_bytes(self, value: bytes) -> Any:
        decoded = msgspec.json.decode(value, type=self.model_type, strict=True)
        # JSON may carry NUL in a string as "\u0000"; PostgreSQL text cannot hold it.
        if b"\\u0000" in value and (path := _nul_path(decoded)) is not None:
            raise msgspec.ValidationError(f"must not contain the NUL character - at `${path}`")
        return decoded

    @classmethod
    def create_openapi_schema(
        cls, field_definition: FieldDefinition, handler_id: str, schema_creator: Any
    ) -> Any:
        schema = schema_creator.for_field_definition(
            FieldDefinition.from_annotation(
                cls.model_type, kwarg_definition=field_definition.kwarg_definition
            )
        )
        registry = schema_creator.schema_registry
        for struct in _closed_structs(msgspec.inspect.type_info(cls.model_type)):
            ref = registry.get_reference_for_field_definition(
                FieldDefinition.from_annotation(struct)
            )
            if isinstance(ref, Reference):
                registered = registry.from_reference(ref).schema
                registered.additional_properties = False
                _bound_map_values(struct, registered)
        return schema


def _bound_map_values(struct: type[msgspec.Struct], schema: Schema) -> None:
    """Give back the maximum length of a map's list values, which Litestar leaves out of
    ``additionalProperties`` (``needs_capabilities``: at most one of each capability)."""
    info = msgspec.inspect.type_info(struct)
    assert isinstance(info, msgspec.inspect.StructType)
    for field in info.fields:
        field_type = _unwrapped(field.type)
        if not isinstance(field_type, msgspec.inspect.DictType):
            continue
        bound = getattr(_unwrapped(field_type.value_type), "max_length", None)
        prop = (schema.properties or {}).get(field.encode_name)
        values = prop.additional_properties if isinstance(prop, Schema) else None
        if bound is not None and isinstance(values, Schema):
            values.max_items = bound


def _closed_structs(
    info: msgspec.inspect.Type, seen: set[type] | None = None
) -> Iterator[type[msgspec.Struct]]:
    """The struct types in ``info``, nested ones too, that refuse unknown fields."""
    seen = set() if seen is None else seen
    info = _unwrapped(info)
    if isinstance(info, msgspec.inspect.StructType) and info.cls not in seen:
        seen.add(info.cls)
        if info.forbid_unknown_fields:
            yield info.cls
        for field in info.fields:
            yield from _closed_structs(field.type, seen)
    elif isinstance(info, msgspec.inspect.UnionType):
        for member in info.types:
            yield from _closed_structs(member, seen)
    elif isinstance(info, (msgspec.inspect.ListType, msgspec.inspect.SetType)):
        yield from _closed_structs(info.item_type, seen)


def _unwrapped(info: msgspec.inspect.Type) -> msgspec.inspect.Type:
    """The type a description (``Meta(description=...)``) is attached to."""
    return info.type if isinstance(info, msgspec.inspect.Metadata) else info


def _nul_path(value: Any, path: str = "") -> str | None:
    """Where in a decoded body a string holds NUL (``.field[2].name``), or None."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, msgspec.Struct):
        items: Iterator[tuple[str, Any]] = (
            (f".{name}", getattr(value, name)) for name in value.__struct_fields__
        )
    elif isinstance(value, dict):
        items = ((f".{key}", item) for key, item in value.items())
    elif isinstance(value, (list, tuple, set, frozenset)):
        items = ((f"[{i}]", item) for i, item in enumerate(value))
    else:
        return None
    for step, item in items:
        if "\x00" in step:  # a key of a free-form object
            return path + step
        found = _nul_path(item, path + step)
        if found is not None:
            return found
    return None
