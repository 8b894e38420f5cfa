"""Spreadsheet files: XLSX cells are text (ids keep their leading zeros, typed text is defused), except the
numeric columns, whose decimal numbers are numbers a spreadsheet sums, shown with two decimals."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from zoombot.core.spreadsheet import to_xlsx

COLUMNS = ["registry_id", "participant_name", "hours"]


def sheet_of(data: bytes):
    return load_workbook(io.BytesIO(data)).active


def test_hours_are_numbers_and_everything_else_text():
    data = to_xlsx(
        COLUMNS,
        [
            {"registry_id": "00123", "participant_name": "=SUM(A1)", "hours": "1.75"},
            {"registry_id": "00456", "participant_name": "Bob", "hours": "2.00"},
            {"registry_id": "00789", "participant_name": "Cy", "hours": ""},
        ],
        safe=["participant_name"],
        numeric=["hours"],
    )
    sheet = sheet_of(data)
    rows = [[(c.value, c.data_type, c.number_format) for c in row] for row in sheet.iter_rows(min_row=2)]
    assert [[value for value, _, _ in row] for row in rows] == [
        ["00123", "'=SUM(A1)", 1.75],
        ["00456", "Bob", 2],
        ["00789", "Cy", None],
    ]
    assert [row[2][1:] for row in rows[:2]] == [("n", "0.00"), ("n", "0.00")]
    assert {row[0][1] for row in rows} == {"s"}  # ids stay text, leading zeros and all


def test_a_column_not_named_numeric_stays_text_and_words_in_a_numeric_one_too():
    row = {"registry_id": "1", "participant_name": "A", "hours": "n/a"}
    sheet = sheet_of(to_xlsx(COLUMNS, [row], numeric=["hours"]))
    assert [(c.value, c.data_type) for c in sheet[2]] == [("1", "s"), ("A", "s"), ("n/a", "s")]
    for bad in ("NaN", "Infinity"):
        sheet = sheet_of(to_xlsx(["hours"], [{"hours": bad}], numeric=["hours"]))
        assert (sheet["A2"].value, sheet["A2"].data_type) == (bad, "s")
