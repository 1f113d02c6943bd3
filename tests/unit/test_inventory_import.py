"""The CSV parser of bed imports: every kind of bad file names its line, column and reason."""

import pytest

from respite.inventory.errors import RowError
from respite.inventory.importing import MAX_IMPORT_BYTES, MAX_IMPORT_ROWS, ImportRow, parse_beds

HEADER = "label,kind,sex_rule,nightly_price,capabilities,pressure_care_stage,active\n"


def parse_csv(data: bytes) -> tuple[list[ImportRow], list[RowError]]:
    return parse_beds(data, "csv")


def _errors(text: str | bytes) -> list[tuple[int, str | None]]:
    data = text.encode() if isinstance(text, str) else text
    _rows, errors = parse_csv(data)
    assert errors, "the file should have been refused"
    return [(e.line, e.column) for e in errors]


def test_a_good_file_parses_every_row_with_defaults() -> None:
    text = (
        HEADER
        + "3F-01,respite,female,28000,oxygen;low_bed,2,true\n"
        + "\n"
        + " HB-1 , home , any , 0 ,, ,\n"
        + '"3F,02",respite,male,15000," wheelchair ; oxygen ",4,no\n'
    )
    rows, errors = parse_csv(text.encode())
    assert errors == []
    assert [(r.line, r.bed.label) for r in rows] == [(2, "3F-01"), (4, "HB-1"), (5, "3F,02")]
    first, home, quoted = (r.bed for r in rows)
    # Each capability once, in the canonical order (eligibility.CAPABILITIES).
    assert first.capabilities == ["oxygen", "low_bed"] and first.pressure_care_stage == 2
    assert (home.kind, home.nightly_price, home.pressure_care_stage, home.active) == (
        "home",
        0,
        0,
        True,
    )
    assert home.capabilities == []
    assert quoted.capabilities == ["oxygen", "wheelchair"] and quoted.active is False


def test_columns_may_come_in_any_order_and_optional_ones_may_be_left_out() -> None:
    rows, errors = parse_csv(b"Nightly_Price,LABEL,sex_rule,kind\n100,A1,any,respite\n")
    assert errors == []
    assert rows[0].bed.label == "A1" and rows[0].bed.nightly_price == 100


def test_a_byte_order_mark_is_tolerated() -> None:
    rows, errors = parse_csv(b"\xef\xbb\xbf" + (HEADER + "A1,respite,any,1,,,\n").encode())
    assert errors == [] and rows[0].bed.label == "A1"


def test_windows_line_endings() -> None:
    rows, errors = parse_csv((HEADER + "A1,respite,any,1,,,\r\nA2,home,any,1,,,\r\n").encode())
    assert errors == [] and [r.line for r in rows] == [2, 3]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ((HEADER + "A1,respite,any,1,,,\nA2,respite,\xe9,1,,,\n").encode("latin-1"), [(3, None)]),
        (b"\xff\xfe" + HEADER.encode("utf-16-le"), [(1, None)]),
    ],
)
def test_a_file_that_is_not_utf8_is_refused_at_its_line(
    data: bytes, expected: list[tuple[int, None]]
) -> None:
    rows, errors = parse_csv(data)
    assert [(e.line, e.column) for e in errors] == expected
    assert "UTF-8" in str(errors[0].message) and rows == []


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("label,kind,sex_rule\n", [(1, "nightly_price")]),
        ("label,kind,sex_rule,nightly_price,colour\n", [(1, "colour")]),
        ("label,kind,sex_rule,nightly_price,label\n", [(1, "label")]),
        (
            "name,type,sex,price\n",
            [(1, "name"), (1, "type"), (1, "sex"), (1, "price")]
            + [(1, c) for c in ("label", "kind", "sex_rule", "nightly_price")],
        ),
        (
            "3F-01,respite,female,28000\n",
            [(1, "3f-01"), (1, "respite"), (1, "female"), (1, "28000")]
            + [(1, c) for c in ("label", "kind", "sex_rule", "nightly_price")],
        ),
    ],
)
def test_a_wrong_header_names_each_bad_column(header: str, expected: list[tuple[int, str]]) -> None:
    assert _errors(header + "A1,respite,any,1\n") == expected


@pytest.mark.parametrize("text", ["", "\n\n", "\ufeff"])
def test_an_empty_file_is_refused(text: str) -> None:
    rows, errors = parse_csv(text.encode())
    assert [(e.line, e.column) for e in errors] == [(1, None)]
    assert "empty" in str(errors[0].message) and rows == []


