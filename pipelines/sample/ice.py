"""A deterministic SYNTHETIC ICE removals release in the real ERO-LESA STU workbook layout.

The layout imitated is the March 2026 Deportation Data Project release 2026-ICLI-00005
(docs/ICE_FORMAT.md#2026-icli-00005): a cover block above the header, the header on Excel row 7,
the 39 columns in their published order, records split over several sheets with the same
columns (every sheet repeats the cover block and header), one file per group of fiscal years,
the data date in the file name. Quirks planted on purpose, so the reader and cleaner have
something to find:

- redaction tokens in the always-redacted `Birth Date` column, in all their spellings
  (docs/ICE_FORMAT.md#workbook-layout), and now and then in `County`;
- NCIC codes as text with leading zeros (`0301`) and ICE's alphanumeric codes (`70AA`);
- a few impossible dates (1900-01-01, dates after the release date);
- a few final order dates stored as bare Excel serial numbers instead of formatted dates;
- a few likely duplicates (same Anonymized Identifier and Departed Date);
- some convicted rows without ICE's `Case Threat Level`, so the derived level is exercised.

Fiscal years 2010-2016 overlap the EOIR sample (2008-2016). The volume per fiscal year is
proportional to ICE's published totals and the convicted share follows them loosely; both
are built-in truths, not facts about anyone. Everything says SYNTHETIC: the file names and
the first line of every sheet's cover block.
"""

from __future__ import annotations

import hashlib
import random
from datetime import date, datetime, timedelta
from pathlib import Path

import xlsxwriter

SAMPLE_LAYOUT = "2026-ICLI-00005"
SAMPLE_RELEASE_DATE = date(2026, 3, 11)
DEFAULT_SEED = 20260311
HEADER_ROW = 7  # Excel row of the header in the 2025/2026 STU files (docs/ICE_FORMAT.md#workbook-layout: skip = 6)

# The 2026-ICLI-00005 removals columns in published order (docs/ICE_FORMAT.md#2026-icli-00005).
COLUMNS_2026 = (
    "Departed Date",
    "Port of Departure",
    "Departure Country",
    "Case AOR",
    "State",
    "County",
    "Case Status",
    "Gender",
    "Birth Country",
    "Citizenship Country",
    "Birth Date",
    "Birth Year",
    "Entry Date",
    "Entry Status",
    "Known Terrorist Yes No",
    "Suspected Gang Yes No",
    "MSC Charge",
    "MSC Charge Date",
    "MSC Criminal Charge Status",
    "MSC Charge Code",
    "MSC Conviction Date",
    "Case Criminality",
    "Case Threat Level",
    "Aggravated Felon Yes No",
    "Processing Disposition",
    "Case Category",
    "Final Program",
    "Final Program Code",
    "Arresting Agency",
    "TOA Case Category",
    "Latest Apprehension Final Program",
    "Latest Arresting Agency",
    "Latest Apprehension Date",
    "Final Order Yes No",
    "Final Order Date",
    "Final Charge Code",
    "Final Charge Section",
    "Prior Deport Yes No",
    "Anonymized Identifier",
)
DATE_COLUMNS = {
    "Departed Date",
    "Entry Date",
    "MSC Charge Date",
    "MSC Conviction Date",
    "Latest Apprehension Date",
    "Final Order Date",
}

# Fiscal-year groups per file, as ICE splits releases by fiscal year.
FILE_GROUPS = ((2010, 2011, 2012, 2013), (2014, 2015, 2016))
# Relative volume (ICE's published totals, data/reference/ice_removals_published_aggregates.csv;
# FY2010 from the press figure) and the built-in convicted share per fiscal year.
FY_WEIGHT = {2010: 392, 2011: 397, 2012: 410, 2013: 369, 2014: 316, 2015: 235, 2016: 240}
FY_CONVICTED_SHARE = {
    2010: 0.50,
    2011: 0.55,
    2012: 0.55,
    2013: 0.59,
    2014: 0.56,
    2015: 0.59,
    2016: 0.58,
}
PENDING_SHARE = 0.04
# Convicted rows whose Case Threat Level is left blank, to exercise the derived level.
MISSING_LEVEL_SHARE = 0.05

