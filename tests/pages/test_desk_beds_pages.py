"""The desk's beds and blocks on the pages: a manager adds, changes and retires beds; the front
desk sees them without those buttons and is refused if it posts; both block and unblock;
refusals name the field and the reason in the page's language and change nothing; another
facility's bed or block is a 404, for a look and for a form."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from respite.clock import ManualClock
from tests import builders
from tests.dates import when
from tests.forms import csrf_token, post_form
from tests.pages.beds_desk import Desk, open_desk, sign_in

BED = {
    "label": "3F-12",
    "kind": "respite",
    "sex_rule": "female",
    "nightly_price": "280.50",
    "capabilities": ["oxygen", "low_bed"],
    "pressure_care_stage": "2",
    "active": "true",
}


@pytest.fixture
async def desk(db: Any) -> Desk:
    return await open_desk(db)


async def _count(db: Any, table: str) -> int:
    return int(await db.fetchval(f"SELECT count(*) FROM {table}"))


async def test_a_manager_adds_changes_and_retires_a_bed(
    client: httpx.AsyncClient, db: Any, desk: Desk
) -> None:
    sign_in(client, desk.manager)
    added = await post_form(client, "/desk/beds/new", "/desk/beds/new", BED)
    assert added.status_code == 303, added.text
    row = await db.fetchrow("SELECT * FROM beds WHERE facility_id = $1", desk.facility)
    assert (row["label"], row["nightly_price"], row["sex_rule"]) == ("3F-12", 28050, "female")
    assert row["capabilities"] == ["oxygen", "low_bed"] and row["pressure_care_stage"] == 2
    assert added.headers["location"] == f"/desk/beds/{row['id']}"

    listing = await client.get("/desk/beds")
    for said in ("3F-12", "Respite bed", "Oxygen and Low bed", "Women only", "¥280.50", "In use"):
        assert said in listing.text
    assert 'href="/desk/beds/new"' in listing.text and 'href="/desk/beds/import"' in listing.text

    edit = f"/desk/beds/{row['id']}/edit"
    changed = await post_form(
        client, edit, edit, {**BED, "label": "3F-13", "nightly_price": "300", "capabilities": []}
    )
    assert changed.status_code == 303
    row = await db.fetchrow("SELECT * FROM beds WHERE id = $1", row["id"])
    assert (row["label"], row["nightly_price"], row["capabilities"]) == ("3F-13", 30000, [])
    assert row["active"] is True

    paused = await post_form(client, edit, edit, {**BED, "active": ""})
    assert paused.status_code == 303
    assert await db.fetchval("SELECT active FROM beds WHERE id = $1", row["id"]) is False

    retire = f"/desk/beds/{row['id']}/retire"
    retired = await post_form(client, retire, retire, {})
    assert retired.status_code == 303
    assert await db.fetchval("SELECT retired_at FROM beds WHERE id = $1", row["id"]) is not None
    page = await client.get(f"/desk/beds/{row['id']}")
    assert "Retired" in page.text and "/edit" not in page.text
    assert "Take the bed out of service" not in page.text
    kept = await db.fetchrow("SELECT * FROM beds WHERE id = $1", row["id"])
    again = await client.post(
        edit, data={"_csrf_token": csrf_token(page.text), **BED, "label": "X"}
    )
    assert again.status_code == 303 and again.headers["location"] == f"/desk/beds/{row['id']}"
    assert await db.fetchrow("SELECT * FROM beds WHERE id = $1", row["id"]) == kept


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("en", ["Bed number: is required", "is not an amount in yuan", "Who may stay"]),
        ("zh-CN", ["床位号：", "不是以元为单位的金额", "入住限制"]),
    ],
)
async def test_a_wrong_bed_form_names_every_field_and_adds_nothing(
    client: httpx.AsyncClient, db: Any, desk: Desk, lang: str, words: list[str]
) -> None:
    sign_in(client, desk.manager, lang)
    before = await _count(db, "beds")
    refused = await post_form(
        client,
        "/desk/beds/new",
        "/desk/beds/new",
        {"kind": "respite", "nightly_price": "two hundred", "sex_rule": "nobody"},
    )
    assert refused.status_code == 422
    assert f'<html lang="{lang}">' in refused.text
    for said in words:
        assert said in refused.text
    for field in ("label", "sex_rule", "nightly_price"):
        assert f'href="#f-{field}"' in refused.text
    assert 'value="two hundred"' in refused.text
    assert await _count(db, "beds") == before


async def test_a_label_in_use_is_the_label_fields_problem(
    client: httpx.AsyncClient, db: Any, desk: Desk
) -> None:
    await builders.bed(db, desk.facility, label="3F-12")
    sign_in(client, desk.manager)
    refused = await post_form(client, "/desk/beds/new", "/desk/beds/new", BED)
    assert refused.status_code == 409
    assert 'href="#f-label"' in refused.text and "already used by another bed" in refused.text


async def test_the_front_desk_sees_beds_but_may_not_change_them(
    client: httpx.AsyncClient, db: Any, desk: Desk
) -> None:
    bed = await builders.bed(db, desk.facility, label="A1")
    sign_in(client, desk.front_desk)
    listing = await client.get("/desk/beds")
    assert listing.status_code == 200 and "A1" in listing.text
    assert "/desk/beds/new" not in listing.text and "/desk/beds/import" not in listing.text
    page = await client.get(f"/desk/beds/{bed}")
    assert page.status_code == 200 and f"/desk/beds/{bed}/edit" not in page.text
    assert f"/desk/beds/{bed}/retire" not in page.text
    for path in ("/desk/beds/new", f"/desk/beds/{bed}/edit", f"/desk/beds/{bed}/retire"):
        assert (await client.get(path)).status_code == 403
    token = csrf_token(page.text)
    before = await db.fetchrow("SELECT * FROM beds WHERE id = $1", bed)
    for path, fields in [
        ("/desk/beds/new", BED),
        (f"/desk/beds/{bed}/edit", BED),
        (f"/desk/beds/{bed}/retire", {}),
    ]:
        refused = await client.post(path, data={"_csrf_token": token, **fields})
        assert refused.status_code == 403
        assert "managers" in refused.text
    assert await db.fetchrow("SELECT * FROM beds WHERE id = $1", bed) == before
    assert await _count(db, "beds") == 1


async def test_a_booked_bed_is_not_retired_and_the_page_says_why(
    client: httpx.AsyncClient, db: Any, desk: Desk, clock: ManualClock
) -> None:
    bed = await builders.bed(db, desk.facility, label="A1")
    d = when(clock)
    await builders.booking(db, bed, *d.days(0, 3))
    sign_in(client, desk.manager, "zh-CN")
    path = f"/desk/beds/{bed}/retire"
    refused = await post_form(client, path, path, {})
    assert refused.status_code == 409 and "请先取消或调整该床位的预订" in refused.text
    assert await db.fetchval("SELECT retired_at FROM beds WHERE id = $1", bed) is None


async def test_blocking_changing_and_lifting_a_block(
    client: httpx.AsyncClient, db: Any, desk: Desk, clock: ManualClock
) -> None:
    bed = await builders.bed(db, desk.facility, label="A1")
    d = when(clock)
    first, end = d.days(0, 3)
    sign_in(client, desk.front_desk)
    path = f"/desk/beds/{bed}"
    blocked = await post_form(
        client,
        path,
        f"{path}/blocks",
        {
            "check_in": first.isoformat(),
            "check_out": end.isoformat(),
            "reason": "cleaning",
            "note": "after flu",
        },
    )
    assert blocked.status_code == 303, blocked.text
    block = int(blocked.headers["location"].rsplit("/", 1)[-1])
    nights = "SELECT count(*) FROM bed_nights WHERE block_id = $1"
    assert await db.fetchval(nights, block) == 3
    shown = await client.get(path)
    assert "Deep cleaning: after flu" in shown.text and f"/desk/blocks/{block}" in shown.text

    page = f"/desk/blocks/{block}"
    longer = await post_form(
        client,
        page,
        page,
        {
            "check_in": first.isoformat(),
            "check_out": (end + timedelta(days=2)).isoformat(),
            "reason": "maintenance",
            "note": "",
        },
    )
    assert longer.status_code == 303
    assert await db.fetchval(nights, block) == 5

    confirm = await client.get(f"{page}/lift")
    assert "free for bookings again" in confirm.text
    lifted = await client.post(f"{page}/lift", data={"_csrf_token": csrf_token(confirm.text)})
    assert lifted.status_code == 303 and lifted.headers["location"] == path
    assert await db.fetchval(nights, block) == 0
    assert await db.fetchval("SELECT lifted_at FROM blocks WHERE id = $1", block) is not None
    after = await client.get(f"{page}")
    assert "Lifted" in after.text and "Change the block" not in after.text


@pytest.mark.parametrize(
    ("lang", "booked", "order", "long"),
    [
        ("en", "is booked on the night of", "must be after check_in", "at most 366 nights"),
        ("zh-CN", "当晚已有预订", "须晚于开始日期", "最多 366 晚"),
    ],
)
async def test_block_refusals_say_why_and_change_nothing(
    client: httpx.AsyncClient,
    db: Any,
    desk: Desk,
    clock: ManualClock,
    lang: str,
    booked: str,
    order: str,
    long: str,
) -> None:
    bed = await builders.bed(db, desk.facility, label="A1")
    d = when(clock)
    await builders.booking(db, bed, *d.days(1, 2))
    sign_in(client, desk.manager, lang)
    path = f"/desk/beds/{bed}"
    before = await _count(db, "blocks")

    async def block(first: int, last: int, **extra: str) -> httpx.Response:
        a, b = d.days(first, last)
        fields = {"check_in": a.isoformat(), "check_out": b.isoformat(), "reason": "maintenance"}
        return await post_form(client, path, f"{path}/blocks", {**fields, **extra})

    over_booking = await block(0, 3)
    assert over_booking.status_code == 409 and booked in over_booking.text
    backwards = await block(3, 1)
    assert backwards.status_code == 422 and order in backwards.text
    assert 'href="#f-check_out"' in backwards.text
    too_long = await block(5, 400)
    assert too_long.status_code == 422 and long in too_long.text
    no_note = await block(5, 6, reason="other")
    assert no_note.status_code == 422 and 'href="#f-note"' in no_note.text
    assert await _count(db, "blocks") == before


async def test_another_facilitys_bed_and_block_are_not_found(
    client: httpx.AsyncClient, db: Any, desk: Desk, clock: ManualClock
) -> None:
    elsewhere = await builders.facility(db)
    bed = await builders.bed(db, elsewhere, label="X1")
    block = await builders.block(db, bed, *when(clock).days(0, 2))
    sign_in(client, desk.manager)
    own = await client.get("/desk/beds")
    assert "X1" not in own.text
    for path in (
        f"/desk/beds/{bed}",
        f"/desk/beds/{bed}/edit",
        f"/desk/beds/{bed}/retire",
        f"/desk/blocks/{block}",
        f"/desk/blocks/{block}/lift",
    ):
        assert (await client.get(path)).status_code == 404, path
    token = csrf_token(own.text)
    posts: list[tuple[str, dict[str, Any]]] = [
        (f"/desk/beds/{bed}/edit", BED),
        (f"/desk/beds/{bed}/retire", {}),
        (f"/desk/beds/{bed}/blocks", {"check_in": "2030-01-01", "check_out": "2030-01-02"}),
        (f"/desk/blocks/{block}", {"reason": "other"}),
        (f"/desk/blocks/{block}/lift", {}),
    ]
    for path, fields in posts:
        answer = await client.post(path, data={"_csrf_token": token, **fields})
        assert answer.status_code == 404, path
    assert await db.fetchval("SELECT lifted_at FROM blocks WHERE id = $1", block) is None
    assert await db.fetchval("SELECT label FROM beds WHERE id = $1", bed) == "X1"


async def test_every_page_in_chinese_has_its_words(
    client: httpx.AsyncClient, db: Any, desk: Desk, clock: ManualClock
) -> None:
    bed = await builders.bed(db, desk.facility, label="A1", capabilities=("oxygen",))
    block = await builders.block(db, bed, *when(clock).days(0, 2))
    sign_in(client, desk.manager, "zh-CN")
    for path, said in [
        ("/desk/beds", "床位管理"),
        ("/desk/beds/new", "新增床位"),
        (f"/desk/beds/{bed}", "设置停用时段"),
        (f"/desk/beds/{bed}/edit", "修改床位 A1"),
        (f"/desk/beds/{bed}/retire", "撤销床位 A1"),
        (f"/desk/blocks/{block}", "床位 A1 停用时段"),
        (f"/desk/blocks/{block}/lift", "确定解除床位 A1 的停用吗？"),
    ]:
        answer = await client.get(path)
        assert answer.status_code == 200 and said in answer.text, path
        assert '<html lang="zh-CN">' in answer.text
