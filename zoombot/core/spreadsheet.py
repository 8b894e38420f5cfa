"""Files people open in a spreadsheet: CSV and XLSX, with text that could run as a formula defused.

Anyone can pick their display name in Zoom, so a cell that starts like a formula (`=`, `+`, `-`, `@`, a
tab or a carriage return) gets a leading apostrophe, in CSV and XLSX alike.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation

FORMULA_START = "=+-@\t\r"


def safe_cell(value: str | None) -> str | None:
    """Text a person typed, made safe to open in a spreadsheet."""
    return "'" + value if value and value[0] in FORMULA_START else value


def to_csv(columns: Sequence[str], rows: Iterable[dict[str, str]], *, safe: Sequence[str] = ()) -> bytes:
    """UTF-8 CSV (CRLF lines, a header row); the `safe` columns pass through `safe_cell`."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([safe_cell(row.get(c)) if c in safe else row.get(c, "") for c in columns])
    return out.getvalue().encode("utf-8")


def to_xlsx(
    columns: Sequence[str],
    rows: Iterable[dict[str, str]],
    *,
    sheet: str = "Submission",
    safe: Sequence[str] = (),
    numeric: Sequence[str] = (),
) -> bytes:
    """One worksheet: a bold header row, then one row per dict, every cell as text (ids and codes keep
    their leading zeros), `safe` columns defused like CSV, except the `numeric` columns (hours): a decimal
    number there is a number shown with two decimals, so that the spreadsheet sums it."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    ws = book.active
    ws.title = sheet[:31]
    ws.append(list(columns))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append([(safe_cell(row.get(c)) if c in safe else row.get(c, "")) or "" for c in columns])
    numbers = {index for index, column in enumerate(columns) if column in numeric}
    for cells in ws.iter_rows(min_row=2):
        for index, cell in enumerate(cells):
            number = _decimal(cell.value) if index in numbers else None
            if number is None:
                cell.data_type = "s"
            else:
                cell.value, cell.number_format = number, "0.00"
    ws.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _decimal(text: object) -> Decimal | None:
    """A cell's text as a decimal number, or None when it is not one (empty, words, NaN, infinite)."""
    if not isinstance(text, str) or not text:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None
