"""Which published count is which cell, and the equations between them (Dagster-free).

A report's frames (chart inputs and tables) and the CSVs written from them are read through the
same :data:`CELL_MAPS`, so the suppression chosen before export (pipelines.publish.disclosure)
and the attack on the files after export name cells the same way. A frame is named by its
chart family or table stem; a file by its stem (``closures_column.csv`` is the ``closures``
frame drawn at column width).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

import polars as pl

from pipelines.charts.removals import _level_key
from pipelines.publish.disclosure import PRIMARY, CellSet, Key
from pipelines.tables.suppression import SUPPRESSED_CELLS, SUPPRESSED_FLAG

TOTAL = "Total"
# Categories of a lead-charge group as they appear in a key (event study).
GROUP_SEP = "; "
# The measure prefix of a cell no file prints (a sum tying two files together).
UNPRINTED = "unprinted:"
# Labels a total row carries in one table or another; they are the same cell.
TOTAL_LABELS = {"Total", "All categories"}


def norm(value) -> str:
    """One spelling per value, whether it comes from a frame or from a CSV cell."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    return "" if value is None else str(value)


def _category(row: Mapping) -> tuple[str, ...]:
    label = norm(row["category_label"])
    return ("category", TOTAL if label in TOTAL_LABELS else label)


@dataclass(frozen=True)
class CellMap:
    """How one frame's rows and count columns name cells."""

    dims: Callable[[Mapping], tuple[str, ...]]
    counts: Mapping[str, str]  # column -> measure
    # Columns computed from counts: blank wherever one of their sources is suppressed.
    derived: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # Share columns (count / total): blank everywhere when the total of the count is suppressed.
    shares: Mapping[str, str] = field(default_factory=dict)


_CLOSURE_COUNTS = {
    "pd_closures": "pd_closures",
    "admin_closed": "admin_closed",
    "terminated": "terminated",
    "pending_cases": "pending",
}
_CLOSURE_DERIVED = {"pct_of_pd_closures": ("pd_closures",), "pending_share": ("pending_cases",)}
_CLOSURE_SHARES = {"pct_of_pd_closures": "pd_closures", "pending_share": "pending_cases"}
_RATE = ("completions", "pd_closures")

CELL_MAPS: dict[str, CellMap] = {
    "closures": CellMap(_category, _CLOSURE_COUNTS, _CLOSURE_DERIVED, _CLOSURE_SHARES),
    "closures_table": CellMap(_category, _CLOSURE_COUNTS, _CLOSURE_DERIVED, _CLOSURE_SHARES),
    "pd_rates_by_category": CellMap(
        _category,
        {
            "completions": "completions",
            "pd_closures": "pd_closures",
            "pending": "pending",
            "pending_pd_closures": "pending_pd_closures",
        },
        {
            "pd_rate_of_completions": ("pd_closures", "completions"),
            "share_of_completions": ("completions",),
            "pd_rate_of_pending": ("pending_pd_closures", "pending"),
            "share_of_pending": ("pending",),
        },
        {"share_of_completions": "completions", "share_of_pending": "pending"},
    ),
    "courts": CellMap(
        lambda r: ("court", norm(r["court_code"])),
        {"completions": "completions", "pd_closures": "pd_closures"},
        {c: _RATE for c in ("pd_rate", "ci_low", "ci_high")},
    ),
    "rates_over_time": CellMap(
        lambda r: ("quarter", norm(r["period"]), norm(r["category_label"])),
        {"completions": "completions", "pd_closures": "pd_closures"},
        {c: _RATE for c in ("pd_rate", "ci_low", "ci_high")},
    ),
    # Monthly counts of a lead-charge group (its categories named in the key, so the quarters
    # of those categories in rates_over_time can be tied to them from the files alone).
    "event_study": CellMap(
        lambda r: ("month", norm(r["month"]), norm(r["group"]), norm(r["categories"])),
        {"completions": "completions", "pd_closures": "pd_closures"},
        {c: _RATE for c in ("estimate", "ci_low", "ci_high")},
    ),
    # PD closures behind each lead-rule model term (the model's own cohort, not the window's).
    "lead_rule_comparison": CellMap(
        lambda r: ("lead_rule", norm(r["lead_rule"]), norm(r["lead_charge"])),
        {"pd_closures": "model_pd_closures"},
    ),
    "court_heterogeneity": CellMap(
        lambda r: ("court_group", norm(r["court"])),  # the printed court label
        {
            "pd_closures_group": "court_pd_closures_criminal",
            "pd_closures_reference": "court_pd_closures_immigration",
        },
    ),
    "removals": CellMap(
        lambda r: (
            "removals",
            norm(r["fiscal_year"]),
            norm(r["immigration_only_excluded"]),
            _level_key(r["threat_level"]),
        ),
        {"removals": "removals"},
    ),
}


def frame_name(stem: str) -> str | None:
    """The CELL_MAPS name of a published file's stem (None: the file prints no counts)."""
    for suffix in ("_column", "_page"):
        if stem.endswith(suffix) and stem.removesuffix(suffix) in CELL_MAPS:
            return stem.removesuffix(suffix)
    return stem if stem in CELL_MAPS else None


def frame_cells(name: str, frame: pl.DataFrame) -> Iterable[tuple[Key, str, object]]:
    """(cell key, column, value) of every count in `frame`."""
    cmap = CELL_MAPS[name]
    cols = [c for c in cmap.counts if c in frame.columns]
    for row in frame.iter_rows(named=True):
        dims = cmap.dims(row)
        for c in cols:
            yield (cmap.counts[c], *dims), c, row[c]


