"""Clean an ICE removals frame (from `pipelines.ice.reader`) into `staging.ice_removals`.

What is done, each with its evidence (docs/ICE_FORMAT.md):

- Text is trimmed; empty cells become NULL.
- FOIA redaction tokens become NULL, counted per column (docs/ICE_FORMAT.md#redaction,
  docs/ICE_FORMAT.md#ingestion-quirks). `REDACTION_TOKEN` below is the one definition of a token:
  one or more exemption citations `b(6)`, `(b)(6)`, `(b)(7)(c)`, `b(7)c`, `b(7)C`, `b(7)e`, `b(7)©`
  ..., optionally separated by commas, semicolons, slashes, `&`, `and` or spaces, and nothing else
  in the cell. A cell that merely *contains* a citation inside other text is kept and counted as
  `partially_redacted_kept`.
- Dates are parsed from the strings calamine gives (`YYYY-MM-DD HH:MM:SS` for date-formatted cells,
  an Excel serial number for unformatted ones, `MM/DD/YYYY` for dates typed as text). Dates before
  1900-01-02 (Excel's day 1 is a placeholder, docs/ICE_FORMAT.md#2023-icfo-42034: `1900-...`) or
  after the release date (docs/ICE_FORMAT.md#2023-icfo-42034: entry dates to 2110, conviction dates
  to 2031) become NULL, counted.
- Codes stay text (`0301`, `70AA`); an all-digit MSC code shorter than four characters lost
  its leading zeros to a numeric cell and is padded back (counted).
- `Case Threat Level` is normalized to '1' / '2' / '3'; 'NA' and blank mean no conviction on
  record (docs/ICE_FORMAT.md#ingestion-quirks).
- Yes/No columns become booleans ('YES'/'NO' from 2025, TRUE/FALSE in 42034;
  docs/ICE_FORMAT.md#ingestion-quirks).
- Likely duplicates (same person identifier and departure date; DDP's `duplicate_likely`,
  docs/ICE_FORMAT.md#published-aggregates) are flagged, never deleted: `duplicate_group_size` counts
  the rows sharing the pair and `is_likely_duplicate` is true for all but the first of them (file,
  sheet, row order), so `NOT is_likely_duplicate` counts each removal once.
- `fiscal_year` of departure: the federal fiscal year runs October to September.
- Columns the alias table does not know are folded into one JSON column, `unmapped_columns`,
  so the staging table keeps one schema across releases.
"""

from __future__ import annotations

import re
from datetime import date

import polars as pl

from pipelines.ice.reader import META_COLUMNS, UNMAPPED_PREFIX, canonical_columns

# One FOIA exemption citation: `b` with or without brackets, the exemption number in brackets,
# an optional subsection letter with or without brackets (`©` is how `(c)` survives some
# exports). Examples: (b)(6) | b(6) | (b)(7)(c) | b(7)c | b(7)C | b(7)e | b(7)©
_EXEMPTION = r"\(?\s*b\s*\)?\s*\(\s*[1-9]\s*\)(?:\s*\(\s*[a-f©]\s*\)|\s*[a-f©])?"
_SEPARATOR = r"(?:\s*(?:[,;/&]|\band\b)\s*|\s*)"
REDACTION_TOKEN = re.compile(
    rf"^\s*{_EXEMPTION}(?:{_SEPARATOR}{_EXEMPTION})*\s*[.,;]?\s*$", re.IGNORECASE
)
# A citation anywhere in a longer text (DDP's test `\(b\)|b\([0-9]\)`,
# docs/ICE_FORMAT.md#ingestion-quirks).
REDACTION_INSIDE = re.compile(r"\(b\)\s*\(\s*[1-9]\s*\)|\bb\(\s*[1-9]\s*\)", re.IGNORECASE)

# Dates before this are impossible in these records (Excel serial 1 = 1900-01-01 is what an
# empty-but-formatted date cell or a 0/1 placeholder becomes).
MIN_VALID_DATE = date(1900, 1, 2)
# Excel's serial day 0 (1900 date system); serials 1..60 count from 1899-12-31 because Excel
# treats 1900 as a leap year (serial 60 is the non-existent 1900-02-29).
_EXCEL_EPOCH = date(1899, 12, 30)

CASE_THREAT_LEVELS = ("1", "2", "3")
_YES = {"yes", "y", "true", "1"}
_NO = {"no", "n", "false", "0"}

DERIVED_COLUMNS = ("fiscal_year", "duplicate_group_size", "is_likely_duplicate", "unmapped_columns")


def date_columns(columns: list[str]) -> list[str]:
    return [c for c in columns if c.endswith("_date")]


def yes_no_columns(columns: list[str]) -> list[str]:
    return [c for c in columns if c.endswith("_yes_no")]


def is_redaction_token(value: str | None) -> bool:
    return value is not None and bool(REDACTION_TOKEN.match(value))


