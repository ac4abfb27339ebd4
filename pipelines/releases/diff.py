"""What changed between a release and the previous release in the warehouse (Dagster-free).

EOIR republishes the whole database every month, so a new release is a full snapshot: cases and
proceedings appear, some disappear (EOIR deletes or merges records), pending proceedings get an
outcome, and recorded outcomes or charges are sometimes corrected. An analyst comparing monthly
results needs to know which of these moved the numbers.

The previous release is the greatest release id below this one among the releases of the same
kind (real or synthetic: a synthetic sample is never compared with a real release) that the
warehouse holds ingested (raw.load_audit) and classified (marts.proceedings). Release ids are
`YYYY-MM` (or `synthetic-YYYY-MM`), so id order is date order.

Tables written (release_id first, as every warehouse table), by the statements in sql/releases/:
* `marts.release_diff` summary: section (`table_rows`, `proceedings`, `charges`), item,
  previous_value, current_value, difference.
* `marts.release_diff_proceedings`: one row per proceeding added, removed, or whose outcome
  (DEC_CODE, OTHER_COMP, COMP_DATE) or PD status (is_pd_closure, pd_kind) changed.
* `marts.release_diff_charges`: one row per charge added, removed, or whose charge code changed.
Without a previous release the summary holds this release's own counts, previous_release_id is
NULL, and the detail tables hold no rows for it.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from pipelines.warehouse.db import fetch_frame, replace_partition, set_variables, table_exists
from pipelines.warehouse.sql_files import read_sql

SUMMARY = "marts.release_diff"
PROCEEDINGS_DETAIL = "marts.release_diff_proceedings"
CHARGES_DETAIL = "marts.release_diff_charges"
# The tables the diff reads; the asset declares them as dependencies.
INPUTS = (
    "raw.load_audit",
    "staging.proceedings",
    "marts.proceedings",
    "marts.charges_classified",
)


def _kind(release_id: str) -> str:
    return "synthetic" if release_id.startswith("synthetic") else "real"


def previous_release(con: duckdb.DuckDBPyConnection, release_id: str) -> str | None:
    """The release to compare `release_id` with, or None when there is none."""
    if not all(table_exists(con, t) for t in INPUTS):
        return None
    rows = con.execute(
        "SELECT DISTINCT a.release_id FROM raw.load_audit a "
        "WHERE a.release_id < ? AND starts_with(a.release_id, 'synthetic') = ? "
        "AND EXISTS (SELECT 1 FROM marts.proceedings p WHERE p.release_id = a.release_id) "
        "ORDER BY a.release_id DESC LIMIT 1",
        [release_id, _kind(release_id) == "synthetic"],
    ).fetchall()
    return rows[0][0] if rows else None


# The three statements, in sql/releases/ (variables: release_id, previous_release_id).
_PROCEEDINGS_SQL = "releases/release_diff_proceedings.sql"
_CHARGES_SQL = "releases/release_diff_charges.sql"
_SUMMARY_SQL = "releases/release_diff.sql"


@dataclass(frozen=True)
class ReleaseDiff:
    release_id: str
    previous_release_id: str | None
    summary: object  # polars DataFrame of marts.release_diff for this release
    proceedings_changed: int
    charges_changed: int
    markdown: str


def build_release_diff(con: duckdb.DuckDBPyConnection, release_id: str) -> ReleaseDiff:
    """Compare `release_id` with the previous release and write the three diff tables."""
    missing = [t for t in INPUTS if not table_exists(con, t)]
    if missing:
        raise ValueError(
            f"release diff for {release_id}: the warehouse lacks {', '.join(missing)}; "
            "materialize the release's ingest, staging and closures assets first"
        )
    prev = previous_release(con, release_id)
    set_variables(con, {"release_id": release_id, "previous_release_id": prev})
    n_proc = replace_partition(con, PROCEEDINGS_DETAIL, release_id, read_sql(_PROCEEDINGS_SQL))
    n_chg = replace_partition(con, CHARGES_DETAIL, release_id, read_sql(_CHARGES_SQL))
    # The summary counts the two detail tables just written, so it comes last.
    replace_partition(con, SUMMARY, release_id, read_sql(_SUMMARY_SQL))
    summary = fetch_frame(
        con,
        f"SELECT section, item, previous_value, current_value, difference FROM {SUMMARY} "
        "WHERE release_id = ? ORDER BY row_order, item",
        [release_id],
    )
    return ReleaseDiff(
        release_id, prev, summary, n_proc, n_chg, diff_markdown(release_id, prev, summary)
    )


def _fmt(v) -> str:
    return "" if v is None else f"{v:,}"


def diff_markdown(release_id: str, previous: str | None, summary) -> str:
    """A short Markdown summary of a release diff (for the asset's metadata)."""
    rows = {(r["section"], r["item"]): r for r in summary.iter_rows(named=True)}
    if previous is None:
        total = rows.get(("proceedings", "total"), {}).get("current_value")
        return (
            f"**{release_id}**: no earlier {_kind(release_id)} release in the warehouse, "
            f"so there is nothing to compare with. This release holds {_fmt(total)} proceedings."
        )

    def cur(section: str, item: str) -> int:
        return rows.get((section, item), {}).get("current_value") or 0

    p = rows.get(("proceedings", "total"), {})
    pd = rows.get(("proceedings", "pd_closures"), {})
    lines = [
        f"**{release_id}** compared with **{previous}**",
        "",
        f"- proceedings: {_fmt(p.get('previous_value'))} -> {_fmt(p.get('current_value'))} "
        f"({cur('proceedings', 'added'):,} added, {cur('proceedings', 'removed'):,} removed)",
        f"- outcome changed (DEC_CODE, OTHER_COMP or COMP_DATE): "
        f"{cur('proceedings', 'outcome_changed'):,}",
        f"- PD status changed: {cur('proceedings', 'pd_status_changed'):,} "
        f"({cur('proceedings', 'became_pd_closure'):,} became PD closures, "
        f"{cur('proceedings', 'no_longer_pd_closure'):,} no longer are); PD closures "
        f"{_fmt(pd.get('previous_value'))} -> {_fmt(pd.get('current_value'))}",
        f"- charges: {cur('charges', 'added'):,} added, {cur('charges', 'removed'):,} removed, "
        f"{cur('charges', 'code_changed'):,} with a changed code "
        f"({cur('charges', 'category_changed'):,} changed severity category)",
        "",
        "| table | previous rows | rows | difference |",
        "|---|---:|---:|---:|",
    ]
    for (section, item), r in rows.items():
        if section == "table_rows":
            lines.append(
                f"| {item} | {_fmt(r['previous_value'])} | {_fmt(r['current_value'])} | "
                f"{_fmt(r['difference'])} |"
            )
    return "\n".join(lines)
