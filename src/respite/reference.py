"""The API reference (``/schema/openapi.json``): what Litestar is told beyond the code itself.

Descriptions live next to what they describe, where a maintainer sees them: an operation's
``summary=`` in its decorator and its description in the handler's docstring; a field's in
``Meta(description=...)`` on its annotation (the shared words once, in ``respite.vocabulary``);
a schema's in its Struct's docstring; a parameter's in its ``Parameter(description=...)``.
This module adds what Litestar lacks for that:

- ``DescribedStructs``: a Struct's docstring becomes the description of its schema. Litestar
  would instead copy the description of the first field it meets naming the Struct onto the
  shared schema ("the bed held" as the description of every bed).
- ``documented``: examples an operation shows for its request and its answers, and a request
  body that the handler reads itself (the CSV bed import), which Litestar cannot see.
- ``BEARER`` and ``BEARER_OPTIONAL``: the security of each operation, said on the operation
  (client generators read no document-wide ``security``); one without needs no token.
- ``operation_id``: ids like ``holds_confirm``, which client generators make function names of
  (Litestar's own read ``V1HoldsHoldIdConfirmConfirm``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from inspect import cleandoc
from typing import TYPE_CHECKING, Any, Final

import msgspec
from litestar._openapi.schema_generation.plugins.struct import StructSchemaPlugin
from litestar.openapi.spec import Example, OpenAPIResponse, Operation, Reference, RequestBody
from litestar.openapi.spec import Schema as OpenAPISchema

from respite.i18n import Text, render

if TYPE_CHECKING:
    from litestar._openapi.schema_generation import SchemaCreator
    from litestar.handlers import HTTPRouteHandler
    from litestar.openapi.spec import SecurityRequirement
    from litestar.types import Method
    from litestar.types.internal_types import PathParameterDefinition
    from litestar.typing import FieldDefinition

__all__ = [
    "BEARER",
    "BEARER_OPTIONAL",
    "DescribedStructs",
    "documented",
    "example",
    "operation_id",
]

BEARER: Final[list[SecurityRequirement]] = [{"bearer": []}]
"""A bearer token: ``Authorization: Bearer <token>``."""
BEARER_OPTIONAL: Final[list[SecurityRequirement]] = [{}, {"bearer": []}]
"""Anonymous, or with a token for more (the availability search for one elder)."""


def operation_id(
    handler: HTTPRouteHandler, method: Method, _: list[str | PathParameterDefinition]
) -> str:
    """The handler's first tag and its name (and the method, for a handler of several)."""
    tag = (handler.resolve_tags() or ["respite"])[0].replace(" ", "_")
    name = handler.handler_name
    return f"{tag}_{name}" if len(handler.http_methods) == 1 else f"{tag}_{method.lower()}_{name}"


class DescribedStructs(StructSchemaPlugin):
    """Struct schemas described by the Struct's docstring, and never by a field naming it."""

    def to_openapi_schema(  # type: ignore[override]  # a reference, see below
        self, field_definition: FieldDefinition, schema_creator: SchemaCreator
    ) -> OpenAPISchema | Reference:
        schema = super().to_openapi_schema(field_definition, schema_creator)
        doc = field_definition.type_.__doc__
        if doc and schema.description is None:
            schema.description = cleandoc(doc)
        info = msgspec.inspect.type_info(field_definition.type_)
        if isinstance(info, msgspec.inspect.StructType) and info.tag_field:
            tag = (schema.properties or {}).get(info.tag_field)
            if isinstance(tag, OpenAPISchema) and tag.description is None:
                tag.description = f'Names this variant: always "{info.tag}".'
        # Litestar applies the field's description and examples to whatever the plugin
        # returns: returned as a reference, they go to the field, not to the shared schema.
        reference = schema_creator.schema_registry.get_reference_for_field_definition(
            field_definition
        )
        return reference or schema


@dataclass
class _Verbatim(Example):
    """An example whose value is written as it is: Litestar would drop every null in it, and
    with them required fields (``cancel_reason: null`` of a booking)."""

    def to_schema(self) -> dict[str, Any]:
        return {**super().to_schema(), "value": self.value}


def example(summary: str, value: object) -> Example:
    """A named example: ``value`` a Struct (or list of them) as it goes over the wire."""
    return _Verbatim(summary=summary, value=msgspec.to_builtins(value, enc_hook=_in_english))


def _in_english(value: object) -> object:
    """Words in an example read as an English-speaking client would receive them."""
    if isinstance(value, Text):
        return render(value, "en")
    raise TypeError(f"cannot show {type(value).__name__} in an example")


def _examples(examples: Sequence[Example]) -> dict[str, Example | Reference]:
    return {_key(e.summary or str(i)): e for i, e in enumerate(examples, 1)}


def _key(summary: str) -> str:
    return "-".join("".join(c if c.isalnum() else " " for c in summary.lower()).split())


def documented(
    *,
    request: Sequence[Example] = (),
    answers: Mapping[int, Sequence[Example]] | None = None,
    body: RequestBody | None = None,
) -> type[Operation]:
    """An ``operation_class=`` for a route decorator: its request body's examples, or the
    whole ``body`` for a handler that reads the request itself; examples of its answers by
    status (the answer's schema stays the one Litestar derives from the return type)."""

    @dataclass
    class DocumentedOperation(Operation):
        def __post_init__(self) -> None:
            if body is not None:
                self.request_body = body
            if request:
                if not isinstance(self.request_body, RequestBody):
                    raise ValueError(f"{self.operation_id}: request examples, but no body")
                for media in self.request_body.content.values():
                    media.examples = _examples(request)
            for status, shown in (answers or {}).items():
                answer = (self.responses or {}).get(str(status))
                if not isinstance(answer, OpenAPIResponse) or not answer.content:
                    raise ValueError(f"{self.operation_id}: examples of a {status} it lacks")
                for media in answer.content.values():
                    media.examples = _examples(shown)

    return DocumentedOperation