def _parse_date_expr(name: str) -> tuple[pl.Expr, pl.Expr]:
    """(parsed Date, had a non-midnight time) for a text column holding Excel date renderings."""
    s = pl.col(name).str.strip_chars()
    iso = s.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False)
    mdy = s.str.extract(r"^(\d{1,2}/\d{1,2}/\d{4})", 1).str.to_date("%m/%d/%Y", strict=False)
    serial = s.str.extract(r"^(\d{1,6}(?:\.\d+)?)$", 1).cast(pl.Float64, strict=False)
    serial_days = serial.floor().cast(pl.Int64)
    serial_date = (
        pl.when(serial_days <= 60)
        .then(pl.lit(_EXCEL_EPOCH) + pl.duration(days=serial_days + 1))
        .otherwise(pl.lit(_EXCEL_EPOCH) + pl.duration(days=serial_days))
        .cast(pl.Date)
    )
    parsed = (
        pl.when(s.str.contains(r"^\d{4}-\d{2}-\d{2}"))
        .then(iso)
        .when(s.str.contains(r"^\d{1,2}/\d{1,2}/\d{4}"))
        .then(mdy)
        .when(serial.is_not_null() & (serial >= 1))
        .then(serial_date)
        .otherwise(None)
    )
    time_part = s.str.extract(r"^\d{4}-\d{2}-\d{2}[ T](\d{2}:\d{2}(?::\d{2})?)", 1)
    had_time = (time_part.is_not_null() & ~time_part.str.contains(r"^00:00(:00)?$")) | (
        serial.is_not_null() & (serial != serial.floor())
    )
    return parsed, had_time.fill_null(False)


