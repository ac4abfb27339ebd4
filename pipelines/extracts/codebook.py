"""The codebook of the extracts, generated from the data and from pipelines/extracts/columns.py.

For every extracted column: name, Stata name, type, label, definition, source and the share
missing; for categorical columns every value with its label, its Stata code and its count.
Counts from 1 to `suppress_below - 1` print as "<10" and a complementary cell as "(s)" where one
suppressed count in a column could be recovered from the total (pipelines/tables/suppression.py,
the one place those rules live); zero is never suppressed.

The profile (`profile_table`) is also what the Stata writer encodes with: the integer code of
each value of a text categorical is fixed here, so the codebook and the .dta agree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import duckdb
import polars as pl

from pipelines.extracts.columns import (
    BOOLEAN,
    BOOLEAN_LABELS,
    DUCKDB_TYPES,
    INTEGER,
    LIST_SEPARATOR,
    LOOKUP_LABELS,
    TEXT,
    TEXT_LIST,
    Column,
    ExtractTable,
)
from pipelines.tables.suppression import cell_marker, suppress, suppression_kinds
from pipelines.warehouse.db import table_exists

MISSING_VALUE = "(missing)"


class ExtractError(ValueError):
    """A mart does not match its extract definition; the message says which and what to do."""


@dataclass(frozen=True)
class ValueLabel:
    value: str | int
    code: int  # the integer stored in Stata (the value itself for integer columns)
    label: str
    count: int
    # Where the label came from: 'fixed' (columns.py), 'lookup' (the release's lookup),
    # 'extra' (a special value the mart adds), 'data' (seen in the data, labelled by itself).
    origin: str


@dataclass(frozen=True)
class ColumnProfile:
    column: Column
    duckdb_type: str
    rows: int
    missing: int
    max_text_length: int | None = None  # longest value as written to CSV / Stata
    values: tuple[ValueLabel, ...] = ()  # every coded value (lookup values with count 0 too)

    @property
    def share_missing(self) -> float:
        return self.missing / self.rows if self.rows else 0.0

    def codebook_values(self) -> tuple[ValueLabel, ...]:
        """Values the codebook lists: the fixed labels, and every other value that occurs."""
        return tuple(v for v in self.values if v.origin == "fixed" or v.count > 0)

    def codes(self) -> dict[str | int, int]:
        return {v.value: v.code for v in self.values}

    def stata_value_labels(self) -> dict[int, str]:
        return {v.code: v.label for v in self.values}


@dataclass(frozen=True)
class TableProfile:
    table: ExtractTable
    rows: int
    columns: tuple[ColumnProfile, ...]
    # Mart columns that are neither extracted nor deliberately excluded (a definition is missing).
    undocumented: tuple[str, ...] = ()
    excluded: dict[str, str] = field(default_factory=dict)

    def column(self, name: str) -> ColumnProfile:
        for c in self.columns:
            if c.column.name == name:
                return c
        raise KeyError(f"{self.table.name}: no column {name!r}")


def mart_columns(con: duckdb.DuckDBPyConnection, mart: str) -> dict[str, str]:
    return {r[0]: r[1] for r in con.execute(f"DESCRIBE {mart}").fetchall()}


def check_mart(table: ExtractTable, columns: Mapping[str, str]) -> tuple[list[str], dict[str, str]]:
    """(undocumented mart columns, excluded columns with reasons); raises on a broken contract."""
    missing = [c.name for c in table.columns if c.name not in columns]
    if missing:
        raise ExtractError(
            f"{table.mart} lacks {missing}, which pipelines/extracts/columns.py extracts as "
            f"`{table.name}`: rebuild the mart, or update the extract definition"
        )
    wrong = [
        f"{c.name} is {columns[c.name]}, expected {c.type}"
        for c in table.columns
        if columns[c.name] not in DUCKDB_TYPES[c.type]
    ]
    if wrong:
        raise ExtractError(
            f"{table.mart}: column types differ from the extract definition: {'; '.join(wrong)}"
        )
    others = [c for c in columns if c not in table.column_names]
    excluded = {c: table.excluded[c] for c in others if c in table.excluded}
    if table.excluded_reason:
        excluded.update({c: table.excluded_reason for c in others if c not in excluded})
    undocumented = [c for c in others if c not in excluded]
    return undocumented, excluded


def lookup_labels(
    con: duckdb.DuckDBPyConnection, key: str, release_id: str
) -> dict[str | int, str]:
    table, query = LOOKUP_LABELS[key]
    if not table_exists(con, table):
        return {}
    rows = con.execute(query, [release_id]).fetchall()
    return {v: ("" if lab is None else str(lab)) or str(v) for v, lab in rows if v is not None}


def assign_codes(
    column: Column,
    counts: Mapping[str | int, int],
    lookup: Mapping[str | int, str] | None = None,
) -> tuple[ValueLabel, ...]:
    """Every value with its Stata code and label, in code order (see columns.py for the order).

    Text values get codes 1, 2, ... in the order fixed labels, lookup values (sorted), extra
    labels, other values seen in the data (sorted). Integer values keep their own value.
    """
    ordered: list[tuple[str | int, str, str]] = []
    seen: set[str | int] = set()

    def add(value, label, origin):
        if value not in seen:
            seen.add(value)
            ordered.append((value, label, origin))

    for value, label in column.labels:
        add(value, label, "fixed")
    for value in sorted(lookup or {}, key=str):
        add(value, (lookup or {})[value], "lookup")
    for value, label in column.extra_labels:
        add(value, label, "extra")
    for value in sorted(counts, key=str):
        add(value, str(value), "data")
    out = []
    for i, (value, label, origin) in enumerate(ordered, start=1):
        if column.type == INTEGER:
            code = int(value)
        else:
            code = i
        out.append(ValueLabel(value, code, label, int(counts.get(value, 0)), origin))
    return tuple(out)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def profile_table(
    con: duckdb.DuckDBPyConnection, table: ExtractTable, release_id: str
) -> TableProfile:
    """Row count, missing counts, text lengths and coded value counts of one release's extract."""
    types = mart_columns(con, table.mart)
    undocumented, excluded = check_mart(table, types)
    where = f"FROM {table.mart} WHERE release_id = ?"
    exprs = ["count(*)"]
    for c in table.columns:
        exprs.append(f"count(*) FILTER (WHERE {_q(c.name)} IS NULL)")
        if c.type == TEXT:
            exprs.append(f"max(length({_q(c.name)}))")
        elif c.type == TEXT_LIST:
            exprs.append(f"max(length(array_to_string({_q(c.name)}, '{LIST_SEPARATOR}')))")
    stats = con.execute(f"SELECT {', '.join(exprs)} {where}", [release_id]).fetchall()[0]
    rows = int(stats[0])
    i = 1
    profiles = []
    for c in table.columns:
        missing = int(stats[i])
        i += 1
        max_len = None
        if c.type in (TEXT, TEXT_LIST):
            max_len = int(stats[i] or 0)
            i += 1
        values: tuple[ValueLabel, ...] = ()
        if c.type == BOOLEAN:
            n_true, n_false = con.execute(
                f"SELECT count(*) FILTER (WHERE {_q(c.name)}), "
                f"count(*) FILTER (WHERE NOT {_q(c.name)}) {where}",
                [release_id],
            ).fetchall()[0]
            (no, no_label), (yes, yes_label) = BOOLEAN_LABELS
            values = (
                ValueLabel("false", no, no_label, int(n_false), "fixed"),
                ValueLabel("true", yes, yes_label, int(n_true), "fixed"),
            )
        elif c.categorical:
            counts = dict(
                con.execute(
                    f"SELECT {_q(c.name)}, count(*) {where} AND {_q(c.name)} IS NOT NULL "
                    f"GROUP BY ALL",
                    [release_id],
                ).fetchall()
            )
            lookup = lookup_labels(con, c.lookup, release_id) if c.lookup else None
            values = assign_codes(c, counts, lookup)
        profiles.append(ColumnProfile(c, types[c.name], rows, missing, max_len, values))
    return TableProfile(table, rows, tuple(profiles), tuple(undocumented), excluded)


