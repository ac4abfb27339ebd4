"""Formula cells that carry no calculated value are counted and read as NULL, never as 0.

xlsxwriter never calculates: it writes a placeholder 0 and asks Excel to recalculate on load,
which is exactly the kind of file in which a departure date became NULL and the charge code
`0399` became `0000`. The workbooks here are written that way.
"""

from __future__ import annotations

from pathlib import Path

import xlsxwriter

from pipelines.ice.reader import formula_cells_without_value, read_ice_release
from tests.ice.workbooks import COVER, HEADER_2026_MAR, Sheet, record, write_workbook


def _with_formulas(path: Path, value: object = None, extra_sheet: bool = False) -> Path:
    """A 2026-03 layout sheet: row 1 plain values, rows 2-4 formulas for date and code."""
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Removals")
    for i, line in enumerate(COVER):
        ws.write_string(i, 0, line)
    header_row = 6  # Excel row 7
    for j, h in enumerate(HEADER_2026_MAR):
        ws.write_string(header_row, j, h)
    col = HEADER_2026_MAR.index
    first = header_row + 1
    ws.write_string(first, col("Departed Date"), "2023-01-05 00:00:00")
    ws.write_string(first, col("MSC Charge Code"), "0399")
    ws.write_string(first, col("Anonymized Identifier"), "P0")
    for k in range(1, 4):
        r = first + k
        if value is None:
            ws.write_formula(r, col("MSC Charge Code"), '="0"&"399"')
        else:
            ws.write_formula(r, col("MSC Charge Code"), '="0"&"399"', None, value)
        ws.write_string(r, col("Departed Date"), "2023-01-06 00:00:00")
        ws.write_string(r, col("Anonymized Identifier"), f"P{k}")
    ws.write_formula(first + 3, col("Departed Date"), "=DATE(2023,1,7)")
    if extra_sheet:
        ws2 = wb.add_worksheet("Removals (2)")
        for j, h in enumerate(HEADER_2026_MAR):
            ws2.write_string(header_row, j, h)
        ws2.write_string(first, col("Departed Date"), "2023-02-01 00:00:00")
        ws2.write_string(first, col("MSC Charge Code"), "5404")
        ws2.write_string(first, col("Anonymized Identifier"), "Q0")
    wb.close()
    return path


def test_formula_cells_without_cached_values_are_found(tmp_path):
    path = _with_formulas(tmp_path / "removals.xlsx")
    found = formula_cells_without_value(path)
    code = HEADER_2026_MAR.index("MSC Charge Code")
    date_col = HEADER_2026_MAR.index("Departed Date")
    assert set(found) == {"Removals"}
    assert set(found["Removals"]) == {(8, code), (9, code), (10, code), (10, date_col)}


def test_they_are_read_as_null_and_reported_per_file_sheet_and_column(tmp_path):
    path = _with_formulas(tmp_path / "removals.xlsx", extra_sheet=True)
    frame, report = read_ice_release([path])
    assert report["formula_cells_without_value"] == {
        "removals.xlsx::Removals::MSC Charge Code": 3,
        "removals.xlsx::Removals::Departed Date": 1,
    }
    by_person = {r["anonymized_identifier"]: r for r in frame.iter_rows(named=True)}
    # the plain cells keep their text; the formula cells are NULL, not the placeholder 0
    assert by_person["P0"]["msc_charge_code"] == "0399"
    assert by_person["Q0"]["msc_charge_code"] == "5404"
    for p in ("P1", "P2", "P3"):
        assert by_person[p]["msc_charge_code"] is None
    assert by_person["P3"]["departed_date"] is None
    assert by_person["P2"]["departed_date"] == "2023-01-06 00:00:00"
    assert "0" not in {r["msc_charge_code"] for r in frame.iter_rows(named=True)}


def test_a_workbook_without_formulas_reports_none(tmp_path):
    header = HEADER_2026_MAR
    path = write_workbook(
        tmp_path / "plain.xlsx",
        [
            Sheet(
                "Removals", header, [record(header, departed="2023-01-05", person="A", code="0399")]
            )
        ],
    )
    assert formula_cells_without_value(path) == {}
    _, report = read_ice_release([path])
    assert report["formula_cells_without_value"] == {}


def test_a_formula_whose_value_was_calculated_is_kept(tmp_path):
    """A file a spreadsheet program saved holds the values: no recalculation flag, a <v>."""
    path = _with_formulas(tmp_path / "calc.xlsx", value="0399")
    # xlsxwriter still sets fullCalcOnLoad; rewrite workbook.xml as Excel would save it.
    import zipfile

    out = tmp_path / "saved.xlsx"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/workbook.xml":
                data = data.replace(b' fullCalcOnLoad="1"', b"")
            dst.writestr(item, data)
    # every formula now holds a stored value (the DATE one xlsxwriter's 0): nothing is flagged
    assert formula_cells_without_value(out) == {}
    frame, report = read_ice_release([out])
    codes = {r["anonymized_identifier"]: r["msc_charge_code"] for r in frame.iter_rows(named=True)}
    assert codes["P1"] == "0399"
    assert report["formula_cells_without_value"] == {}
