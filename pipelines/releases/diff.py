"""What changed between a release and the previous release in the warehouse (Dagster-free).

EOIR republishes the whole database every month, so a new release is a full snapshot: cases and
proceedings appear, some disappear (EOIR deletes or merges records), pending proceedings get an
outcome, and recorded outcomes or charges are sometimes corrected. An analyst comparing monthly
results needs to know which of these moved the numbers.

The previous release is the greatest release id below this one among the releases of the same
kind (real or synthetic: a synthetic sample is never compared with a real release) that the
warehouse holds ingested (raw.load_audit) and classified (marts.proceedings). Release ids are
`YYYY-MM` (or `synthetic-YYYY-MM`), so id order is date order.

Tables written (release_id first, as every warehouse table):
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


# Both releases' proceedings side by side; `cur`/`prev` restrict to one release each.
_PROCEEDINGS = """
WITH cur AS (
    SELECT s.idnproceeding, s.idncase, s.dec_code, s.other_comp, s.comp_date,
           m.is_pd_closure, m.pd_kind
    FROM staging.proceedings s
    JOIN marts.proceedings m USING (release_id, idnproceeding)
    WHERE s.release_id = getvariable('release_id')
),
prev AS (
    SELECT s.idnproceeding, s.idncase, s.dec_code, s.other_comp, s.comp_date,
           m.is_pd_closure, m.pd_kind
    FROM staging.proceedings s
    JOIN marts.proceedings m USING (release_id, idnproceeding)
    WHERE s.release_id = getvariable('previous_release_id')
),
joined AS (
    SELECT
        coalesce(cur.idnproceeding, prev.idnproceeding) AS idnproceeding,
        coalesce(cur.idncase, prev.idncase) AS idncase,
        CASE WHEN prev.idnproceeding IS NULL THEN 'added'
             WHEN cur.idnproceeding IS NULL THEN 'removed'
             ELSE 'changed' END AS change,
        cur.idnproceeding IS NOT NULL AND prev.idnproceeding IS NOT NULL
            AND (cur.dec_code, cur.other_comp, cur.comp_date)
                IS DISTINCT FROM (prev.dec_code, prev.other_comp, prev.comp_date)
            AS outcome_changed,
        cur.idnproceeding IS NOT NULL AND prev.idnproceeding IS NOT NULL
            AND (coalesce(cur.is_pd_closure, false), cur.pd_kind)
                IS DISTINCT FROM (coalesce(prev.is_pd_closure, false), prev.pd_kind)
            AS pd_status_changed,
        prev.dec_code AS previous_dec_code, cur.dec_code,
        prev.other_comp AS previous_other_comp, cur.other_comp,
        prev.comp_date AS previous_comp_date, cur.comp_date,
        prev.is_pd_closure AS previous_is_pd_closure, cur.is_pd_closure,
        prev.pd_kind AS previous_pd_kind, cur.pd_kind
    FROM cur FULL OUTER JOIN prev USING (idnproceeding)
)
SELECT
    CAST(getvariable('release_id') AS VARCHAR) AS release_id,
    CAST(getvariable('previous_release_id') AS VARCHAR) AS previous_release_id,
    CAST(idnproceeding AS BIGINT) AS idnproceeding,
    CAST(idncase AS BIGINT) AS idncase,
    CAST(change AS VARCHAR) AS change,
    CAST(outcome_changed AS BOOLEAN) AS outcome_changed,
    CAST(pd_status_changed AS BOOLEAN) AS pd_status_changed,
    CAST(previous_dec_code AS VARCHAR) AS previous_dec_code,
    CAST(dec_code AS VARCHAR) AS dec_code,
    CAST(previous_other_comp AS VARCHAR) AS previous_other_comp,
    CAST(other_comp AS VARCHAR) AS other_comp,
    CAST(previous_comp_date AS DATE) AS previous_comp_date,
    CAST(comp_date AS DATE) AS comp_date,
    CAST(previous_is_pd_closure AS BOOLEAN) AS previous_is_pd_closure,
    CAST(is_pd_closure AS BOOLEAN) AS is_pd_closure,
    CAST(previous_pd_kind AS VARCHAR) AS previous_pd_kind,
    CAST(pd_kind AS VARCHAR) AS pd_kind
