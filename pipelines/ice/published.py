"""Compare a release's fiscal-year counts with the totals ICE published.

ICE's published figures (data/reference/ice_removals_published_aggregates.csv, one source URL a row)
are ERO "removals and returns" counted at report time; FOIA row counts differ by a few percent (DDP
found the March 2026 release about 6% above 2023-ICFO-42034 for the same period;
docs/ICE_FORMAT.md#published-aggregates), so the comparison reports the difference in percent and
flags it against a tolerance rather than demanding equality. It applies only to a real release that
covers the whole fiscal year: a synthetic release says so and compares nothing.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import polars as pl

from pipelines.settings import REFERENCE_DIR

PUBLISHED_AGGREGATES_CSV = REFERENCE_DIR / "ice_removals_published_aggregates.csv"
# Difference (percent) above which a fiscal year is flagged; FOIA counts are expected within a few
# percent of ICE's (docs/ICE_FORMAT.md#published-aggregates: ~6% between two FOIA releases of the
# same period).
DEFAULT_TOLERANCE_PCT = 10.0
# A national series has removals every week: a fiscal year whose first (last) departure is more
# than a week after its start (before its end) was cut by the release's date range.
COVERAGE_SLACK_DAYS = 7

NOT_APPLICABLE_SYNTHETIC = "not applicable: synthetic"

_RESULT_SCHEMA = {
    "fiscal_year": pl.Int32,
    "foia_removals": pl.Int64,
    "foia_removals_excluding_likely_duplicates": pl.Int64,
    "published_removals": pl.Int64,
    "removals_diff_pct": pl.Float64,
    "foia_convicted": pl.Int64,
    "published_convicted": pl.Int64,
    "convicted_diff_pct": pl.Float64,
    "within_tolerance": pl.Boolean,
    "status": pl.String,
    "source_url": pl.String,
}


def load_published(published_csv: Path = PUBLISHED_AGGREGATES_CSV) -> pl.DataFrame:
    return pl.read_csv(
        published_csv,
        schema_overrides={
            "fiscal_year": pl.Int32,
            "total_removals": pl.Int64,
            "convicted_criminal_removals": pl.Int64,
        },
    )


def _diff_pct(foia: pl.Expr, published: pl.Expr) -> pl.Expr:
    return ((foia - published) / published * 100).round(2)


def compare_with_published(
    by_fy: pl.DataFrame,
    published_csv: Path = PUBLISHED_AGGREGATES_CSV,
    tolerance_pct: float = DEFAULT_TOLERANCE_PCT,
) -> pl.DataFrame:
    """Fiscal-year totals and convicted counts of `marts.removals_by_fy` against ICE's figures.

    One row per fiscal year in `by_fy`, with a `status`: 'compared', 'not applicable:
    synthetic', 'not applicable: fiscal year not fully covered (first .. last)', or 'no
    published figure'. Differences are (FOIA - published) / published in percent.
    """
    if by_fy.height == 0:
        return pl.DataFrame(schema=_RESULT_SCHEMA)
    synthetic = any(str(r).startswith("synthetic") for r in by_fy["release_id"].unique())
    per_fy = (
        by_fy.group_by("fiscal_year")
        .agg(
            pl.col("removals").sum().alias("foia_removals"),
            (pl.col("removals") - pl.col("likely_duplicates"))
            .sum()
            .alias("foia_removals_excluding_likely_duplicates"),
            pl.col("removals")
            .filter(pl.col("criminality") == "convicted")
            .sum()
            .alias("foia_convicted"),
            pl.col("first_departed_date").min(),
            pl.col("last_departed_date").max(),
        )
        .filter(pl.col("fiscal_year").is_not_null())
        .with_columns(pl.col("fiscal_year").cast(pl.Int32))
    )
    pub = load_published(published_csv).select(
        "fiscal_year",
        pl.col("total_removals").alias("published_removals"),
        pl.col("convicted_criminal_removals").alias("published_convicted"),
        "source_url",
    )
    out = per_fy.join(pub, on="fiscal_year", how="left").sort("fiscal_year")

    def covered(fy: int, first: date | None, last: date | None) -> bool:
        if first is None or last is None:
            return False
        slack = timedelta(days=COVERAGE_SLACK_DAYS)
        return first <= date(fy - 1, 10, 1) + slack and last >= date(fy, 9, 30) - slack

    statuses = []
    for fy, first, last, published in out.select(
        "fiscal_year", "first_departed_date", "last_departed_date", "published_removals"
    ).iter_rows():
        if synthetic:
            statuses.append(NOT_APPLICABLE_SYNTHETIC)
        elif not covered(fy, first, last):
            statuses.append(f"not applicable: fiscal year not fully covered ({first} .. {last})")
        elif published is None:
            statuses.append("no published figure")
        else:
            statuses.append("compared")
    out = out.with_columns(pl.Series("status", statuses, dtype=pl.String))
    compared = pl.col("status") == "compared"
    out = out.with_columns(
        pl.when(compared)
        .then(_diff_pct(pl.col("foia_removals"), pl.col("published_removals")))
        .alias("removals_diff_pct"),
        pl.when(compared)
        .then(_diff_pct(pl.col("foia_convicted"), pl.col("published_convicted")))
        .alias("convicted_diff_pct"),
    )
    out = out.with_columns(
        pl.when(compared)
        .then(
            (pl.col("removals_diff_pct").abs() <= tolerance_pct)
            & (pl.col("convicted_diff_pct").abs() <= tolerance_pct).fill_null(True)
        )
        .alias("within_tolerance")
    )
    return out.select([pl.col(c).cast(t) for c, t in _RESULT_SCHEMA.items()])


def level_panels(by_fy: pl.DataFrame) -> pl.DataFrame:
    """`marts.removals_by_fy` reshaped for pipelines.charts.removals: two panels per year.

    Panel `immigration_only_excluded = False` counts removals by the threat level as recorded;
    panel True moves removals whose most serious conviction is an immigration offense to
    threat level "none" (no non-immigration conviction). Levels are '1', '2', '3' or 'none'.
    """
    level = (
        pl.when(pl.col("threat_level").is_null())
        .then(pl.lit("none"))
        .otherwise(pl.col("threat_level").cast(pl.Int64).cast(pl.String))
    )
    cells = by_fy.filter(pl.col("fiscal_year").is_not_null()).with_columns(level.alias("level"))
    as_recorded = cells.select(
        "fiscal_year",
        pl.col("level").alias("threat_level"),
        pl.lit(False).alias("immigration_only_excluded"),
        pl.col("removals"),
    )
    moved = cells.select(
        "fiscal_year",
        pl.lit("none").alias("threat_level"),
        pl.lit(True).alias("immigration_only_excluded"),
        pl.col("immigration_only_convictions").alias("removals"),
    )
    kept = cells.select(
        "fiscal_year",
        pl.col("level").alias("threat_level"),
        pl.lit(True).alias("immigration_only_excluded"),
        pl.col("removals_excluding_immigration_only").alias("removals"),
    )
    return (
        pl.concat([as_recorded, kept, moved])
        .group_by("fiscal_year", "threat_level", "immigration_only_excluded")
        .agg(pl.col("removals").sum().cast(pl.Int64))
        .sort("immigration_only_excluded", "fiscal_year", "threat_level")
    )
