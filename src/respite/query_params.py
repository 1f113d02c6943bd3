"""A query parameter the route does not declare is refused, naming it, on every route.

Litestar ignores query parameters nobody asks for, so a misspelt one changes nothing and
says nothing: ``?care_recipient=5`` on a search that reads ``care_recipient_id`` searched
for nobody in particular (and showed a woman the men's rooms). The names a route reads are
known once the app is built: Litestar's ``KwargsModel`` of each route handler lists its
query parameters, its dependencies' included, and which of them are lists. An app-wide
``before_request`` hook compares each request's query string with them: an unknown name,
or a single-valued parameter given more than once, is a field error like any other (422
``invalid-input``, the parameter as ``field``), before anything is read or changed.
"""

from __future__ import annotations

from collections import Counter
from typing import Any
from urllib.parse import unquote

import msgspec
from litestar import Request
from litestar.routes import HTTPRoute

from respite.errors import FieldError, InvalidInputError
from respite.i18n import t

__all__ = ["UnknownQueryParameters"]


def _names(query: str) -> list[str]:
    """The names of ``parse_qsl(query, keep_blank_values=True)``, without unquoting the values
    (Litestar parses them once more for the route)."""
    return [
        unquote(part.partition("=")[0].replace("+", " "), errors="replace")
        for part in query.split("&")
        if part
    ]


class Declared(msgspec.Struct, frozen=True):
    names: frozenset[str]
    lists: frozenset[str]
    """The names that may be repeated (``?facility_id=1&facility_id=2``)."""


class UnknownQueryParameters:
    """The ``before_request`` hook; one per app (it learns the app's routes on first use)."""

    def __init__(self) -> None:
        self._declared: dict[int, Declared] | None = None

    async def __call__(self, request: Request[Any, Any, Any]) -> None:
        query = request.scope.get("query_string", b"")
        if not query:
            return
        declared = self._routes(request).get(id(request.route_handler))
        if declared is None:
            return
        # In the order sent, so that the errors list them as the client wrote them.
        given = Counter(_names(query.decode("latin-1")))
        errors = [
            FieldError(name, t("input.unknown_parameter"))
            if name not in declared.names
            else FieldError(name, t("input.repeated_parameter"))
            for name, times in given.items()
            if name not in declared.names or (times > 1 and name not in declared.lists)
        ]
        if errors:
            raise InvalidInputError(errors)

    def _routes(self, request: Request[Any, Any, Any]) -> dict[int, Declared]:
        if self._declared is None:
            self._declared = {
                id(handler): Declared(
                    names=frozenset(p.field_alias for p in model.expected_query_params),
                    lists=frozenset(model.sequence_query_parameter_names),
                )
                for route in request.app.routes
                if isinstance(route, HTTPRoute)
                for handler, model in route.route_handler_map.values()
            }
        return self._declared