FROM joined
WHERE getvariable('previous_release_id') IS NOT NULL
  AND (change <> 'changed' OR outcome_changed OR pd_status_changed)
"""

_CHARGES = """
WITH cur AS (
    SELECT idnprcdchg, idnproceeding, charge_code, severity_category
    FROM marts.charges_classified WHERE release_id = getvariable('release_id')
),
prev AS (
    SELECT idnprcdchg, idnproceeding, charge_code, severity_category
    FROM marts.charges_classified WHERE release_id = getvariable('previous_release_id')
),
joined AS (
    SELECT
        coalesce(cur.idnprcdchg, prev.idnprcdchg) AS idnprcdchg,
        coalesce(cur.idnproceeding, prev.idnproceeding) AS idnproceeding,
        CASE WHEN prev.idnprcdchg IS NULL THEN 'added'
             WHEN cur.idnprcdchg IS NULL THEN 'removed'
             WHEN cur.charge_code IS DISTINCT FROM prev.charge_code THEN 'code_changed'
             END AS change,
        prev.charge_code AS previous_charge_code, cur.charge_code,
        prev.severity_category AS previous_severity_category, cur.severity_category
    FROM cur FULL OUTER JOIN prev USING (idnprcdchg)
)
SELECT
    CAST(getvariable('release_id') AS VARCHAR) AS release_id,
    CAST(getvariable('previous_release_id') AS VARCHAR) AS previous_release_id,
    CAST(idnprcdchg AS BIGINT) AS idnprcdchg,
    CAST(idnproceeding AS BIGINT) AS idnproceeding,
    CAST(change AS VARCHAR) AS change,
    CAST(previous_charge_code AS VARCHAR) AS previous_charge_code,
    CAST(charge_code AS VARCHAR) AS charge_code,
    CAST(previous_severity_category AS VARCHAR) AS previous_severity_category,
    CAST(severity_category AS VARCHAR) AS severity_category
FROM joined
WHERE getvariable('previous_release_id') IS NOT NULL AND change IS NOT NULL
"""

# Loaded rows per source table (as-is + repaired), this release against the previous one.
_TABLE_ROWS = """
WITH cur AS (
    SELECT source_table, sum(loaded_as_is + repaired) AS n FROM raw.load_audit
    WHERE release_id = getvariable('release_id') GROUP BY ALL
),
prev AS (
    SELECT source_table, sum(loaded_as_is + repaired) AS n FROM raw.load_audit
    WHERE release_id = getvariable('previous_release_id') GROUP BY ALL
)
SELECT 'table_rows' AS section, coalesce(cur.source_table, prev.source_table) AS item,
       prev.n AS previous_value, cur.n AS current_value, 0 AS ord