# --- rendering --------------------------------------------------------------------------------


def _suppressed_counts(counts: Sequence[int], threshold: int) -> list[str]:
    """Counts as printed: small ones as "<10", a complementary one as "(s)"."""
    if not counts:
        return []
    frame = suppress(pl.DataFrame({"count": list(counts)}), ["count"], threshold)
    kinds = suppression_kinds(frame, "count")
    return [cell_marker(kind, threshold) or f"{n:,}" for kind, n in zip(kinds, counts, strict=True)]


def value_rows(profile: ColumnProfile, threshold: int) -> list[dict[str, str]]:
    """The codebook's rows for one categorical column, missing last, counts suppressed."""
    values = profile.codebook_values()
    counts = [v.count for v in values] + [profile.missing]
    printed = _suppressed_counts(counts, threshold)
    rows = [
        {"value": str(v.value), "stata_code": str(v.code), "label": v.label, "count": p}
        for v, p in zip(values, printed, strict=False)
    ]
    rows.append({"value": MISSING_VALUE, "stata_code": ".", "label": "", "count": printed[-1]})
    return rows


def missing_text(profile: ColumnProfile, threshold: int) -> str:
    if 0 < profile.missing < threshold:
        return f"<{threshold} rows"
    return f"{100 * profile.share_missing:.1f}%"


