"""Notification settings and the inbox over HTTP, as a family uses them: settings that round
trip (the SMS number never shown again whole), problems naming the field in both languages
that change nothing, and the inbox of a booking made and cancelled, in the reader's language,
newest first, paged, marked read; another family's notification is 404."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from tests import builders
from tests.conftest import MakeToken

SETTINGS = "/v1/me/notification-settings"
INBOX = "/v1/me/inbox"
MOBILE = "+86 139 1234 5678"


def wanted(**changes: Any) -> dict[str, Any]:
    return {
        "email_enabled": True,
        "sms_enabled": False,
        "email": None,
        "quiet_hours": None,
        "timezone": None,
        "language": "en",
        **changes,
    }


async def test_settings_start_from_the_defaults_and_round_trip(
    client: httpx.AsyncClient, make_token: MakeToken, db: Any
) -> None:
    family, headers = await make_token("family")
    account = await db.fetchval("SELECT email FROM principals WHERE id = $1", family.id)
    first = await client.get(SETTINGS, headers=headers)
    assert first.status_code == 200, first.text
    assert first.json() == {
        "email_enabled": True,
        "sms_enabled": False,
        "email": None,
        "email_to": account,
        "phone_last4": None,
        "quiet_hours": None,
        "timezone": None,
        "language": "zh-CN",
        "deployment_channels": [],
    }
    body = wanted(
        sms_enabled=True,
        phone=MOBILE,
        email="Li.Min@Example.com",
        quiet_hours={"start": "22:00", "end": "07:30"},
        timezone="Asia/Shanghai",
    )
    changed = await client.put(SETTINGS, json=body, headers=headers)
    assert changed.status_code == 200, changed.text
    answer = changed.json()
    assert answer["email"] == answer["email_to"] == "li.min@example.com"
    assert answer["phone_last4"] == "5678"
    assert answer["quiet_hours"] == {"start": "22:00", "end": "07:30"}
    assert "13912345678" not in changed.text
    sealed = await db.fetchval(
        "SELECT sms_phone_enc FROM notification_settings WHERE principal_id = $1", family.id
    )
    assert b"13912345678" not in sealed
    assert (await client.get(SETTINGS, headers=headers)).json() == answer
    # Without phone the number stays; null removes it.
    kept = await client.put(SETTINGS, json=wanted(sms_enabled=True), headers=headers)
    assert kept.json()["phone_last4"] == "5678" and kept.json()["email"] is None
    removed = await client.put(SETTINGS, json=wanted(phone=None), headers=headers)
    assert removed.json()["phone_last4"] is None and removed.json()["sms_enabled"] is False
    audited = await db.fetchval(
        "SELECT count(*) FROM audit_log WHERE entity = 'notification_settings' AND entity_id = $1",
        str(family.id),
    )
    assert audited == 3
    trail = await db.fetchval(
        "SELECT string_agg(before::text || after::text, '') FROM audit_log"
        " WHERE entity = 'notification_settings'"
    )
    assert "13912345678" not in trail and "li.min" not in trail


@pytest.mark.parametrize(
    ("body", "field", "en", "zh"),
    [
        (wanted(email="nobody"), "email", "is not an email address", "不是有效的电子邮件地址"),
        (
            wanted(sms_enabled=True, phone="12345"),
            "phone",
            "is not a valid phone number",
            "不是有效的电话号码",
        ),
        (
            wanted(sms_enabled=True, phone="+86 21 6283 1234"),
            "phone",
            "is not a mobile number: SMS needs one",
            "不是手机号码：短信通知需要手机号码",
        ),
        (
            wanted(sms_enabled=True),
            "phone",
            "SMS needs a mobile number",
            "开启短信通知需要手机号码",
        ),
        (
            wanted(quiet_hours={"start": "25:00", "end": "07:00"}),
            "quiet_hours.start",
            "is out of range: hours 00 to 23, minutes 00 to 59",
            "超出范围：小时为 00 至 23，分钟为 00 至 59",
        ),
        (
            wanted(quiet_hours={"start": "22:00", "end": "22:00"}),
            "quiet_hours.end",
            "must differ from start",
            "不能与开始时间相同",
        ),
        (
            wanted(timezone="Asia/Atlantis"),
            "timezone",
            "is not a timezone (an IANA name such as Asia/Shanghai)",
            "不是有效的时区（IANA 名称，例如 Asia/Shanghai）",
        ),
    ],
)
async def test_a_bad_setting_is_a_problem_naming_the_field_in_both_languages(
    shared_client: httpx.AsyncClient,
    shared_make_token: MakeToken,
    shared_db: Any,
    body: dict[str, Any],
    field: str,
    en: str,
    zh: str,
) -> None:
    _, headers = await shared_make_token("family")
    rows = "SELECT (SELECT count(*) FROM notification_settings) + (SELECT count(*) FROM audit_log)"
    before = await shared_db.fetchval(rows)
    for lang, message in (("en", en), ("zh-CN", zh)):
        answer = await shared_client.put(
            SETTINGS, json=body, headers={**headers, "Accept-Language": lang}
        )
        assert answer.status_code == 422, answer.text
        assert answer.headers["content-language"] == lang
        assert {"field": field, "message": message} in answer.json()["errors"]
    assert await shared_db.fetchval(rows) == before


async def test_email_needs_an_address_and_admins_have_no_settings(
    shared_client: httpx.AsyncClient, shared_make_token: MakeToken, shared_db: Any
) -> None:
    hospital = await builders.hospital(shared_db)
    _, headers = await shared_make_token("hospital", hospital_id=hospital)
    answer = await shared_client.put(SETTINGS, json=wanted(sms_enabled=True), headers=headers)
    assert answer.status_code == 422
    # Every field that is wrong, at once: no address for email, no number for SMS.
    assert [error["field"] for error in answer.json()["errors"]] == ["email", "phone"]
    off = await shared_client.put(SETTINGS, json=wanted(email_enabled=False), headers=headers)
    assert off.status_code == 200, off.text
    _, admin = await shared_make_token("admin")
    assert (await shared_client.get(SETTINGS, headers=admin)).status_code == 403
    assert (await shared_client.get(INBOX, headers=admin)).status_code == 403


async def book(
    client: httpx.AsyncClient, headers: dict[str, str], elder: int, bed: int, key: str
) -> dict[str, Any]:
    hold = await builders.placed_hold(client, headers, elder=elder, bed=bed, first=10, nights=3)
    confirmed = await client.post(
        f"/v1/holds/{hold['hold_id']}/confirm",
        json={"token": hold["token"]},
        headers={**headers, "Idempotency-Key": key},
    )
    assert confirmed.status_code == 201, confirmed.text
    booking: dict[str, Any] = confirmed.json()
    return booking


async def test_a_booking_and_its_cancellation_reach_the_inbox_in_the_readers_language(
    client: httpx.AsyncClient, make_token: MakeToken, db: Any
) -> None:
    facility = await builders.facility(
        db, address="上海市长宁区新华路 365 号", phone="021-6283 1234"
    )
    name = await db.fetchval("SELECT name FROM facilities WHERE id = $1", facility)
    bed = await builders.bed(db, facility)
    family, headers = await make_token("family")
    elder = await builders.recipient(db, family_id=family.id)
    booking = await book(client, headers, elder, bed, "inbox-1")
    cancelled = await client.post(
        f"/v1/bookings/{booking['id']}/cancel", json={"reason": "plans changed"}, headers=headers
    )
    assert cancelled.status_code == 200, cancelled.text
    en = (await client.get(INBOX, headers=headers)).json()
    zh = (await client.get(INBOX, headers={**headers, "Accept-Language": "zh-CN"})).json()
    assert [item["title"] for item in en["items"]] == [
        f"Booking cancelled: {name}",
        f"Booking confirmed: {name}",
    ]
    assert [item["title"] for item in zh["items"]] == [f"预订已取消：{name}", f"预订已确认：{name}"]
    assert "地址：上海市长宁区新华路 365 号。" in zh["items"][1]["body"]
    assert {item["booking_id"] for item in en["items"]} == {booking["id"]}
    # Paged newest first.
    page = (await client.get(INBOX, params={"limit": 1}, headers=headers)).json()
    assert [item["kind"] for item in page["items"]] == ["booking.cancelled"]
    rest = await client.get(
        INBOX, params={"limit": 1, "cursor": page["next_cursor"]}, headers=headers
    )
    assert [item["kind"] for item in rest.json()["items"]] == ["booking.confirmed"]
    assert rest.json()["next_cursor"] is None
    # Read once: the first time is kept, and a retry answers the same.
    item_id = en["items"][0]["id"]
    read = await client.post(f"{INBOX}/{item_id}/read", headers=headers)
    assert read.status_code == 200, read.text
    assert read.json()["read_at"] is not None
    again = await client.post(f"{INBOX}/{item_id}/read", headers=headers)
    assert again.json() == read.json()
    _, stranger = await make_token("family")
    foreign = await client.post(f"{INBOX}/{item_id}/read", headers=stranger)
    assert foreign.status_code == 404
    assert (await client.get(INBOX, headers=stranger)).json()["items"] == []
    audited = await db.fetchval(
        "SELECT count(*) FROM audit_log WHERE entity = 'notification' AND action = 'read'"
    )
    assert audited == 1


async def test_staff_who_book_at_the_desk_are_not_told_of_their_own_work(
    client: httpx.AsyncClient, make_token: MakeToken, db: Any
) -> None:
    facility = await builders.facility(db)
    bed = await builders.bed(db, facility)
    _, staff = await make_token("staff", facility_id=facility)
    elder = await builders.recipient(db, facility_id=facility)
    check_in = builders.today() + timedelta(days=3)
    walk_in = await client.post(
        f"/v1/facilities/{facility}/walk-ins",
        json={
            "care_recipient_id": elder,
            "bed_id": bed,
            "check_in": check_in.isoformat(),
            "check_out": (check_in + timedelta(days=2)).isoformat(),
        },
        headers=staff,
    )
    assert walk_in.status_code == 201, walk_in.text
    assert await db.fetchval("SELECT count(*) FROM notifications") == 0
    assert (await client.get(INBOX, headers=staff)).json()["items"] == []


async def test_a_retried_change_with_its_idempotency_key_changes_once(
    client: httpx.AsyncClient, make_token: MakeToken, db: Any
) -> None:
    family, headers = await make_token("family")
    keyed = {**headers, "Idempotency-Key": "settings-1"}
    first = await client.put(SETTINGS, json=wanted(language="zh-CN"), headers=keyed)
    again = await client.put(SETTINGS, json=wanted(language="zh-CN"), headers=keyed)
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    audited = await db.fetchval(
        "SELECT count(*) FROM audit_log WHERE entity = 'notification_settings' AND entity_id = $1",
        str(family.id),
    )
    assert audited == 1
    other = await client.put(SETTINGS, json=wanted(language="en"), headers=keyed)
    assert other.status_code == 422
    assert other.json()["errors"][0]["field"] == "Idempotency-Key"
    assert (await client.get(SETTINGS, headers=headers)).json()["language"] == "zh-CN"
