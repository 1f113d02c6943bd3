"""Notification settings on a family's pages: the defaults shown, a change saved (the number
never shown again whole, kept when left empty, removed by its box), and bad fields refused
in the page's language beside the field and in the summary, changing nothing."""

from __future__ import annotations

from typing import Any

import httpx

from tests.forms import csrf_token
from tests.pages.test_hold_pages import send, signed_in_family

SETTINGS = "/inbox/settings"


async def saved(db: Any, family: int) -> Any:
    return await db.fetchrow(
        "SELECT email_enabled, sms_enabled, email, sms_phone_last4, quiet_start, quiet_end,"
        " language FROM notification_settings WHERE principal_id = $1",
        family,
    )


async def test_the_settings_are_shown_changed_and_kept(client: httpx.AsyncClient, db: Any) -> None:
    family = await signed_in_family(client, db)
    account = await db.fetchval("SELECT email FROM principals WHERE id = $1", family)
    page = await client.get(SETTINGS)
    assert page.status_code == 200
    assert f"the address you signed up with ({account})" in page.text
    assert 'id="f-email_enabled" name="email_enabled" value="true" checked' in page.text
    answer = await send(
        client,
        SETTINGS,
        {
            "email_enabled": "true",
            "sms_enabled": "true",
            "phone": "139 1234 5678",
            "quiet_hours.start": "22:00",
            "quiet_hours.end": "07:00",
            "language": "en",
        },
    )
    assert answer.status_code == 303 and answer.headers["location"] == f"{SETTINGS}?notice=saved"
    row = await saved(db, family)
    assert (row["sms_enabled"], row["sms_phone_last4"], row["language"]) == (True, "5678", "en")
    assert str(row["quiet_start"]) == "22:00:00" and str(row["quiet_end"]) == "07:00:00"
    shown = await client.get(f"{SETTINGS}?notice=saved")
    assert "Saved: notifications go out as you chose." in shown.text
    assert "ending in 5678 is kept" in shown.text and "13912345678" not in shown.text
    assert 'value="22:00"' in shown.text
    # Left empty, the number stays; the box removes it.
    kept = await send(client, SETTINGS, {"sms_enabled": "true", "language": "en"})
    assert kept.status_code == 303
    assert (await saved(db, family))["sms_phone_last4"] == "5678"
    removed = await send(client, SETTINGS, {"forget_phone": "true", "language": "zh-CN"})
    assert removed.status_code == 303
    row = await saved(db, family)
    assert row["sms_phone_last4"] is None and row["email_enabled"] is False


async def test_bad_fields_are_named_beside_the_field_in_the_pages_language(
    client: httpx.AsyncClient, db: Any
) -> None:
    family = await signed_in_family(client, db)
    answer = await send(
        client,
        SETTINGS,
        {"email_enabled": "true", "email": "nobody", "language": "en"},
    )
    assert answer.status_code == 422
    assert 'href="#f-email"' in answer.text and "is not an email address" in answer.text
    assert 'value="nobody"' in answer.text
    chinese = await client.post(
        SETTINGS,
        data={
            "_csrf_token": csrf_token((await client.get(SETTINGS)).text),
            "sms_enabled": "true",
            "phone": "+86 21 6283 1234",
            "language": "zh-CN",
        },
        headers={"Accept-Language": "zh-CN"},
    )
    assert chinese.status_code == 422
    assert (
        'href="#f-phone"' in chinese.text and "不是手机号码：短信通知需要手机号码" in chinese.text
    )
    late = await send(
        client,
        SETTINGS,
        {"quiet_hours.start": "23:00", "quiet_hours.end": "25:00", "language": "en"},
    )
    assert late.status_code == 422
    assert 'href="#f-quiet_hours.end"' in late.text and "is out of range" in late.text
    assert await saved(db, family) is None
