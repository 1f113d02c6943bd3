"""A family's notification settings on the pages: email, SMS, quiet hours and the language.

The form is read into the API's ``Preferences`` and saved through
``notifications.put_notification_settings``, so the page refuses what the API refuses, in the
same words, every wrong field at once where the service can tell. The SMS number is never
shown again (only its last four digits): left empty it is kept, and a box removes it. The
timezone of the quiet hours is kept as it is (the API sets it; Asia/Shanghai by default).
"""

from __future__ import annotations

from typing import Annotated, Any, Final

import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import QueryParameter
from litestar.response import Redirect, Template

from respite import notifications
from respite.deps import Deps
from respite.errors import FieldError, InvalidInputError
from respite.field_errors import from_msgspec
from respite.notifications.model import NotificationSettings, Preferences
from respite.notifications.service import ChangeSettings
from respite.pages.forms import form_fields
from respite.pages.frame import go, page
from respite.pages.guards import family

__all__ = ["NotificationSettingsPages"]

Form = dict[str, Any]
Notice = Annotated[str | None, QueryParameter(name="notice", max_length=20)]
START: Final = "quiet_hours.start"
END: Final = "quiet_hours.end"


class NotificationSettingsPages(Controller):
    path = "/inbox/settings"
    include_in_schema = False

    @get("/")
    async def settings_page(
        self, request: Request[Any, Any, Any], deps: NamedDependency[Deps], notice: Notice = None
    ) -> Template:
        principal = family(request)
        current = await notifications.get_notification_settings(deps, principal)
        return _form(request, current, _as_form(current), saved=notice == "saved")

    @post("/")
    async def change(
        self, request: Request[Any, Any, Any], deps: NamedDependency[Deps]
    ) -> Template | Redirect:
        principal = family(request)
        current = await notifications.get_notification_settings(deps, principal)
        fields = await form_fields(request)
        try:
            wanted = _read(fields, current)
            command = ChangeSettings(preferences=wanted)
            await notifications.put_notification_settings(deps, principal, command)
        except InvalidInputError as exc:
            return _form(request, current, fields, errors=exc.errors, status=422)
        return go("/inbox/settings?notice=saved")


def _as_form(current: NotificationSettings) -> Form:
    quiet = current.quiet_hours
    return {
        "email_enabled": "true" if current.email_enabled else "",
        "sms_enabled": "true" if current.sms_enabled else "",
        "email": current.email or "",
        START: quiet.start if quiet else "",
        END: quiet.end if quiet else "",
        "language": current.language,
    }


def _read(fields: Form, current: NotificationSettings) -> Preferences:
    start, end = fields.get(START), fields.get(END)
    data: Form = {
        "email_enabled": fields.get("email_enabled") == "true",
        "sms_enabled": fields.get("sms_enabled") == "true",
        "email": fields.get("email"),
        "quiet_hours": {"start": start, "end": end} if start or end else None,
        "timezone": current.timezone,
        "language": fields.get("language", current.language),
    }
    if fields.get("forget_phone") == "true":
        data["phone"] = None
    elif fields.get("phone"):
        data["phone"] = fields["phone"]
    try:
        return msgspec.convert(data, Preferences)
    except msgspec.ValidationError as exc:
        raise InvalidInputError([from_msgspec(exc, Preferences)]) from None


def _form(
    request: Request[Any, Any, Any],
    current: NotificationSettings,
    form: Form,
    *,
    errors: list[FieldError] | None = None,
    status: int = 200,
    saved: bool = False,
) -> Template:
    return page(
        request,
        "inbox/settings.html",
        status=status,
        errors=errors,
        current=current,
        form=form,
        saved=saved,
    )
