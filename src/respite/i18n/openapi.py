"""``Text`` in the API reference: a string, in the language the request negotiated."""

from __future__ import annotations

from typing import Any

from litestar._openapi.schema_generation import SchemaCreator
from litestar.openapi.spec import OpenAPIType, Schema
from litestar.plugins import OpenAPISchemaPlugin
from litestar.typing import FieldDefinition

from respite.i18n.text import Text

__all__ = ["TextSchemaPlugin"]


class TextSchemaPlugin(OpenAPISchemaPlugin):
    @staticmethod
    def is_plugin_supported_type(value: Any) -> bool:
        return value is Text

    def to_openapi_schema(
        self, field_definition: FieldDefinition, schema_creator: SchemaCreator
    ) -> Schema:
        described = field_definition.kwarg_definition
        own = getattr(described, "description", None)
        words = "in words, in the language of Accept-Language (zh-CN or en)"
        return Schema(
            type=OpenAPIType.STRING,
            description=f"{own.rstrip('.')}: {words}." if own else f"Words for a person, {words}.",
        )