# (code, MSC label, weight, P(level 1), P(level 2)); labels in ICE's style
# (docs/ICE_FORMAT.md#other-tables).
CHARGES = (
    ("5404", "Driving Under Influence Liquor", 18, 0.05, 0.15),
    ("0301", "Illegal Entry (INA SEC.101(a)(43)(O), 8USC1325 only)", 14, 0.02, 0.18),
    ("0399", "Illegal Re-Entry (INA SEC.101(a)(43)(O), 8USC1326 only)", 10, 0.20, 0.60),
    ("1313", "Assault", 8, 0.45, 0.25),
    ("5499", "Traffic Offense", 7, 0.02, 0.10),
    ("3599", "Dangerous Drugs", 7, 0.35, 0.30),
    ("3562", "Marijuana - Possess", 4, 0.10, 0.30),
    ("3532", "Cocaine - Sell", 4, 0.70, 0.20),
    ("2399", "Larceny", 5, 0.15, 0.45),
    ("2299", "Burglary", 4, 0.60, 0.25),
    ("3899", "Family Offense", 3, 0.30, 0.30),
    ("5299", "Weapon Offense", 2, 0.35, 0.45),
    ("4899", "Obstructing Police", 2, 0.05, 0.25),
    ("5015", "Failure to Appear", 1, 0.05, 0.20),
    ("2699", "Fraud", 1, 0.25, 0.45),
    ("70AA", "Identity Theft", 1, 0.15, 0.55),
    ("1299", "Robbery", 1, 0.85, 0.12),
    ("1199", "Sexual Assault", 1, 0.90, 0.08),
    ("0999", "Homicide", 1, 0.97, 0.03),
    ("0302", "False Citizenship", 1, 0.10, 0.40),
    ("7399", "Public Order Crimes", 1, 0.05, 0.30),
)
REDACTION_SPELLINGS = (
    "(b)(6)(b)(7)(c)",
    "(b)(6),(b)(7)(c)",
    "b(6), b(7)c",
    "b(6), b(7)C",
    "b(6), b(7)©",
)
COUNTRIES = (
    ("MEXICO", 62),
    ("GUATEMALA", 13),
    ("HONDURAS", 10),
    ("EL SALVADOR", 6),
    ("DOMINICAN REPUBLIC", 2),
    ("ECUADOR", 1),
    ("COLOMBIA", 1),
    ("CHINA, PEOPLES REPUBLIC OF", 1),
    ("JAMAICA", 1),
    ("BRAZIL", 1),
)
AORS = (
    ("Houston Area of Responsibility", "TEXAS", "HARRIS COUNTY"),
    ("San Antonio Area of Responsibility", "TEXAS", "BEXAR COUNTY"),
    ("Los Angeles Area of Responsibility", "CALIFORNIA", "LOS ANGELES COUNTY"),
    ("Phoenix Area of Responsibility", "ARIZONA", "MARICOPA COUNTY"),
    ("Atlanta Area of Responsibility", "GEORGIA", "GWINNETT COUNTY"),
    ("Chicago Area of Responsibility", "ILLINOIS", "COOK COUNTY"),
    ("New York City Area of Responsibility", "NEW YORK", "QUEENS COUNTY"),
    ("Miami Area of Responsibility", "FLORIDA", "MIAMI-DADE COUNTY"),
)
PORTS = (
    "Brownsville, TX",
    "Hidalgo, TX",
    "Laredo, TX",
    "Calexico, CA",
    "Nogales, AZ",
    "Houston, TX",
)
PROGRAMS = (
    ("Criminal Alien Program", "CAP", "ICE"),
    ("287(g) Program", "287G", "ICE"),
    ("Fugitive Operations", "FUG", "ICE"),
    ("Border Patrol", "BP", "CBP"),
    ("Non-Detained Docket Control", "NDD", "ICE"),
)
CASE_CATEGORIES = (
    "[16] Reinstated Final Order",
    "[8F] Expedited Removal",
    "[3] Deportable - Administratively Final Order",
    "[11] Administrative Deportation / Removal",
    "[8C] Excludable / Inadmissible - Administrative Final Order Issued",
)
CASE_STATUSES = ("8-Excluded/Removed - Inadmissibility", "6-Deported/Removed - Deportability")
ENTRY_STATUSES = ("EWI - Entered Without Inspection", "B2 - Visitor for Pleasure", "UNKNOWN")
DISPOSITIONS = (
    "Reinstatement of Deport Order I-871",
    "Expedited Removal",
    "Notice to Appear - Detained",
    "Administrative Deportation",
)
FINAL_CHARGES = (("212a6Ai", "212"), ("212a7AiI", "212"), ("237a2Aiii", "237"), ("241a5", "241"))