def clean_removals(df: pl.DataFrame, release_date: date | None) -> tuple[pl.DataFrame, dict]:
    """Typed, cleaned removals with every canonical column, and counts of what was changed.

    `release_date`: the date the release's data run ends (dates after it are impossible);
    None only checks the 1900 bound (and says so in the counts).
    """
    canon = canonical_columns()
    counts: dict = {
        "rows": df.height,
        "release_date": release_date.isoformat() if release_date else None,
        "redacted": {},
        "partially_redacted_kept": {},
        "dates": {},
    }
    missing = [c for c in canon if c not in df.columns]
    df = df.with_columns([pl.lit(None, dtype=pl.String).alias(c) for c in missing])
    # fixed types for the provenance columns, whatever the input (an empty frame included)
    df = df.with_columns(
        pl.col("source_file").cast(pl.String),
        pl.col("source_sheet").cast(pl.String),
        pl.col("source_row").cast(pl.Int64),
    )
    text_cols = [
        c for c in df.columns if c not in META_COLUMNS and df.schema[c] in (pl.String, pl.Null)
    ]
    df = df.with_columns([pl.col(c).cast(pl.String) for c in text_cols])

    # 1. trim, blank -> NULL
    df = df.with_columns(
        [
            pl.when(pl.col(c).str.strip_chars() == "")
            .then(None)
            .otherwise(pl.col(c).str.strip_chars())
            .alias(c)
            for c in text_cols
        ]
    )

    # 2. redaction tokens -> NULL, counted per column
    token_pat = REDACTION_TOKEN.pattern
    inside_pat = REDACTION_INSIDE.pattern
    is_token = {c: pl.col(c).str.contains("(?i)" + token_pat).fill_null(False) for c in text_cols}
    inside = {
        c: (pl.col(c).str.contains("(?i)" + inside_pat).fill_null(False) & ~is_token[c])
        for c in text_cols
    }
    n_token = df.select([is_token[c].sum().alias(c) for c in text_cols]).row(0, named=True)
    n_inside = df.select([inside[c].sum().alias(c) for c in text_cols]).row(0, named=True)
    counts["redacted"] = {c: int(n) for c, n in n_token.items() if n}
    counts["partially_redacted_kept"] = {c: int(n) for c, n in n_inside.items() if n}
    df = df.with_columns(
        [pl.when(is_token[c]).then(None).otherwise(pl.col(c)).alias(c) for c in counts["redacted"]]
    )

    # 3. codes as text: restore leading zeros lost to numeric cells
    code = pl.col("msc_charge_code").str.to_uppercase()
    short_numeric = code.str.contains(r"^\d{1,3}$").fill_null(False)
    counts["msc_charge_code_zero_padded"] = int(df.select(short_numeric.sum()).item())
    df = df.with_columns(
        pl.when(short_numeric).then(code.str.zfill(4)).otherwise(code).alias("msc_charge_code")
    )

    # 4. threat level: '1'/'2'/'3'; 'NA'/blank = no conviction on record
    lvl = pl.col("case_threat_level").str.to_lowercase().str.replace(r"^(level|l)\s*", "")
    lvl = lvl.str.replace(r"\.0+$", "")
    na = lvl.is_in(["na", "n/a", "none", "null"])
    recognized = lvl.is_in(list(CASE_THREAT_LEVELS))
    unrecognized = pl.col("case_threat_level").is_not_null() & ~recognized & ~na
    counts["case_threat_level_unrecognized"] = int(df.select(unrecognized.sum()).item())
    counts["case_threat_level_na"] = int(df.select(na.fill_null(False).sum()).item())
    df = df.with_columns(pl.when(recognized).then(lvl).otherwise(None).alias("case_threat_level"))

    # 5. dates
    for c in date_columns(df.columns):
        parsed, had_time = _parse_date_expr(c)
        tmp = df.select(
            pl.col(c).is_not_null().alias("present"),
            parsed.alias("parsed"),
            had_time.alias("had_time"),
        )
        too_early = pl.col("parsed") < pl.lit(MIN_VALID_DATE)
        too_late = pl.col("parsed") > pl.lit(release_date) if release_date else pl.lit(False)
        stats = tmp.select(
            (pl.col("present") & pl.col("parsed").is_null()).sum().alias("unparseable"),
            too_early.fill_null(False).sum().alias("before_1900_01_02"),
            too_late.fill_null(False).sum().alias("after_release_date"),
            pl.col("had_time").sum().alias("time_of_day_dropped"),
        ).row(0, named=True)
        counts["dates"][c] = {k: int(v) for k, v in stats.items() if v}
        valid = (
            pl.when(too_early.fill_null(False) | too_late.fill_null(False))
            .then(None)
            .otherwise(pl.col("parsed"))
        )
        df = df.with_columns(tmp.select(valid.alias(c)).to_series())
    counts["dates"] = {k: v for k, v in counts["dates"].items() if v}

    # 6. birth year (and NYT age at removal) as integers
    upper_year = (release_date or date.today()).year
    by = pl.col("birth_year").cast(pl.Float64, strict=False)
    by_ok = (by == by.floor()) & (by >= 1880) & (by <= upper_year)
    counts["birth_year_invalid"] = int(
        df.select((pl.col("birth_year").is_not_null() & ~by_ok.fill_null(False)).sum()).item()
    )
    age = pl.col("age_at_removal").cast(pl.Float64, strict=False)
    df = df.with_columns(
        pl.when(by_ok).then(by).otherwise(None).cast(pl.Int32).alias("birth_year"),
        pl.when((age == age.floor()) & (age >= 0) & (age < 120))
        .then(age)
        .otherwise(None)
        .cast(pl.Int32)
        .alias("age_at_removal"),
    )

    # 7. yes/no -> boolean
    counts["yes_no_unrecognized"] = {}
    for c in yes_no_columns(df.columns):
        low = pl.col(c).str.to_lowercase()
        n_bad = df.select((pl.col(c).is_not_null() & ~low.is_in(list(_YES | _NO))).sum()).item()
        if n_bad:
            counts["yes_no_unrecognized"][c] = int(n_bad)
        df = df.with_columns(
            pl.when(low.is_in(list(_YES)))
            .then(True)
            .when(low.is_in(list(_NO)))
            .then(False)
            .otherwise(None)
            .alias(c)
        )

    # 8. fiscal year of departure (October-September)
    dep = pl.col("departed_date")
    df = df.with_columns(
        (dep.dt.year() + (dep.dt.month() >= 10).cast(pl.Int32)).cast(pl.Int32).alias("fiscal_year")
    )
    counts["fiscal_year_null"] = int(df["fiscal_year"].null_count())

    # 9. likely duplicates: same person and departure date, flagged in file/sheet/row order
    df = df.sort(list(META_COLUMNS), maintain_order=True)
    key_ok = pl.col("anonymized_identifier").is_not_null() & dep.is_not_null()
    size = pl.len().over("anonymized_identifier", "departed_date")
    rank = pl.int_range(pl.len()).over("anonymized_identifier", "departed_date")
    df = df.with_columns(
        pl.when(key_ok).then(size).otherwise(1).cast(pl.Int32).alias("duplicate_group_size"),
        pl.when(key_ok).then(rank > 0).otherwise(False).alias("is_likely_duplicate"),
    )
    first_of_group = (pl.col("duplicate_group_size") > 1) & ~pl.col("is_likely_duplicate")
    counts["duplicates"] = {
        "groups": int(df.select(first_of_group.sum()).item()),
        "rows_flagged": int(df["is_likely_duplicate"].sum()),
    }

    # 10. unknown columns folded into one JSON text column (stable staging schema)
    extra = [c for c in df.columns if c.startswith(UNMAPPED_PREFIX)]
    if extra:
        unmapped = (
            pl.when(pl.any_horizontal(pl.col(extra).is_not_null()))
            .then(pl.struct(extra).struct.json_encode())
            .otherwise(None)
        )
    else:
        unmapped = pl.lit(None, dtype=pl.String)
    df = df.with_columns(unmapped.alias("unmapped_columns"))
    counts["unmapped_columns"] = extra

    out = df.select([*META_COLUMNS, *canon, *DERIVED_COLUMNS])
    return out, counts
