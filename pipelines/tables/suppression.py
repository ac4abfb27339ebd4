"""Small-cell suppression for everything the pipeline publishes (docs/DECISIONS.md#small-cells).

Rules (one place, applied to charts' data and to tables alike):

* Primary: a count c with 1 <= c < threshold is suppressed. Zero is NOT suppressed: a true
  zero describes nobody, and blanking it would make "none" indistinguishable from "a few";
  this is the common 1-9 rule for a threshold of 10 (e.g. CMS cell-size policy).
* Derived values (rates, percents, intervals) computed from a suppressed count are blanked
  too, since a rate and its denominator give the count back.
* Secondary: when a printed total lets a reader subtract, a single suppressed cell in a
  group of cells that add up to that total is recoverable. If exactly one cell of a count
  column is suppressed within a group (``secondary_by`` columns; the whole column when
  None), the smallest other non-zero count in that group is suppressed as well (ties: the
  first row). Rows flagged as totals (``total_col``) take part in the primary rule only: they
  are never counted in a group nor chosen as the complementary cell.
  Turn it off with ``secondary=False`` where no total of the column is printed or implied.
* Rows are never dropped. Suppressed counts become null in the frame; the ``suppressed``
  column flags rows with any suppressed cell and ``suppressed_cells`` names the suppressed
  count columns (``;``-separated; a complementary cell as ``~col``) so exports print the
  marker in exactly those cells and leave derived cells blank. Primary cells print as
  ``<10``; complementary cells print as ``(s)``, since ``<10`` would be false for them.
* A frame suppressed upstream (SQL with ``suppress_below``) that has a ``suppressed`` flag but
  no ``suppressed_cells`` is read as: null counts on flagged rows are primary suppressions.
* Idempotent: re-applying to a suppressed frame keeps earlier flags and adds nothing new.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl

DEFAULT_THRESHOLD = 10
SUPPRESSED_FLAG = "suppressed"
SUPPRESSED_CELLS = "suppressed_cells"
_SEP = ";"


SECONDARY_MARKER = "(s)"
_SECONDARY_PREFIX = "~"


def marker(threshold: int = DEFAULT_THRESHOLD) -> str:
    """What a primary-suppressed count prints as."""
    return f"<{threshold}"


def _derived_map(
    derived_cols: Mapping[str, Sequence[str]] | Sequence[str] | None, count_cols: Sequence[str]
) -> dict[str, list[str]]:
    """A sequence means "derived from any of the count columns"; a mapping names the sources."""
    if derived_cols is None:
        return {}
    if isinstance(derived_cols, Mapping):
        return {k: list(v) for k, v in derived_cols.items()}
    return {c: list(count_cols) for c in derived_cols}


def suppression_kinds(df: pl.DataFrame, col: str) -> list[str | None]:
    """Per row: ``"primary"``, ``"secondary"`` or None for cell `col`."""
    if SUPPRESSED_CELLS not in df.columns:
        if SUPPRESSED_FLAG in df.columns and col in df.columns:
            return [
                "primary" if flag and v is None else None
                for flag, v in zip(df[SUPPRESSED_FLAG].to_list(), df[col].to_list(), strict=True)
            ]
        return [None] * df.height
    kinds: list[str | None] = []
    for cell in df[SUPPRESSED_CELLS].to_list():
        tokens = (cell or "").split(_SEP)
        if col in tokens:
            kinds.append("primary")
        elif _SECONDARY_PREFIX + col in tokens:
            kinds.append("secondary")
        else:
            kinds.append(None)
    return kinds


def suppressed_mask(df: pl.DataFrame, col: str) -> pl.Series:
    """Boolean per row: is `col` a suppressed cell (primary or complementary)?"""
    return pl.Series(col, [k is not None for k in suppression_kinds(df, col)], dtype=pl.Boolean)


def cell_marker(kind: str | None, threshold: int = DEFAULT_THRESHOLD) -> str | None:
    return {"primary": marker(threshold), "secondary": SECONDARY_MARKER}.get(kind or "")


def suppress(
    df: pl.DataFrame,
    count_cols: Sequence[str],
    threshold: int = DEFAULT_THRESHOLD,
    derived_cols: Mapping[str, Sequence[str]] | Sequence[str] | None = None,
    *,
    secondary: bool = True,
    secondary_by: Sequence[str] | None = None,
    total_col: str | None = None,
) -> pl.DataFrame:
    """Apply the rules in the module docstring; returns a new frame (same rows, same order)."""
    missing = [c for c in [*count_cols, *(secondary_by or [])] if c not in df.columns]
    derived = _derived_map(derived_cols, count_cols)
    missing += [c for c in derived if c not in df.columns]
    stray = sorted({s for srcs in derived.values() for s in srcs} - set(count_cols))
    if stray:
        raise ValueError(f"suppress: derived columns name sources {stray} not in count_cols")
    if missing:
        raise ValueError(f"suppress: columns {missing} not in frame (has {df.columns})")
    if threshold < 1:
        raise ValueError(f"suppress: threshold must be >= 1, got {threshold}")

    n = df.height
    is_total = df[total_col].fill_null(False).to_list() if total_col else [False] * n
    groups: list[tuple] = list(df.select(secondary_by).iter_rows()) if secondary_by else [()] * n
    flags: dict[str, list[bool]] = {}
    tokens: list[set[str]] = [set(_existing_cells(df, i)) for i in range(n)]
    for col in count_cols:
        prior = suppression_kinds(df, col)
        values = df[col].to_list()
        flag = [
            prior[i] is not None or (v is not None and 1 <= v < threshold)
            for i, v in enumerate(values)
        ]
        for i in range(n):
            if flag[i] and prior[i] != "secondary":
                tokens[i].add(col)
        if secondary:
            by_group: dict[tuple, list[int]] = {}
            for i in range(n):
                if not is_total[i]:
                    by_group.setdefault(groups[i], []).append(i)
            for rows in by_group.values():
                if sum(flag[i] for i in rows) != 1:
                    continue
                candidates = [i for i in rows if not flag[i] and values[i] not in (None, 0)]
                if candidates:
                    chosen = min(candidates, key=lambda i: values[i])
                    flag[chosen] = True
                    tokens[chosen].add(_SECONDARY_PREFIX + col)
        flags[col] = flag

    out = df.with_columns(
        [
            pl.when(pl.Series(flags[c], dtype=pl.Boolean)).then(None).otherwise(pl.col(c)).alias(c)
            for c in count_cols
        ]
    )
    for dcol, sources in derived.items():
        hit = [any(flags[s][i] for s in sources if s in flags) for i in range(n)]
        out = out.with_columns(
            pl.when(pl.Series(hit, dtype=pl.Boolean)).then(None).otherwise(pl.col(dcol)).alias(dcol)
        )

    cells = [_SEP.join(sorted(t)) for t in tokens]
    prior_flag = (
        df[SUPPRESSED_FLAG].fill_null(False).to_list()
        if SUPPRESSED_FLAG in df.columns
        else [False] * n
    )
    any_flag = [bool(c) or p for c, p in zip(cells, prior_flag, strict=True)]
    return out.with_columns(
        pl.Series(SUPPRESSED_FLAG, any_flag, dtype=pl.Boolean),
        pl.Series(SUPPRESSED_CELLS, cells, dtype=pl.String),
    )


def _existing_cells(df: pl.DataFrame, i: int) -> list[str]:
    if SUPPRESSED_CELLS not in df.columns:
        return []
    v = df[SUPPRESSED_CELLS][i]
    return [c for c in (v or "").split(_SEP) if c]


def check_no_small_counts(
    df: pl.DataFrame, count_cols: Sequence[str], threshold: int = DEFAULT_THRESHOLD
) -> list[str]:
    """Problems (empty when fine): any printed count in 1..threshold-1."""
    problems = []
    for col in count_cols:
        bad = df.filter(pl.col(col).is_between(1, threshold - 1))
        if bad.height:
            problems.append(f"{col}: {bad.height} count(s) between 1 and {threshold - 1}")
    return problems
