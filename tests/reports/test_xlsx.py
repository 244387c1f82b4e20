"""The streaming XLSX writer, read back with openpyxl."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from decimal import Decimal

import openpyxl

from lotline.reports import xlsx


def _read(data: bytes):
    return openpyxl.load_workbook(io.BytesIO(data)).active


def test_cells_keep_their_types_and_text_is_escaped():
    rows = [
        [
            'a<b & "c"\x01',
            3,
            Decimal("2.500000"),
            1.25,
            date(2026, 3, 1),
            datetime(2026, 3, 1, 12, 0, tzinfo=UTC),
            True,
            None,
        ],
    ]
    ws = _read(xlsx.write([f"h{n}" for n in range(8)], rows, title="Recall: RC/1 [x]"))
    assert ws.title == "Recall_ RC_1 _x_"
    values = [c.value for c in ws[2]]
    assert values[:4] == ['a<b & "c"', 3, 2.5, 1.25]
    assert values[4] == datetime(2026, 3, 1) and values[5] == datetime(2026, 3, 1, 12, 0)
    assert values[6] is True and values[7] is None


def test_wide_sheets_get_two_letter_columns():
    assert [xlsx.column_letter(n) for n in (1, 26, 27, 52, 703)] == ["A", "Z", "AA", "AZ", "AAA"]
    ws = _read(xlsx.write([str(n) for n in range(30)], [list(range(30))]))
    assert ws["AD2"].value == 29 and ws.auto_filter.ref == "A1:AD2"


def test_repeated_values_render_alike_and_odd_values_still_render():
    rows = [[1, True, "x"], [True, 1, "x"], [[1, 2], Decimal("1"), "x"]]
    ws = _read(xlsx.write(["a", "b", "c"], rows))
    assert [[c.value for c in r] for r in ws.iter_rows(min_row=2)] == [
        [1, True, "x"],
        [True, 1, "x"],
        ["[1, 2]", 1, "x"],
    ]


def test_the_sheet_is_streamed_to_the_output_while_rows_are_still_coming():
    out = io.BytesIO()
    written_before_the_end: list[int] = []

    def rows():
        for n in range(20_000):
            if n == 19_999:
                written_before_the_end.append(out.tell())
            yield [n, f"lot {n}", Decimal(n) / 4]

    xlsx.write_to(out, ["n", "lot", "qty"], rows())
    # Most of the sheet was compressed into the output before the last row was even produced.
    assert written_before_the_end[0] > len(out.getvalue()) // 2
    ws = _read(out.getvalue())
    assert ws.max_row == 20_001 and ws["B20001"].value == "lot 19999" and ws["C3"].value == 0.25


def test_values_stay_right_when_the_cell_cache_starts_over(monkeypatch):
    monkeypatch.setattr(xlsx, "_CACHE_LIMIT", 3)
    rows = [[n % 5, f"v{n % 7}", True if n % 2 else 1] for n in range(40)]
    ws = _read(xlsx.write(["a", "b", "c"], rows))
    assert [[c.value for c in r] for r in ws.iter_rows(min_row=2)] == rows
    assert [type(c.value) for c in next(ws.iter_rows(min_row=2, max_row=3))] == [int, str, int]
