"""Problems documented: in the OpenAPI document of every route, and as a page per ``type``.

Litestar documents a route's success answer and, for routes with parameters, a 400 shaped like
its own ``ValidationException`` — which respite never sends (``problems.py`` turns every error
into RFC 9457 problem details). ``ProblemDocsPlugin`` receives each route as it is registered
and adds, in one place for all of them, the error statuses the edge and the services can answer
with, each described by one reusable ``ProblemDetails`` schema and media type. A route that
declares its own ``responses=`` for a status keeps it.
"""

from __future__ import annotations

from html import escape
from http import HTTPStatus
from typing import Annotated

import msgspec
from litestar import Controller, MediaType, Response, get
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import PathParameter
from litestar.plugins import ReceiveRoutePlugin
from litestar.routes import BaseRoute, HTTPRoute

from respite.errors import NotFoundError
from respite.i18n import current_language, render, t
from respite.problems import PROBLEM_MEDIA_TYPE, TYPE_BASE, ProblemKind, documented_kinds

__all__ = [
    "ProblemDetails",
    "ProblemDocsPlugin",
    "ProblemError",
    "ProblemTypesController",
    "problem_statuses",
]

# Any route: a malformed header or query (400), a bad token (401), a role or tenant refused
# (403, 404), an invalid field (422), a rate limit (429), a backend down or the time limit
# (503).
ANY_ROUTE = (400, 401, 403, 404, 422, 429, 503)
WRITES = (409,)
BODIES = (413, 415)
API_PREFIX = "/v1/"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


class ProblemError(msgspec.Struct, frozen=True, kw_only=True):
    """One thing wrong with the request: one of its fields (``field``), or a row of an imported
    file (``line``, ``column``)."""

    message: Annotated[str, msgspec.Meta(description="What is wrong, and what would be right.")]
    field: (
        Annotated[
            str, msgspec.Meta(description="Invalid input: the field's path, e.g. patient.needs[2].")
        ]
        | msgspec.UnsetType
    ) = msgspec.UNSET
    line: (
        Annotated[int, msgspec.Meta(description="An invalid file: the line; 1 is the header.")]
        | msgspec.UnsetType
    ) = msgspec.UNSET
    column: (
        Annotated[
            str, msgspec.Meta(description="An invalid file: the column to blame (null: the line).")
        ]
        | msgspec.UnsetType
        | None
    ) = msgspec.UNSET


class ProblemDetails(msgspec.Struct, frozen=True, kw_only=True):
    """RFC 9457 problem details. Extension members (``retry_after``, ``entity`` ...) may follow."""

    type: Annotated[
        str,
        msgspec.Meta(
            description="A stable URI reference naming the kind of problem, e.g. "
            "/problems/invalid-input: its page there says what it means."
        ),
    ]
    title: Annotated[str, msgspec.Meta(description="The kind of problem, in words: fixed.")]
    status: Annotated[int, msgspec.Meta(description="The HTTP status code.")]
    detail: Annotated[str, msgspec.Meta(description="What went wrong this time.")]
    instance: Annotated[str, msgspec.Meta(description="The path of the request.")]
    errors: (
        Annotated[
            list[ProblemError],
            msgspec.Meta(description="Invalid input or file: everything wrong, where and why."),
        ]
        | msgspec.UnsetType
    ) = msgspec.UNSET


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


def _page(title: str, body: str) -> str:
    return (
        f'<!doctype html><html lang="{current_language()}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)} · respite</title>"
        "<style>body{font:18px/1.5 system-ui,sans-serif;max-width:44rem;margin:1rem auto;"
        "padding:0 1rem}code{font-size:1rem}</style></head><body>"
        f"<main>{body}</main></body></html>"
    )


def _members(kind: ProblemKind) -> str:
    if not kind.members:
        return ""
    rows = "".join(
        f"<dt><code>{escape(name)}</code></dt><dd>{escape(render(kind.member(name)))}</dd>"
        for name in kind.members
    )
    return f"<h2>{escape(render(t('docs.problems.members')))}</h2><dl>{rows}</dl>"


class ProblemTypesController(Controller):
    """Every problem ``type`` URI resolves to a page that documents it."""

    path = TYPE_BASE.rstrip("/")
    include_in_schema = False

    @get("/", media_type=MediaType.HTML)
    async def index(self) -> str:
        items = "".join(
            f'<li><a href="{TYPE_BASE}{slug}">{escape(slug)}</a>: {escape(render(kind.title))}</li>'
            for slug, kind in sorted(documented_kinds().items())
        )
        heading = render(t("docs.problems.all"))
        return _page(heading, f"<h1>{escape(heading)}</h1><ul>{items}</ul>")

    @get("/{slug:str}", media_type=MediaType.HTML)
    async def problem_type(self, slug: Annotated[str, PathParameter()]) -> Response[str]:
        kind = documented_kinds().get(slug)
        if kind is None:
            raise NotFoundError("problem type", slug)
        title = escape(render(kind.title))
        status = escape(render(t("docs.problems.status", status=kind.status)))
        body = (
            f"<h1>{title}</h1>"
            f"<p><code>type: {TYPE_BASE}{escape(slug)}</code> · {status}</p>"
            f"<p>{escape(render(kind.about))}</p>{_members(kind)}"
            f'<p><a href="{TYPE_BASE}">{escape(render(t("docs.problems.all")))}</a></p>'
        )
        return Response(_page(render(kind.title), body), media_type=MediaType.HTML)