FROM cur FULL OUTER JOIN prev ON lower(cur.source_table) = lower(prev.source_table)
"""

_COUNTS = f"""
WITH d AS (SELECT * FROM {PROCEEDINGS_DETAIL} WHERE release_id = getvariable('release_id')),
c AS (SELECT * FROM {CHARGES_DETAIL} WHERE release_id = getvariable('release_id')),
has_prev AS (SELECT getvariable('previous_release_id') IS NOT NULL AS yes),
totals AS (
    SELECT
        (SELECT count(*) FROM marts.proceedings WHERE release_id = getvariable('release_id')) AS p_cur,
        (SELECT count(*) FROM marts.proceedings
            WHERE release_id = getvariable('previous_release_id')) AS p_prev,
        (SELECT count(*) FILTER (WHERE is_pd_closure) FROM marts.proceedings
            WHERE release_id = getvariable('release_id')) AS pd_cur,
        (SELECT count(*) FILTER (WHERE is_pd_closure) FROM marts.proceedings
            WHERE release_id = getvariable('previous_release_id')) AS pd_prev,
        (SELECT count(*) FROM marts.charges_classified
            WHERE release_id = getvariable('release_id')) AS c_cur,
        (SELECT count(*) FROM marts.charges_classified
            WHERE release_id = getvariable('previous_release_id')) AS c_prev
)
SELECT * FROM (
    SELECT 'proceedings' AS section, 'total' AS item,
           CASE WHEN (SELECT yes FROM has_prev) THEN p_prev END AS previous_value,
           p_cur AS current_value, 1 AS ord FROM totals
    UNION ALL
    SELECT 'proceedings', 'pd_closures',
           CASE WHEN (SELECT yes FROM has_prev) THEN pd_prev END, pd_cur, 2 FROM totals
    UNION ALL
    SELECT 'charges', 'total',
           CASE WHEN (SELECT yes FROM has_prev) THEN c_prev END, c_cur, 10 FROM totals
)
UNION ALL
SELECT * FROM (
    SELECT 'proceedings', 'added', NULL, count(*) FILTER (WHERE change = 'added'), 3 FROM d
    UNION ALL
    SELECT 'proceedings', 'removed', NULL, count(*) FILTER (WHERE change = 'removed'), 4 FROM d
    UNION ALL
    SELECT 'proceedings', 'outcome_changed', NULL, count(*) FILTER (WHERE outcome_changed), 5 FROM d
    UNION ALL
    SELECT 'proceedings', 'pd_status_changed', NULL,
           count(*) FILTER (WHERE pd_status_changed), 6 FROM d
    UNION ALL
    SELECT 'proceedings', 'became_pd_closure', NULL,
           count(*) FILTER (WHERE pd_status_changed AND is_pd_closure
                            AND NOT coalesce(previous_is_pd_closure, false)), 7 FROM d
    UNION ALL
    SELECT 'proceedings', 'no_longer_pd_closure', NULL,
           count(*) FILTER (WHERE pd_status_changed AND previous_is_pd_closure
                            AND NOT coalesce(is_pd_closure, false)), 8 FROM d
    UNION ALL
    SELECT 'charges', 'added', NULL, count(*) FILTER (WHERE change = 'added'), 11 FROM c
    UNION ALL
    SELECT 'charges', 'removed', NULL, count(*) FILTER (WHERE change = 'removed'), 12 FROM c
    UNION ALL
    SELECT 'charges', 'code_changed', NULL, count(*) FILTER (WHERE change = 'code_changed'), 13
    FROM c
    UNION ALL
    SELECT 'charges', 'category_changed', NULL,
           count(*) FILTER (WHERE change = 'code_changed'
                            AND severity_category IS DISTINCT FROM previous_severity_category), 14
    FROM c
) WHERE (SELECT yes FROM has_prev)
"""

_SUMMARY = f"""
SELECT
    CAST(getvariable('release_id') AS VARCHAR) AS release_id,
    CAST(getvariable('previous_release_id') AS VARCHAR) AS previous_release_id,
    CAST(section AS VARCHAR) AS section,
    CAST(item AS VARCHAR) AS item,
    CAST(previous_value AS BIGINT) AS previous_value,
    CAST(current_value AS BIGINT) AS current_value,
    CAST(current_value - previous_value AS BIGINT) AS difference,
    CAST(ord AS INTEGER) AS row_order
FROM (SELECT * FROM ({_TABLE_ROWS}) UNION ALL SELECT * FROM ({_COUNTS}))
ORDER BY row_order, item
"""


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
    n_proc = replace_partition(con, PROCEEDINGS_DETAIL, release_id, _PROCEEDINGS)
    n_chg = replace_partition(con, CHARGES_DETAIL, release_id, _CHARGES)
    replace_partition(con, SUMMARY, release_id, _SUMMARY)
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
