"""Importing beds from a file on the desk (managers): a CSV file or an Excel workbook.

The form posts the file (``multipart/form-data``; the CSRF middleware reads its token from the
same form) and the page hands its bytes to the API's own use case (``inventory.import_beds``):
the same columns, the same checks, all rows or none. What the file is comes from its first
bytes, not its name (``bed_files.file_format``). A refused file is listed whole: every bad row
with its number, its column and the reason, in the page's language. The upload is bounded
twice: the body of the request (a little over ``MAX_IMPORT_BYTES`` for the form around the
file; past it the request is refused before it is read, and this page says why), then the
file itself, as the API bounds it.
"""

from __future__ import annotations

from typing import Annotated, Any, Final

from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.exceptions import PermissionDeniedException
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.params import QueryParameter
from litestar.response import Redirect, Template
from litestar.utils.scope.state import ScopeState

from respite.auth.guards import optional_principal
from respite.deps import Deps
from respite.errors import FieldError, PermissionDeniedError
from respite.i18n import Text, t
from respite.inventory import importing
from respite.inventory.bed_files import XLSX_MEDIA_TYPE, file_format
from respite.inventory.commands import BedImport
from respite.inventory.errors import (
    MAX_REPORTED_ERRORS,
    BedsChangedDuringImportError,
    ImportRejectedError,
    RowError,
)
from respite.pages.error_pages import on_http_error, on_respite_error
from respite.pages.frame import go, page
from respite.pages.guards import manager

__all__ = ["BedImportPages"]

# The form's own fields and the multipart framing around the file.
_FORM_ROOM: Final = 64 * 1024
MAX_UPLOAD: Final = importing.MAX_IMPORT_BYTES + _FORM_ROOM
_MIB: Final = importing.MAX_IMPORT_BYTES // 1024 // 1024
Count = Annotated[int | None, QueryParameter(ge=0, le=importing.MAX_IMPORT_ROWS)]
COLUMNS: Final = [(name, name in importing.REQUIRED_COLUMNS) for name in importing.COLUMNS]


def _close_uploads(request: Request[Any, Any, Any]) -> None:
    """Close the files a refused request's form spooled (the CSRF middleware read the form;
    nothing else will)."""
    form = ScopeState.from_scope(request.scope).form
    if isinstance(form, dict):
        for values in form.values():
            for value in values if isinstance(values, list) else [values]:
                if isinstance(value, UploadFile):
                    value.file.close()


def _refused_by_csrf(request: Request[Any, Any, Any], exc: PermissionDeniedException) -> Any:
    _close_uploads(request)
    return on_http_error(request, exc)


def _too_large(request: Request[Any, Any, Any], exc: RequestEntityTooLarge) -> Template:
    """A body past the bound, refused before it was read (so before the guard ran)."""
    _close_uploads(request)
    principal = optional_principal(request)
    if principal is None or principal.role != "staff" or principal.staff_role != "manager":
        return on_respite_error(request, PermissionDeniedError(t("page.error.managers_only")))
    return _form(request, status=413, errors=[_file_error(_too_large_words())])


class BedImportPages(Controller):
    path = "/desk/beds/import"
    include_in_schema = False

    @get("/")
    async def import_page(
        self,
        request: Request[Any, Any, Any],
        rows: Count = None,
        created: Count = None,
        updated: Count = None,
        unchanged: Count = None,
    ) -> Template:
        manager(request)
        done = None
        if None not in (rows, created, updated, unchanged):
            done = {"rows": rows, "created": created, "updated": updated, "unchanged": unchanged}
        return _form(request, done=done)

    @post(
        "/",
        request_max_body_size=MAX_UPLOAD,
        exception_handlers={
            RequestEntityTooLarge: _too_large,
            PermissionDeniedException: _refused_by_csrf,
        },
    )
    async def upload(
        self, request: Request[Any, Any, Any], deps: NamedDependency[Deps]
    ) -> Template | Redirect:
        principal = manager(request)
        assert principal.facility_id is not None, "guards.staff lets only a facility's staff in"
        data = await _file(request)
        if not data:
            return _form(request, status=422, errors=[_file_error(t("desk.imports.no_file"))])
        if len(data) > importing.MAX_IMPORT_BYTES:
            return _form(request, status=413, errors=[_file_error(_too_large_words())])
        kind = file_format(data)
        if isinstance(kind, Text):
            return _form(request, status=422, errors=[_file_error(kind)])
        file = BedImport(facility_id=principal.facility_id, data=data, format=kind)
        try:
            result = await importing.import_beds(deps, principal, file)
        except ImportRejectedError as exc:
            return _refused(request, exc.errors)
        except BedsChangedDuringImportError as exc:
            return _form(request, status=409, errors=[_file_error(exc.detail)])
        return go(
            f"/desk/beds/import?rows={result.rows}&created={result.created}"
            f"&updated={result.updated}&unchanged={result.unchanged}"
        )


async def _file(request: Request[Any, Any, Any]) -> bytes:
    upload = (await request.form()).get("file")
    if not isinstance(upload, UploadFile):
        return b""
    try:
        return await upload.read()
    finally:
        await upload.close()


def _too_large_words() -> Text:
    return t("desk.imports.too_large", mib=_MIB)


def _file_error(message: Text) -> FieldError:
    return FieldError("file", message)


def _refused(request: Request[Any, Any, Any], errors: list[RowError]) -> Template:
    headline = t("desk.imports.refused", count=len(errors))
    return _form(
        request,
        status=422,
        errors=[_file_error(headline)],
        problems=errors[:MAX_REPORTED_ERRORS],
        problem_count=len(errors),
    )


def _form(
    request: Request[Any, Any, Any],
    *,
    status: int = 200,
    errors: list[FieldError] | None = None,
    done: dict[str, int | None] | None = None,
    problems: list[RowError] | None = None,
    problem_count: int = 0,
) -> Template:
    return page(
        request,
        "desk/beds/import.html",
        status=status,
        errors=errors,
        done=done,
        problems=problems or [],
        problem_count=problem_count,
        columns=COLUMNS,
        accept=f".csv,.xlsx,text/csv,{XLSX_MEDIA_TYPE}",
        max_rows=importing.MAX_IMPORT_ROWS,
        mib=_MIB,
    )
