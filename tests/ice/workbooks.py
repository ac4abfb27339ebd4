"""Write ICE STU-style xlsx workbooks for the tests (xlsxwriter), in the published layouts.

The header lists are the verbatim column names of each release as documented in
docs/ICE_FORMAT.md#columns-by-release (written out here, not taken from the alias table, so that the
tests check the table against the documented layouts).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import xlsxwriter

# 2023-ICFO-42034 (FY2012-2023), header on row 6, 'Identifer' misspelled
# (docs/ICE_FORMAT.md#2023-icfo-42034).
HEADER_42034 = [
    "Departure Date", "Port of Departure", "Departure Country", "Case Status", "Case Category",
    "Final Order Yes No", "Final Order Date", "Case ID", "Gender", "Birth Country",
    "Citizenship Country", "Birth Date", "Birth Year", "Alien File Number", "Entry Status",
    "Entry Date", "MSC Charge", "MSC Charge Date", "MSC Charge Code", "MSC Conviction Date",
    "MSC Criminal Charge Status", "Case Threat Level", "Processing Disposition Code",
    "Processing Disposition", "Current Program", "Apprehension Date", "Charge Section Code",
    "Charge Code", "Anonymized Identifer",
]  # fmt: skip
# 2024-ICFO-39357, the Aug 2025 release, header on row 7 (docs/ICE_FORMAT.md#2024-icfo-39357).
HEADER_2025_AUG = [
    "Departed Date", "Port of Departure", "Departure Country", "Docket AOR", "Apprehension State",
    "Apprehension County", "Case Status", "Gender", "Birth Country", "Citizenship Country",
    "Birth Date", "Birth Year", "Entry Date", "Entry Status", "MSC NCIC Charge",
    "MSC NCIC Charge Code", "MSC Charge Date", "MSC Criminal Charge Status",
    "MSC Criminal Charge Status Code", "MSC Conviction Date", "Case Threat Level",
    "Case Criminality", "Felon", "Processing Disposition", "Case Category", "Final Program",
    "Final Program Code", "Case Category Time of Arrest", "Latest Arrest Program Current",
    "Latest Arrest Program Current Code", "Latest Person Apprehension Date", "Final Order Yes No",
    "Final Order Date", "Final Charge Code", "Final Charge Section Code", "Prior Deport Yes No",
    "Latest Person Departed Date", "Alien File Number", "EID Case ID", "EID Subject ID",
    "Unique Identifier",
]  # fmt: skip
# 2026-ICLI-00005, the March 2026 release, header on row 7 (docs/ICE_FORMAT.md#2026-icli-00005).
HEADER_2026_MAR = [
    "Departed Date", "Port of Departure", "Departure Country", "Case AOR", "State", "County",
    "Case Status", "Gender", "Birth Country", "Citizenship Country", "Birth Date", "Birth Year",
    "Entry Date", "Entry Status", "Known Terrorist Yes No", "Suspected Gang Yes No", "MSC Charge",
    "MSC Charge Date", "MSC Criminal Charge Status", "MSC Charge Code", "MSC Conviction Date",
    "Case Criminality", "Case Threat Level", "Aggravated Felon Yes No", "Processing Disposition",
    "Case Category", "Final Program", "Final Program Code", "Arresting Agency",
    "TOA Case Category", "Latest Apprehension Final Program", "Latest Arresting Agency",
    "Latest Apprehension Date", "Final Order Yes No", "Final Order Date", "Final Charge Code",
    "Final Charge Section", "Prior Deport Yes No", "Anonymized Identifier",
]  # fmt: skip
# 14-03290, NYT FY2003-2013, data on sheet "Details"; the first header cell is the STU banner
# and the raw headers are DDP's names with spaces (docs/ICE_FORMAT.md#14-03290).
HEADER_NYT = [
    "ERO LESA Statistical Tracking Unit", "Departed Date", "Port Of Departure",
    "Departed To Country", "Case Status", "Gender", "Country of Birth", "Country of Citizenship",
    "Age at Removal", "Year of Birth", "LPR Yes No", "Entry Date", "Entry Status",
    "Most Serious Criminal Conviction", "Most Serious Criminal Conviction Charge Date",
    "Most Serious Criminal Conviction Status", "Most Serious Criminal Conviction Code",
    "Most Serious Criminal Conviction Date", "Rc Threat Level", "Aggravated Felon",
    "Processing Disposition Code", "Case Category", "Removal Program", "Removal Program Code",
    "Case Category Time of Arrest", "Latest Arrest Program Code", "Latest Arrest Program",
    "Latest Arrest Apprehension Date", "Final Order Yes No", "Final Order Date",
    "Prior Removal Reinstate", "Prior Removal Reinstate Date", "Final Charge Section",
    "Final Charge Code", "Prior Removal", "Most Recent Prior Depart Date", "Alien File Number",
    "ADMDPT", "ADMINISTRATIVE DEPORTATION (I-851/I-851A)", "Unique ID",
]  # fmt: skip

COVER = [
    "U.S. Immigration and Customs Enforcement",
    "ERO LESA Statistical Tracking Unit",
    "Removals (test fixture)",
]


@dataclass
class Sheet:
    name: str
    header: list[str] | None
    rows: list[dict] = field(default_factory=list)
    header_row: int = 7  # Excel row number
    cover: list[str] = field(default_factory=lambda: list(COVER))
    prose: list[str] = field(default_factory=list)  # for Notes / Legend sheets


def write_workbook(path: Path, sheets: list[Sheet]) -> Path:
    """Write `sheets`; a row is a dict header -> value (str, number, bool, date, datetime)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(path))
    date_fmt = wb.add_format({"num_format": "m/d/yyyy"})
    for sh in sheets:
        ws = wb.add_worksheet(sh.name)
        for i, line in enumerate(sh.prose):
            ws.write_string(i, 0, line)
        if sh.header is None:
            continue
        for i, line in enumerate(sh.cover[: sh.header_row - 1]):
            ws.write_string(i, 0, line)
        for j, h in enumerate(sh.header):
            ws.write_string(sh.header_row - 1, j, h)
        for i, row in enumerate(sh.rows, start=sh.header_row):
            for h, v in row.items():
                j = sh.header.index(h)
                if v is None:
                    continue
                if isinstance(v, bool):
                    ws.write_boolean(i, j, v)
                elif isinstance(v, datetime):
                    ws.write_datetime(i, j, v, date_fmt)
                elif isinstance(v, date):
                    ws.write_datetime(i, j, datetime.combine(v, datetime.min.time()), date_fmt)
                elif isinstance(v, int | float):
                    ws.write_number(i, j, v)
                else:
                    ws.write_string(i, j, v)
    wb.close()
    return path


def record(header: list[str], **values) -> dict:
    """A row for `header` given values by canonical-ish keyword: departed, person, code, ..."""
    names = {
        "departed": ("Departed Date", "Departure Date"),
        "person": (
            "Anonymized Identifier",
            "Anonymized Identifer",
            "Unique Identifier",
            "Unique ID",
        ),
        "code": (
            "MSC Charge Code",
            "MSC NCIC Charge Code",
            "Most Serious Criminal Conviction Code",
        ),
        "charge": ("MSC Charge", "MSC NCIC Charge", "Most Serious Criminal Conviction"),
        "status": ("MSC Criminal Charge Status", "Most Serious Criminal Conviction Status"),
        "level": ("Case Threat Level", "Rc Threat Level"),
        "criminality": ("Case Criminality",),
        "birth_date": ("Birth Date",),
        "country": ("Departure Country", "Departed To Country"),
        "final_order": ("Final Order Yes No",),
        "entry": ("Entry Date",),
    }
    row: dict = {}
    for key, value in values.items():
        hits = [h for h in names[key] if h in header]
        assert hits, f"{key} has no column in this layout"
        row[hits[0]] = value
    return row
