"""One-time codes: a code sent to an account's email address or phone, to set a new password
or to sign in without one. Above ``auth`` (whose accounts and tokens it uses) and
``notifications`` (whose outbox sends the code). Where things are: ``model`` (what is asked
for and typed; the pure rules), ``service`` (the use cases), ``queries``, ``api``; the table is
``sql/0020_one_time_codes.sql``; the pages are ``pages/codes.py``.

Import-light: the use cases below are loaded from their modules on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from respite.exports import on_first_use

if TYPE_CHECKING:
    from respite.codes.service import request_code, reset_password, sign_in_with_code

__all__ = ["request_code", "reset_password", "sign_in_with_code"]
__getattr__ = on_first_use(
    __name__,
    {"respite.codes.service": ("request_code", "reset_password", "sign_in_with_code")},
)
