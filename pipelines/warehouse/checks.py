"""Data checks declared beside each SQL model, and their evaluation (Dagster-free).

A model `sql/<schema>/<table>.sql` may have a sidecar `sql/<schema>/<table>.checks.yaml`:

    checks:
      - name: unique_idnproceeding
        description: One row per proceeding; a duplicate would count a closure twice.
        unique: [idnproceeding]          # or not_null: col | references: {...} | sql: SELECT ...
        severity: error                  # error | warn: how a failure is reported
        blocking: true                   # downstream assets do not run when it fails
        mutation: UPDATE ...             # how the tests break the table so that it fails

Every check measures `failing` rows out of `total`. Without thresholds it passes when nothing
fails. With `warn_above` / `stop_above` (fractions of `total`, for checks that measure a rate) it
passes at or below `warn_above`, warns above it and fails as an error above `stop_above`.

A `sql:` check is a query whose first column is the number of failing rows (`failing`) and which
may return `total` for a rate; its other columns become the check's metadata. It reads the run's
settings with `getvariable('release_id')`, `getvariable('window_start')`, ... which the session
binds with `SET VARIABLE` (a bound parameter), exactly as the model itself reads them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import yaml

from pipelines.warehouse.schema import quote

KINDS = ("unique", "not_null", "references", "sql")
SEVERITIES = ("error", "warn")
_KEYS = {
    "name",
    "description",
    "severity",
    "blocking",
    "warn_above",
    "stop_above",
    "mutation",
    *KINDS,
}


class CheckDeclarationError(ValueError):
    """A sidecar that does not say what a check needs (one line naming the file and check)."""


@dataclass(frozen=True)
class Check:
    name: str
    description: str
    kind: str
    args: tuple[
        str, ...
    ]  # unique: columns; not_null: (column,); references: (col, s.t.c); sql: (query,)
    severity: str = "error"
    blocking: bool = False
    warn_above: float | None = None
    stop_above: float | None = None
    mutation: str | None = None  # SQL that makes this check fail on a built partition (tests)
    source: str = ""  # the sidecar, repository-relative

    @property
    def reads(self) -> tuple[str, ...]:
        """Other tables the check reads (a foreign key's target must be built first)."""
        if self.kind == "references":
            return (".".join(self.args[1].split(".")[:2]),)
        return ()


@dataclass(frozen=True)
class CheckOutcome:
    passed: bool
    severity: str  # error | warn
    metadata: dict


def sidecar_path(model_path: Path) -> Path:
    return model_path.with_name(model_path.stem + ".checks.yaml")


def load_checks(model_path: Path, repo_root: Path | None = None) -> tuple[Check, ...]:
    """The checks declared beside `sql/<schema>/<table>.sql` (none when it has no sidecar)."""
    path = sidecar_path(model_path)
    if not path.exists():
        return ()
    rel = str(path.relative_to(repo_root)) if repo_root else str(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as e:
        raise CheckDeclarationError(f"{rel}: not valid YAML ({str(e).splitlines()[0]})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("checks"), list):
        raise CheckDeclarationError(f"{rel}: expected a mapping with a `checks:` list")
    checks = [_parse(rel, i, c) for i, c in enumerate(doc["checks"], 1)]
    names = [c.name for c in checks]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise CheckDeclarationError(f"{rel}: check name {dup[0]} is declared twice")
    return tuple(checks)


def _parse(rel: str, i: int, raw: object) -> Check:
    where = f"{rel}, check {i}"
    if not isinstance(raw, dict):
        raise CheckDeclarationError(f"{where}: expected a mapping")
    unknown = sorted(set(raw) - _KEYS)
    if unknown:
        raise CheckDeclarationError(f"{where}: unknown key {unknown[0]!r} (known: {sorted(_KEYS)})")
    name = raw.get("name")
    if not name or not str(name).isidentifier():
        raise CheckDeclarationError(f"{where}: `name` must be an identifier, got {name!r}")
    where = f"{rel}, check {name}"
    description = str(raw.get("description") or "").strip()
    if not description:
        raise CheckDeclarationError(f"{where}: `description` is required (what fails and why)")
    kinds = [k for k in KINDS if k in raw]
    if len(kinds) != 1:
        raise CheckDeclarationError(f"{where}: give exactly one of {', '.join(KINDS)}")
    kind = kinds[0]
    value = raw[kind]
    if kind == "unique":
        args = tuple(value if isinstance(value, list) else [value])
    elif kind == "not_null":
        args = (str(value),)
    elif kind == "references":
        if not isinstance(value, dict) or set(value) != {"column", "target"}:
            raise CheckDeclarationError(
                f"{where}: references needs {{column: col, target: schema.table.column}}"
            )
        if len(str(value["target"]).split(".")) != 3:
            raise CheckDeclarationError(f"{where}: target must be schema.table.column")
        args = (str(value["column"]), str(value["target"]))
    else:
        args = (str(value).strip().rstrip(";"),)
    severity = raw.get("severity", "error")
    if severity not in SEVERITIES:
        raise CheckDeclarationError(f"{where}: severity must be error or warn, got {severity!r}")
    blocking = bool(raw.get("blocking", False))
    if blocking and severity != "error":
        raise CheckDeclarationError(f"{where}: a blocking check must have severity error")
    warn, stop = raw.get("warn_above"), raw.get("stop_above")
    for label, v in (("warn_above", warn), ("stop_above", stop)):
        if v is not None and not (isinstance(v, (int, float)) and 0 <= v <= 1):
            raise CheckDeclarationError(f"{where}: {label} is a fraction in [0, 1], got {v!r}")
    if (warn is None) != (stop is None):
        raise CheckDeclarationError(f"{where}: give both warn_above and stop_above, or neither")
    if warn is not None and warn > stop:
        raise CheckDeclarationError(f"{where}: warn_above ({warn}) exceeds stop_above ({stop})")
    return Check(
        name=str(name),
        description=description,
        kind=kind,
        args=tuple(str(a) for a in args),
        severity=severity,
        blocking=blocking,
        warn_above=None if warn is None else float(warn),
        stop_above=None if stop is None else float(stop),
        mutation=(str(raw["mutation"]).strip() or None) if raw.get("mutation") else None,
        source=rel,
    )


def _measure(con: duckdb.DuckDBPyConnection, table: str, check: Check) -> dict:
    """`failing`, `total` and the check's own figures for the partition in `release_id`."""
    rid = "getvariable('release_id')"
    if check.kind == "unique":
        cols = ", ".join(quote(c) for c in check.args)
        dup_keys, dup_rows, total = con.execute(
            f"SELECT count(*) FILTER (WHERE n > 1), coalesce(sum(n) FILTER (WHERE n > 1), 0), "
            f"coalesce(sum(n), 0) FROM (SELECT {cols}, count(*) AS n FROM {table} "
            f"WHERE release_id = {rid} GROUP BY ALL)"
        ).fetchall()[0]
        return {
            "failing": int(dup_rows),
            "total": int(total),
            "duplicated_keys": int(dup_keys),
            "rows_with_duplicated_keys": int(dup_rows),
        }
    if check.kind == "not_null":
        col = quote(check.args[0])
        n, total = con.execute(
            f"SELECT count(*) FILTER (WHERE {col} IS NULL), count(*) FROM {table} "
            f"WHERE release_id = {rid}"
        ).fetchall()[0]
        return {"failing": int(n), "total": int(total), "null_rows": int(n)}
    if check.kind == "references":
        col = quote(check.args[0])
        ts, tt, tc = check.args[1].split(".")
        orphans, total = con.execute(
            f"SELECT count(*) FILTER (WHERE x.{col} IS NOT NULL AND y.k IS NULL), count(*) "
            f"FROM {table} x LEFT JOIN (SELECT DISTINCT {quote(tc)} AS k FROM {ts}.{tt} "
            f"WHERE release_id = {rid}) y ON x.{col} = y.k WHERE x.release_id = {rid}"
        ).fetchall()[0]
        return {"failing": int(orphans), "total": int(total), "orphans": int(orphans)}
    res = con.execute(check.args[0])
    names = [d[0] for d in res.description]
    rows = res.fetchall()
    if len(rows) != 1:
        raise CheckDeclarationError(
            f"{check.source}, check {check.name}: the query must return one row, got {len(rows)}"
        )
    meta = {
        n: (v if isinstance(v, (int, float, str, bool)) or v is None else str(v))
        for n, v in zip(names, rows[0], strict=True)
    }
    meta["failing"] = int(rows[0][0] or 0)
    return meta


def evaluate(
    con: duckdb.DuckDBPyConnection, table: str, check: Check, release_id: str
) -> CheckOutcome:
    """Run one check on `release_id`'s rows of `table` (schema.table)."""
    con.execute("SET VARIABLE release_id = ?", [release_id])
    meta = _measure(con, table, check)
    failing = meta["failing"]
    if check.warn_above is None:
        return CheckOutcome(failing == 0, check.severity, meta)
    total = meta.get("total") or 0
    share = failing / total if total else 0.0
    meta.update(share=round(share, 6), warn_above=check.warn_above, stop_above=check.stop_above)
    if share <= check.warn_above:
        return CheckOutcome(True, check.severity, meta)
    return CheckOutcome(False, "error" if share > check.stop_above else "warn", meta)
