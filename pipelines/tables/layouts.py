"""Table layouts for the article: frames shaped for export_table, with their export settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl

from pipelines.charts._common import require_columns

TOTAL_LABEL = "All categories"


@dataclass(frozen=True)
class TableSpec:
    """One table of a report: the frame and the keyword arguments for export_table."""

    stem: str
    title: str
    definition: str
    frame: pl.DataFrame
    export_kwargs: dict[str, Any] = field(default_factory=dict)


def closures_table(df: pl.DataFrame) -> TableSpec:
    """The article's closure table from the closures-chart input (pipelines.charts.closures).

    One row per lead-charge category plus an "All categories" total row; PD closures and
    pending cases suppressed 1-9 with complementary suppression against the total row.
    """
    require_columns(
        df, ("category_label", "pd_closures", "pct_of_pd_closures", "pending_share"), "closures"
    )
    cols = ["category_label", "pd_closures", "pct_of_pd_closures"]
    # The two kinds of PD closure (docs/DECISIONS.md#pd-rule), when the input carries them.
    split = [c for c in ("admin_closed", "terminated") if c in df.columns]
    cols += split
    has_pending = "pending_cases" in df.columns
    if has_pending:
        cols.append("pending_cases")
    cols.append("pending_share")
    body = df.select(cols).with_columns(is_total=pl.lit(False))
    total = {
        "category_label": TOTAL_LABEL,
        "pd_closures": int(df["pd_closures"].sum()),
        # A share of nothing is no share: blank when the total is zero.
        "pct_of_pd_closures": 100.0 if df["pd_closures"].sum() else None,
        "pending_share": 100.0 if has_pending and df["pending_cases"].sum() else None,
        "is_total": True,
    }
    for c in split:
        total[c] = int(df[c].sum())
    if has_pending:
        total["pending_cases"] = int(df["pending_cases"].sum())
    frame = pl.concat([body, pl.DataFrame([total], schema=body.schema)], how="vertical")
    counts = ["pd_closures", *split] + (["pending_cases"] if has_pending else [])
    derived = {"pct_of_pd_closures": ["pd_closures"]}
    if has_pending:
        derived["pending_share"] = ["pending_cases"]
    return TableSpec(
        stem="closures_table",
        title="PD closures and pending docket by lead charge",
        definition=(
            "PD closures completed in the window by lead (most serious) NTA charge, admin-closed "
            "and terminated, with each category's share of all PD closures and of the docket "
            "pending on the pending date."
        ),
        frame=frame,
        export_kwargs={
            "suppress_cols": counts,
            "derived_cols": derived,
            "total_col": "is_total",
            "column_labels": {
                "category_label": "Lead charge",
                "pd_closures": "PD closures",
                "pct_of_pd_closures": "Share (%)",
                "admin_closed": "Admin-closed",
                "terminated": "Terminated",
                "pending_cases": "Pending cases",
                "pending_share": "Share of pending (%)",
            },
            "float_formats": {"pct_of_pd_closures": "{:.1f}", "pending_share": "{:.1f}"},
        },
    )