def type_text(column: Column) -> str:
    if column.categorical:
        return f"{column.type}, categorical"
    return column.type


def _md(text: object) -> str:
    # Labels come from the release's lookups: escaped so no label becomes HTML or a link.
    from pipelines.tables.export import md_escape

    return md_escape(str(text))


def codebook_markdown(
    profiles: Sequence[TableProfile],
    header: Sequence[str],
    stata_names: Mapping[str, Mapping[str, str]],
    threshold: int,
    skipped: Mapping[str, str] | None = None,
    files: Mapping[str, Sequence[str]] | None = None,
) -> str:
    """The whole codebook as Markdown. `header`: provenance and privacy lines, printed first."""
    out = [*header, ""]
    out += ["## Extracts", "", "| extract | rows | columns | files |", "|---|---|---|---|"]
    for p in profiles:
        names = ", ".join((files or {}).get(p.table.name, []))
        out.append(f"| {p.table.name} | {p.rows:,} | {len(p.columns)} | {names} |")
    for name, reason in (skipped or {}).items():
        out.append(f"| {name} | not extracted: {_md(reason)} | | |")
    for p in profiles:
        t = p.table
        names = stata_names.get(t.name, {})
        out += [
            "",
            f"## {t.name}: {t.title}",
            "",
            t.description,
            "",
            f"Mart `{t.mart}`; {p.rows:,} rows; rows ordered by `{t.order_by}`.",
            "",
            "| column | Stata name | type | label | definition | source | missing |",
            "|---|---|---|---|---|---|---|",
        ]
        for cp in p.columns:
            c = cp.column
            out.append(
                f"| `{c.name}` | `{names.get(c.name, c.name)}` | {type_text(c)} | {_md(c.label)} "
                f"| {_md(c.definition)} | {_md(c.source)} | {missing_text(cp, threshold)} |"
            )
        if p.excluded:
            out += ["", "Not extracted: " + "; ".join(
                f"`{c}` ({_md(r)})" for c, r in sorted(p.excluded.items())
            ) + "."]  # fmt: skip
        if p.undocumented:
            out += [
                "",
                "Mart columns without a definition in pipelines/extracts/columns.py (not "
                "extracted): " + ", ".join(f"`{c}`" for c in p.undocumented) + ".",
            ]
        for cp in p.columns:
            if not cp.values:
                continue
            out += ["", f"### `{t.name}.{cp.column.name}`", ""]
            if cp.column.type == BOOLEAN:
                out += ["true/false in parquet and CSV; 0/1 labelled No/Yes in Stata.", ""]
            rows = value_rows(cp, threshold)
            out += ["| value | Stata code | label | count |", "|---|---|---|---|"]
            out += [
                f"| {_md(r['value'])} | {r['stata_code']} | {_md(r['label'])} | {r['count']} |"
                for r in rows
            ]
    return "\n".join(out) + "\n"


def codebook_frames(
    profiles: Sequence[TableProfile],
    stata_names: Mapping[str, Mapping[str, str]],
    threshold: int,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(one row per column, one row per categorical value) for the CSV codebook."""
    cols, vals = [], []
    for p in profiles:
        names = stata_names.get(p.table.name, {})
        for cp in p.columns:
            c = cp.column
            small = 0 < cp.missing < threshold
            cols.append(
                {
                    "extract": p.table.name,
                    "column": c.name,
                    "stata_name": names.get(c.name, c.name),
                    "type": c.type,
                    "categorical": c.categorical,
                    "label": c.label,
                    "definition": c.definition,
                    "source": c.source,
                    "rows": p.rows,
                    "missing": f"<{threshold}" if small else str(cp.missing),
                    "share_missing": None if small else round(cp.share_missing, 6),
                }
            )
            if cp.values:
                rows = value_rows(cp, threshold)
                vals += [{"extract": p.table.name, "column": c.name, **r} for r in rows]
    schema_vals = {
        k: pl.String for k in ("extract", "column", "value", "stata_code", "label", "count")
    }
    return pl.DataFrame(cols), pl.DataFrame(vals, schema=schema_vals)