@pytest.mark.parametrize(
    ("row", "column", "words"),
    [
        (",respite,any,1,,,", "label", "empty"),
        ("A" * 41 + ",respite,any,1,,,", "label", "at most 40 characters"),
        ("A\x00B,respite,any,1,,,", "label", "control"),
        ("A1,hotel,any,1,,,", "kind", "respite or home"),
        ("A1,respite,unisex,1,,,", "sex_rule", "female, male, or any"),
        ("A1,respite,any,-1,,,", "nightly_price", "out of range"),
        ("A1,respite,any,12.50,,,", "nightly_price", "whole number"),
        ("A1,respite,any,,,,", "nightly_price", "whole number"),
        ("A1,respite,any," + "9" * 1000 + ",,,", "nightly_price", "out of range"),
        ("A1,respite,any,100000001,,,", "nightly_price", "out of range"),
        ("A1,respite,any,1,jacuzzi;oxygen,,", "capabilities", "'jacuzzi'"),
        ("A1,respite,any,1,,5,", "pressure_care_stage", "0 to 4"),
        ("A1,respite,any,1,,two,", "pressure_care_stage", "whole number"),
        ("A1,respite,any,1,,,maybe", "active", "true or false"),
    ],
)
def test_each_bad_cell_is_named(row: str, column: str, words: str) -> None:
    rows, errors = parse_csv((HEADER + "OK,respite,any,1,,,\n" + row + "\n").encode())
    assert [r.bed.label for r in rows] == ["OK"]
    assert [(e.line, e.column) for e in errors] == [(3, column)]
    assert words in str(errors[0].message)


def test_every_bad_row_is_listed_not_only_the_first() -> None:
    text = (
        HEADER
        + "A1,respite,any,1,,,\n"
        + "A2,castle,any,-5,,,\n"
        + "A3,respite,any,1,,,\n"
        + "A4,respite,any,1,,9,perhaps\n"
        + "A5,respite,any\n"
        + "A1,home,any,1,,,\n"
    )
    assert _errors(text) == [
        (3, "kind"),
        (3, "nightly_price"),
        (5, "pressure_care_stage"),
        (5, "active"),
        (6, None),
        (7, "label"),
    ]


def test_duplicate_labels_name_the_first_line() -> None:
    _rows, errors = parse_csv(
        (HEADER + "A1,respite,any,1,,,\nA2,respite,any,1,,,\n A1 ,home,any,2,,,\n").encode()
    )
    assert [(e.line, e.column) for e in errors] == [(4, "label")]
    assert "line 2" in str(errors[0].message)


def test_line_numbers_count_lines_inside_quoted_cells() -> None:
    text = HEADER + '"A\n1",respite,any,1,,,\nA2,respite,any,x,,,\n'
    assert _errors(text) == [(2, "label"), (4, "nightly_price")]


def test_broken_csv_quoting_is_reported_at_its_line() -> None:
    text = HEADER + 'A1,respite,any,1,,,\n"A2"x,respite,any,1,,,\n'
    _rows, errors = parse_csv(text.encode())
    assert [(e.line, e.column) for e in errors] == [(3, None)]
    assert "CSV" in str(errors[0].message)


def test_too_many_rows_are_refused() -> None:
    body = "".join(f"B{i},respite,any,1,,,\n" for i in range(MAX_IMPORT_ROWS + 1))
    rows, errors = parse_csv((HEADER + body).encode())
    assert rows == [] and [(e.line, e.column) for e in errors] == [(MAX_IMPORT_ROWS + 2, None)]


def test_exactly_the_row_limit_is_accepted() -> None:
    body = "".join(f"B{i},respite,any,1,,,\n" for i in range(MAX_IMPORT_ROWS))
    rows, errors = parse_csv((HEADER + body).encode())
    assert errors == [] and len(rows) == MAX_IMPORT_ROWS


def test_too_many_bytes_are_refused_before_parsing() -> None:
    rows, errors = parse_csv(b"x" * (MAX_IMPORT_BYTES + 1))
    assert rows == [] and "larger than" in str(errors[0].message)


def test_junk_is_refused_with_reasons() -> None:
    junk = bytes(range(256)) * 16
    rows, errors = parse_csv(junk)
    assert rows == [] and errors
