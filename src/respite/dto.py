"""Strict request bodies.

Litestar converts request bodies leniently (``"3"`` passes for an ``int``); respite refuses a
wrong type instead. ``Strict[T]`` decodes the raw body with msgspec in strict mode, so every
constraint, unknown field and ``__post_init__`` check of ``T`` applies. The OpenAPI schema is
generated from ``T`` itself (not from the DTO's transfer model, which loses constraints on
optional fields), so the documentation matches what is enforced. Decoding errors become problem
details in ``problems.py``.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

import msgspec
from litestar.dto import MsgspecDTO
from litestar.typing import FieldDefinition

__all__ = ["Strict"]

T = TypeVar("T", bound=msgspec.Struct)


class Strict(MsgspecDTO[T], Generic[T]):
    def decode_bytes(self, value: bytes) -> Any:
        return msgspec.json.decode(value, type=self.model_type, strict=True)

    @classmethod
    def create_openapi_schema(
        cls, field_definition: FieldDefinition, handler_id: str, schema_creator: Any
    ) -> Any:
        return schema_creator.for_field_definition(
            FieldDefinition.from_annotation(
                cls.model_type, kwarg_definition=field_definition.kwarg_definition
            )
        )
