"""The OpenAPI document declares the problem-details answers of every route.

Litestar documents a route's success answer and, for routes with parameters, a 400 shaped like
its own ``ValidationException`` — which respite never sends (``problems.py`` turns every error
into RFC 9457 problem details). ``ProblemDocsPlugin`` receives each route as it is registered
and adds, in one place for all of them, the error statuses the edge and the services can answer
with, each described by one reusable ``ProblemDetails`` schema and media type. A route that
declares its own ``responses=`` for a status keeps it.
"""

from __future__ import annotations

from http import HTTPStatus

import msgspec
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.plugins import ReceiveRoutePlugin
from litestar.routes import BaseRoute, HTTPRoute

from respite.errors import FieldError
from respite.problems import PROBLEM_MEDIA_TYPE

__all__ = ["ProblemDetails", "ProblemDocsPlugin", "problem_statuses"]

# Any route: a malformed header or query (400), a bad token (401), a role or tenant refused
# (403, 404), an invalid field (422), a rate limit (429), a backend down or the time limit
# (503).
ANY_ROUTE = (400, 401, 403, 404, 422, 429, 503)
WRITES = (409,)
BODIES = (413, 415)
API_PREFIX = "/v1/"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


class ProblemDetails(msgspec.Struct, frozen=True, kw_only=True):
    """RFC 9457 problem details. Extension members (``retry_after``, ``entity`` ...) may follow."""

    type: str
    """A stable URI reference naming the kind of problem, e.g. ``/problems/invalid-input``."""
    title: str
    status: int
    detail: str
    instance: str
    errors: list[FieldError] | msgspec.UnsetType = msgspec.UNSET
    """For invalid input: every wrong field with its path and the reason."""


def problem_statuses(path: str, handler: HTTPRouteHandler) -> list[int]:
    """The error statuses ``handler`` at ``path`` can answer with, in order."""
    if not path.startswith(API_PREFIX):
        return [503]  # health and metrics: public, no parameters, only a backend can fail
    statuses = list(ANY_ROUTE)
    if handler.http_methods & WRITE_METHODS:
        statuses += WRITES
    if handler.http_methods & BODY_METHODS:
        statuses += BODIES  # whether the handler reads the body as data or raw
    return sorted(statuses)


def _spec(status: int) -> ResponseSpec:
    return ResponseSpec(
        data_container=ProblemDetails,
        generate_examples=False,
        description=HTTPStatus(status).phrase,
        media_type=PROBLEM_MEDIA_TYPE,
    )


class ProblemDocsPlugin(ReceiveRoutePlugin):
    """Adds the problem-details responses to every documented route as it is registered."""

    def receive_route(self, route: BaseRoute) -> None:
        if not isinstance(route, HTTPRoute):
            return
        for handler in route.route_handlers:
            if not handler.resolve_include_in_schema():
                continue
            documented = {status: _spec(status) for status in problem_statuses(route.path, handler)}
            handler.responses = {**documented, **(handler.responses or {})}