def add_frame(cells: CellSet, name: str, frame: pl.DataFrame) -> None:
    for key, _col, value in frame_cells(name, frame):
        cells.add(key, value)


def quarter_aligned(start: date, end: date) -> bool:
    """True when the window is made of whole calendar quarters (then quarters add up to it)."""
    next_day = date.fromordinal(end.toordinal() + 1)
    return (
        start.day == 1
        and start.month in (1, 4, 7, 10)
        and next_day.day == 1
        and (next_day.month in (1, 4, 7, 10))
    )


def build_equations(cells: CellSet, window_start: date, window_end: date) -> None:
    """Every additive relation a reader can form between the cells in `cells`."""
    keys = list(cells.values)
    by_measure: dict[str, list[Key]] = {}
    for k in keys:
        if len(k) == 3 and k[1] == "category" and k[2] != TOTAL:
            by_measure.setdefault(k[0], []).append(k)
    for measure, parts in by_measure.items():
        cells.equation((measure, "category", TOTAL), parts)
    labels = {k[2] for k in keys if len(k) == 3 and k[1] == "category"}
    for label in labels:
        cells.equation(
            ("pd_closures", "category", label),
            [("admin_closed", "category", label), ("terminated", "category", label)],
        )
    for measure in ("completions", "pd_closures"):
        courts = [k for k in keys if k[0] == measure and k[1] == "court"]
        cells.equation((measure, "category", TOTAL), courts)
    if quarter_aligned(window_start, window_end):
        lo, hi = window_start.isoformat(), window_end.isoformat()
        for measure in ("completions", "pd_closures"):
            for label in labels:
                quarters = [
                    k
                    for k in keys
                    if k[0] == measure and k[1] == "quarter" and k[3] == label and lo <= k[2] <= hi
                ]
                cells.equation((measure, "category", label), quarters)
    # A quarter of a lead-charge group is its three months (event study) and also its categories'
    # quarters (rates over time): an unprinted cell (None) ties the two files together.
    months: dict[tuple[str, str, str, str], list[Key]] = {}
    for k in keys:
        if len(k) == 5 and k[1] == "month" and k[0] in ("completions", "pd_closures"):
            m = date.fromisoformat(k[2])
            q = date(m.year, 3 * ((m.month - 1) // 3) + 1, 1).isoformat()
            months.setdefault((k[0], q, k[3], k[4]), []).append(k)
    for (measure, q, group, cats), parts in months.items():
        if len(parts) != 3:  # a month without completions has no row: no equation to trust
            continue
        tie = (UNPRINTED + measure, "quarter_group", q, group)
        cells.values[tie] = None
        cells.equation(tie, parts)
        cells.equation(tie, [(measure, "quarter", q, c) for c in cats.split(GROUP_SEP)])
    # ICE publishes annual totals: each fiscal year's levels add up to a known number.
    groups: dict[tuple[str, str], list[Key]] = {}
    for k in keys:
        if k[0] == "removals":
            groups.setdefault((k[2], k[3]), []).append(k)
    for (fy, panel), parts in groups.items():
        if len(parts) == 1:
            # A year with a single level: its cell is the annual total ICE itself publishes,
            # public already, so there is nothing to recover it from that is not public.
            continue
        total = ("removals_published_total", fy, panel)
        # Known to any reader of ICE's statistics (NaN: not needed to tell what is determined).
        printed = [cells.values[p] for p in parts]
        known = None not in printed
        cells.values[total] = sum(printed) if known else float("nan")
        cells.equation(total, parts)


def apply_suppression(name: str, frame: pl.DataFrame, kinds: Mapping[Key, str]) -> pl.DataFrame:
    """`frame` with the cells in `kinds` suppressed (null, flagged in ``suppressed_cells``) and
    the values derived from them blanked. The flags are what the exporters print as markers."""
    cmap = CELL_MAPS[name]
    cols = [c for c in cmap.counts if c in frame.columns]
    rows = list(frame.iter_rows(named=True))
    tokens: list[set[str]] = [set() for _ in rows]
    hidden: dict[str, list[bool]] = {c: [False] * len(rows) for c in cols}
    for i, row in enumerate(rows):
        dims = cmap.dims(row)
        for c in cols:
            kind = kinds.get((cmap.counts[c], *dims))
            if kind:
                hidden[c][i] = True
                tokens[i].add(c if kind == PRIMARY else "~" + c)
    out = frame.with_columns(
        [
            pl.when(pl.Series(hidden[c], dtype=pl.Boolean)).then(None).otherwise(pl.col(c)).alias(c)
            for c in cols
        ]
    )
    blank: dict[str, list[bool]] = {}
    for dcol, sources in cmap.derived.items():
        if dcol in frame.columns:
            blank[dcol] = [
                any(hidden.get(s, [False] * len(rows))[i] for s in sources)
                for i in range(len(rows))
            ]
    for scol, count_col in cmap.shares.items():
        if scol in frame.columns and count_col in cmap.counts:
            total = (cmap.counts[count_col], "category", TOTAL)
            if total in kinds:
                blank[scol] = [True] * len(rows)
    out = out.with_columns(
        [
            pl.when(pl.Series(flags, dtype=pl.Boolean)).then(None).otherwise(pl.col(c)).alias(c)
            for c, flags in blank.items()
        ]
    )
    return out.with_columns(
        pl.Series(SUPPRESSED_FLAG, [bool(t) for t in tokens], dtype=pl.Boolean),
        pl.Series(SUPPRESSED_CELLS, [";".join(sorted(t)) for t in tokens], dtype=pl.String),
    )