def _pick(rng: random.Random, weighted):
    values = [v for v, _ in weighted]
    weights = [w for _, w in weighted]
    return rng.choices(values, weights=weights, k=1)[0]


def _fy_bounds(fy: int) -> tuple[date, date]:
    return date(fy - 1, 10, 1), date(fy, 9, 30)


def _person_id(seed: int, person: int) -> str:
    return hashlib.sha1(f"pd-pipeline synthetic ICE {seed} {person}".encode()).hexdigest()


def _make_rows(n_rows: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    fys = list(FY_WEIGHT)
    rows: list[dict] = []
    person = 0
    for _ in range(n_rows):
        fy = rng.choices(fys, weights=[FY_WEIGHT[f] for f in fys], k=1)[0]
        start, end = _fy_bounds(fy)
        departed = start + timedelta(days=rng.randrange((end - start).days + 1))
        # about 3% are people removed before (a second removal on another date)
        if rows and rng.random() < 0.03:
            pid = rng.choice(rows)["Anonymized Identifier"]
        else:
            person += 1
            pid = _person_id(seed, person)
        aor, state, county = rng.choice(AORS)
        program, program_code, agency = rng.choice(PROGRAMS)
        country = _pick(rng, COUNTRIES)
        age = rng.randint(18, 62)
        u = rng.random()
        convicted_share = FY_CONVICTED_SHARE[fy]
        r: dict = {c: None for c in COLUMNS_2026}
        r.update(
            {
                "Departed Date": datetime.combine(departed, datetime.min.time()),
                "Port of Departure": rng.choice(PORTS),
                "Departure Country": country,
                "Case AOR": aor,
                "State": state,
                "County": county,
                "Case Status": rng.choice(CASE_STATUSES),
                "Gender": _pick(rng, (("Male", 88), ("Female", 11), ("Unknown", 1))),
                "Birth Country": country,
                "Citizenship Country": country,
                "Birth Date": rng.choice(REDACTION_SPELLINGS),
                "Birth Year": departed.year - age,
                "Entry Date": datetime.combine(
                    departed - timedelta(days=rng.randint(5, 20 * 365)), datetime.min.time()
                ),
                "Entry Status": rng.choice(ENTRY_STATUSES),
                "Known Terrorist Yes No": "NO",
                "Suspected Gang Yes No": "YES" if rng.random() < 0.02 else "NO",
                "Processing Disposition": rng.choice(DISPOSITIONS),
                "Case Category": rng.choice(CASE_CATEGORIES),
                "Final Program": program,
                "Final Program Code": program_code,
                "Arresting Agency": agency,
                "TOA Case Category": rng.choice(CASE_CATEGORIES),
                "Latest Apprehension Final Program": program,
                "Latest Arresting Agency": agency,
                # apprehension dates carry a time of day, as in 42034
                # (docs/ICE_FORMAT.md#2023-icfo-42034)
                "Latest Apprehension Date": datetime.combine(
                    departed - timedelta(days=rng.randint(1, 300)), datetime.min.time()
                )
                + timedelta(minutes=rng.randint(0, 24 * 60 - 1)),
                "Final Order Yes No": "YES" if rng.random() < 0.97 else "NO",
                "Prior Deport Yes No": "YES" if rng.random() < 0.3 else "NO",
                "Anonymized Identifier": pid,
            }
        )
        if r["Final Order Yes No"] == "YES":
            r["Final Order Date"] = datetime.combine(
                departed - timedelta(days=rng.randint(0, 400)), datetime.min.time()
            )
        charge, section = rng.choice(FINAL_CHARGES)
        r["Final Charge Code"], r["Final Charge Section"] = charge, section

        if u < convicted_share:
            code, label, _, p1, p2 = rng.choices(CHARGES, weights=[c[2] for c in CHARGES])[0]
            v = rng.random()
            level = "1" if v < p1 else ("2" if v < p1 + p2 else "3")
            conviction = departed - timedelta(days=rng.randint(20, 3000))
            r.update(
                {
                    "MSC Charge": label,
                    "MSC Charge Code": code,
                    "MSC Criminal Charge Status": "Convicted",
                    "MSC Conviction Date": datetime.combine(conviction, datetime.min.time()),
                    "MSC Charge Date": datetime.combine(
                        conviction - timedelta(days=rng.randint(0, 400)), datetime.min.time()
                    ),
                    "Case Criminality": "1 Convicted Criminal",
                    "Case Threat Level": None if rng.random() < MISSING_LEVEL_SHARE else level,
                    "Aggravated Felon Yes No": "YES"
                    if level == "1" and rng.random() < 0.25
                    else "NO",
                }
            )
        elif u < convicted_share + PENDING_SHARE:
            code, label, *_ = rng.choices(CHARGES, weights=[c[2] for c in CHARGES])[0]
            r.update(
                {
                    "MSC Charge": label,
                    "MSC Charge Code": code,
                    "MSC Criminal Charge Status": "Pending",
                    "MSC Charge Date": datetime.combine(
                        departed - timedelta(days=rng.randint(10, 500)), datetime.min.time()
                    ),
                    "Case Criminality": "2 Pending Criminal Charges",
                    "Case Threat Level": "NA",
                    "Aggravated Felon Yes No": "NO",
                }
            )
        else:
            r.update(
                {
                    "Case Criminality": "3 Other Immigration Violator",
                    "Case Threat Level": "NA" if rng.random() < 0.5 else None,
                    "Aggravated Felon Yes No": "NO",
                }
            )
        rows.append(r)

    rows.sort(key=lambda r: (r["Departed Date"], r["Anonymized Identifier"]))
    n_quirk = max(2, n_rows // 1000)
    # Likely duplicates: a row's person and departure date copied onto its neighbour.
    for i in rng.sample(range(1, len(rows)), k=min(n_quirk, len(rows) - 1)):
        rows[i]["Anonymized Identifier"] = rows[i - 1]["Anonymized Identifier"]
        rows[i]["Departed Date"] = rows[i - 1]["Departed Date"]
    # Impossible dates: Excel's day 1 and dates after the release date
    # (docs/ICE_FORMAT.md#2023-icfo-42034).
    for i in rng.sample(range(len(rows)), k=min(n_quirk, len(rows))):
        rows[i]["Entry Date"] = datetime(1900, 1, 1)
    convicted = [i for i, r in enumerate(rows) if r["MSC Conviction Date"] is not None]
    for i in rng.sample(convicted, k=min(n_quirk, len(convicted))):
        rows[i]["MSC Conviction Date"] = datetime(2110, 9, 14)
    # Occasional redaction beyond Birth Date, and dates stored as bare serial numbers.
    for i in rng.sample(range(len(rows)), k=min(n_quirk, len(rows))):
        rows[i]["County"] = "b(6), b(7)c"
    with_order = [i for i, r in enumerate(rows) if r["Final Order Date"] is not None]
    for i in rng.sample(with_order, k=min(n_quirk, len(with_order))):
        rows[i]["_serial_final_order_date"] = True
    return rows


def _file_name(fys: tuple[int, ...]) -> str:
    first, last = fys[0] % 100, fys[-1] % 100
    return (
        f"SYNTHETIC_{SAMPLE_LAYOUT}_Removals_FY{first:02d}-FY{last:02d}_"
        f"{SAMPLE_RELEASE_DATE:%Y%m%d}_Redacted.xlsx"
    )


def _cover_lines(fys: tuple[int, ...], n: int, seed: int) -> list[str]:
    return [
        "SYNTHETIC DATA - generated by pd-pipeline (pipelines/sample/ice.py); not ICE records",
        "ERO LESA Statistical Tracking Unit layout (imitation)",
        f"Removals FY{fys[0]} - FY{fys[-1]} (SYNTHETIC)",
        f"Layout of FOIA {SAMPLE_LAYOUT}; seed {seed}; {n} rows",
        "Any resemblance to real persons is coincidental",
    ]


def _excel_serial(d: datetime) -> int:
    return (d.date() - date(1899, 12, 30)).days


def write_sample_ice(
    out_dir: Path,
    n_rows: int = 5000,
    seed: int = DEFAULT_SEED,
    rows_per_sheet: int = 1000,
) -> list[Path]:
    """Write the synthetic release's xlsx files into `out_dir`; return their paths.

    Deterministic: the same (n_rows, seed, rows_per_sheet) gives byte-identical files.
    `rows_per_sheet` is small by default so that the sample exercises the multi-sheet split
    (ICE splits at Excel's row limit).
    """
    if n_rows < 10:
        raise ValueError("n_rows must be at least 10 to plant every quirk")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = _make_rows(n_rows, seed)
    paths: list[Path] = []
    for fys in FILE_GROUPS:
        start, end = _fy_bounds(fys[0])[0], _fy_bounds(fys[-1])[1]
        part = [r for r in rows if start <= r["Departed Date"].date() <= end]
        path = out_dir / _file_name(fys)
        wb = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False})
        # a fixed creation time keeps the file bytes reproducible
        wb.set_properties(
            {
                "title": f"SYNTHETIC ICE removals FY{fys[0]}-FY{fys[-1]}",
                "author": "pd-pipeline synthetic sample",
                "created": datetime.combine(SAMPLE_RELEASE_DATE, datetime.min.time()),
            }
        )
        date_fmt = wb.add_format({"num_format": "m/d/yyyy"})
        datetime_fmt = wb.add_format({"num_format": "m/d/yyyy h:mm"})
        bold = wb.add_format({"bold": True})
        chunks = [part[i : i + rows_per_sheet] for i in range(0, len(part), rows_per_sheet)] or [[]]
        for k, chunk in enumerate(chunks):
            ws = wb.add_worksheet("Removals" if k == 0 else f"Removals {k + 1}")
            for i, line in enumerate(_cover_lines(fys, len(part), seed)):
                ws.write_string(i, 0, line, bold if i == 0 else None)
            for j, col in enumerate(COLUMNS_2026):
                ws.write_string(HEADER_ROW - 1, j, col, bold)
            for i, r in enumerate(chunk, start=HEADER_ROW):
                for j, col in enumerate(COLUMNS_2026):
                    v = r[col]
                    if v is None:
                        continue
                    if col == "Final Order Date" and r.get("_serial_final_order_date"):
                        ws.write_number(i, j, _excel_serial(v))
                    elif col in DATE_COLUMNS:
                        fmt = datetime_fmt if col == "Latest Apprehension Date" else date_fmt
                        ws.write_datetime(i, j, v, fmt)
                    elif col == "Birth Year":
                        ws.write_number(i, j, v)
                    else:
                        # codes such as 0301 must stay text: never let Excel see a number
                        ws.write_string(i, j, str(v))
        wb.close()
        paths.append(path)
    return paths
