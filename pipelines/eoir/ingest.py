"""Load one EOIR table into `raw.<Table>`, with every line accounted for.

Per table: decode the file to clean UTF-8 (`decode`), read every line as one text column with
DuckDB (its CSV reader keeps the file order, so a row's position is its source line), split on
TAB in SQL, and sort lines into: loaded as-is; repaired (trailing empty fields trimmed, short
rows padded with NULL, tab shifts merged by `repair`); rejected (blank lines, invalid primary
keys, unrepairable shifts) into `raw.rejects` with line number, reason and the raw text.
`raw.load_audit` gets one row per table; loaded + repaired + rejected = lines read, and lines
read should equal the table's row count in Count.txt. Only the few anomalous lines ever reach
Python; the bulk is vectorised SQL. Everything for one table is written in one transaction.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb

from pipelines.eoir.archive import Member, Release, ReleaseError
from pipelines.eoir.columns import TableSpec, generic_spec, map_header
from pipelines.eoir.decode import decode_bytes, decode_stream
from pipelines.eoir.repair import fits_sql, repair_row

log = logging.getLogger(__name__)

AUDIT_DDL = """
CREATE TABLE IF NOT EXISTS raw.load_audit (
    release_id VARCHAR, source_table VARCHAR, source_file VARCHAR, count_txt_rows BIGINT,
    lines_read BIGINT, loaded_as_is BIGINT, repaired BIGINT, rejected BIGINT,
    reconciled BOOLEAN, unknown_columns VARCHAR, missing_columns VARCHAR,
    nul_bytes_stripped BIGINT, latin1_fallback_bytes BIGINT, bytes_read BIGINT,
    seconds DOUBLE, loaded_at TIMESTAMP DEFAULT current_timestamp)
"""
REJECTS_DDL = """
CREATE TABLE IF NOT EXISTS raw.rejects (
    release_id VARCHAR, source_table VARCHAR, source_file VARCHAR, source_line BIGINT,
    reason VARCHAR, raw_text VARCHAR)
"""
REPAIRS_DDL = """
CREATE TABLE IF NOT EXISTS raw.repairs (
    release_id VARCHAR, source_table VARCHAR, source_line BIGINT, repair VARCHAR)
"""


@dataclass
class TableAudit:
    release_id: str
    source_table: str
    source_file: str
    count_txt_rows: int | None
    lines_read: int
    loaded_as_is: int
    repaired: int
    rejected: int
    unknown_columns: list[str] = field(default_factory=list)
    missing_columns: list[str] = field(default_factory=list)
    renamed_columns: dict[str, str] = field(default_factory=dict)
    nul_bytes_stripped: int = 0
    latin1_fallback_bytes: int = 0
    bytes_read: int = 0
    seconds: float = 0.0
    repairs_by_kind: dict[str, int] = field(default_factory=dict)
    rejects_by_reason: dict[str, int] = field(default_factory=dict)

    @property
    def accounted(self) -> bool:
        return self.loaded_as_is + self.repaired + self.rejected == self.lines_read

    @property
    def reconciled(self) -> bool | None:
        if self.count_txt_rows is None:
            return None
        return self.accounted and self.lines_read == self.count_txt_rows

    def as_dict(self) -> dict:
        d = asdict(self)
        d["accounted"] = self.accounted
        d["reconciled"] = self.reconciled
        return d


def _ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    for ddl in (AUDIT_DDL, REJECTS_DDL, REPAIRS_DDL):
        con.execute(ddl)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def ingest_table(
    con: duckdb.DuckDBPyConnection,
    release: Release,
    member: Member,
    spec: TableSpec | None,
    tmp_dir: Path,
    progress: Callable[[int], None] | None = None,
) -> TableAudit:
    """Load `member` of `release` into raw.<member.name> (replacing this release's rows)."""
    t0 = time.perf_counter()
    release_id = release.release_id
    where = f"{release.source}:{member.path}" if release.is_zip else member.path
    tmp_dir.mkdir(parents=True, exist_ok=True)
    tmp = tmp_dir / f"{release_id}.{member.name}.utf8.tsv"
    with release.open(member) as fh:
        stats = decode_stream(fh, tmp, progress)
    try:
        return _load_decoded(con, release, member, spec, tmp, stats, where, t0)
    finally:
        tmp.unlink(missing_ok=True)


def _columns_for(spec: TableSpec, columns: list[str], table: str) -> tuple:
    """The spec of each column in file order (unknown columns are free text)."""
    by_name = {c.name: c for c in spec.columns}
    return tuple(by_name.get(name) or generic_spec(table, [name]).columns[0] for name in columns)


def _read_header(tmp: Path, where: str) -> list[str]:
    with open(tmp, "rb") as f:
        first = f.readline(1 << 20)
    if not first.strip():
        raise ReleaseError(
            f"{where}: the file is empty (no header line). Re-download the release; if EOIR "
            "published it empty, remove the table from the run."
        )
    header = first.decode("utf-8").rstrip("\n").rstrip("\r").split("\t")
    if len(header) < 2:
        raise ReleaseError(
            f"{where} line 1: no TAB in the header ({first[:60]!r}...). EOIR tables are "
            "tab-delimited text: this file is something else (check it is the right file)."
        )
    return header


def _load_decoded(con, release, member, spec, tmp, stats, where, t0) -> TableAudit:
    release_id = release.release_id
    table = member.name
    header = _read_header(tmp, where)
    spec = spec or generic_spec(table, header)
    mapping = map_header(header, spec)
    n = len(header)
    columns = mapping.file_columns
    pk = spec.primary_key
    pk_pos = columns.index(pk) + 1 if pk in columns else None
    if pk and pk_pos is None:
        raise ReleaseError(
            f"{where} line 1: the primary key column {pk} is not in the header {header[:6]}... "
            "EOIR may have renamed it: add the new name as an alias in data/reference/eoir_columns.csv."
        )
    _ensure_tables(con)
    target = f"raw.{_q(table)}"

    # Every line split on TAB, in file order (DuckDB keeps insertion order): rowid 0 is the header,
    # so rowid + 1 is the source line. One materialization only: the status of a line is a view
    # computed again by each query below, which is cheaper than a second copy of 16.5M rows.
    con.execute("DROP VIEW IF EXISTS __classified")
    con.execute("DROP TABLE IF EXISTS __fields")
    con.execute(
        "CREATE TEMP TABLE __fields AS SELECT string_split(rtrim(line, chr(13)), chr(9)) AS f "
        "FROM read_csv(?, columns={'line': 'VARCHAR'}, delim=chr(1), quote='', escape='', "
        "header=false, auto_detect=false, new_line='\\n', max_line_size=10000000)",
        [str(tmp)],
    )
    pk_ok = f"regexp_full_match(trim(f[{pk_pos}]), '\\d+')" if pk_pos else "true"
    col_specs = _columns_for(spec, columns, table)
    # Trimming trailing empty fields or padding a short row is only right when every field then
    # sits in a column of its shape: an empty field inserted mid-row (B_TblProceeding, [DD]) also
    # makes a row one field too long, with an empty last field. Rows that fail go to `repair`.
    fits_all = " AND ".join(fits_sql(f"f[{i + 1}]", c) for i, c in enumerate(col_specs)) or "true"
    con.execute(
        f"""
        CREATE TEMP VIEW __classified AS
        SELECT source_line, f, k, CASE
            WHEN f IS NULL OR (k = 1 AND trim(f[1]) = '') THEN 'reject:blank line'
            WHEN NOT ({pk_ok}) THEN 'reject:invalid primary key'
            WHEN k = {n} THEN 'ok'
            WHEN k > {n} AND len(list_filter(f[{n + 1}:], lambda x: x <> '')) = 0 AND ({fits_all})
                THEN 'repair:trailing_empty_trimmed'
            WHEN k < {n} AND ({fits_all}) THEN 'repair:short_row_padded'
            WHEN k < {n} THEN 'reject:short row with fields out of place'
            ELSE 'anomalous' END AS status
        FROM (SELECT rowid + 1 AS source_line, f, len(f) AS k FROM __fields WHERE rowid > 0)
        """
    )
    # One scan decides every line; only the lines that are not plainly 'ok' are kept (a handful in
    # a 12.7M-row table), so the queries below never evaluate the status again.
    con.execute("DROP TABLE IF EXISTS __status")
    con.execute(
        "CREATE TEMP TABLE __status AS SELECT source_line, status, "
        "CASE WHEN status = 'anomalous' OR status LIKE 'reject:%' THEN f END AS f "
        "FROM __classified WHERE status <> 'ok'"
    )
    lines_total = con.execute("SELECT count(*) - 1 FROM __fields").fetchall()[0][0]
    # Only rows that need judgement come to Python: they are few (about 100 in a 12.7M-row table).
    anomalous = con.execute(
        "SELECT source_line, f FROM __status WHERE status = 'anomalous' ORDER BY source_line"
    ).fetchall()
    repaired_rows: list[list] = []
    repair_log: list[tuple] = []
    rejects: list[tuple] = []
    for source_line, fields in anomalous:
        r = repair_row(list(fields), col_specs)
        if r.ok:
            repaired_rows.append([release_id, source_line, *r.values])
            repair_log.append((release_id, table, source_line, r.detail))
        else:
            rejects.append(
                (release_id, table, member.path, source_line, r.detail, "\t".join(fields))
            )

    select_cols = ", ".join(f"f[{i + 1}] AS {_q(c)}" for i, c in enumerate(columns))
    missing_cols = "".join(f", NULL::VARCHAR AS {_q(c)}" for c in mapping.missing)
    # Every line but the rejected and the anomalous ones, straight from __fields (an anti-join on
    # the few excluded line numbers).
    bulk = (
        f"SELECT ?::VARCHAR AS release_id, source_line, {select_cols}{missing_cols} "
        "FROM (SELECT rowid + 1 AS source_line, f FROM __fields WHERE rowid > 0) "
        "WHERE source_line NOT IN (SELECT source_line FROM __status "
        "WHERE status = 'anomalous' OR status LIKE 'reject:%')"
    )
    con.execute("BEGIN TRANSACTION")
    try:
        exists = con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema='raw' AND table_name=?",
            [table],
        ).fetchall()[0][0]
        if not exists:
            con.execute(f"CREATE TABLE {target} AS {bulk} LIMIT 0", [release_id])
        else:
            have = {r[0].upper() for r in con.execute(f"DESCRIBE {target}").fetchall()}
            for c in [*columns, *mapping.missing]:
                if c.upper() not in have:
                    con.execute(f"ALTER TABLE {target} ADD COLUMN {_q(c)} VARCHAR")
            con.execute(f"DELETE FROM {target} WHERE release_id = ?", [release_id])
        # __fields is in file order already (DuckDB keeps insertion order): no sort needed.
        con.execute(f"INSERT INTO {target} BY NAME {bulk}", [release_id])
        if repaired_rows:
            names = ["release_id", "source_line", *columns]
            placeholders = ", ".join("?" for _ in names)
            con.executemany(
                f"INSERT INTO {target} ({', '.join(_q(c) for c in names)}) VALUES ({placeholders})",
                repaired_rows,
            )
        for t in ("raw.rejects", "raw.repairs", "raw.load_audit"):
            con.execute(
                f"DELETE FROM {t} WHERE release_id = ? AND source_table = ?", [release_id, table]
            )
        con.execute(
            """INSERT INTO raw.rejects SELECT ?, ?, ?, source_line, substr(status, 8),
                   coalesce(array_to_string(f, chr(9)), '') FROM __status WHERE status LIKE 'reject:%'""",
            [release_id, table, member.path],
        )
        if rejects:
            con.executemany("INSERT INTO raw.rejects VALUES (?, ?, ?, ?, ?, ?)", rejects)
        con.execute(
            """INSERT INTO raw.repairs SELECT ?, ?, source_line, substr(status, 8)
               FROM __status WHERE status LIKE 'repair:%'""",
            [release_id, table],
        )
        if repair_log:
            con.executemany("INSERT INTO raw.repairs VALUES (?, ?, ?, ?)", repair_log)
        counts = dict(
            con.execute(
                "SELECT CASE WHEN status LIKE 'reject:%' THEN 'rejected' WHEN status LIKE 'repair:%' "
                "THEN 'repaired' ELSE status END, count(*) FROM __status GROUP BY ALL"
            ).fetchall()
        )
        counts["ok"] = lines_total - sum(counts.values())
        lines_read = lines_total
        audit = TableAudit(
            release_id=release_id,
            source_table=table,
            source_file=member.path,
            count_txt_rows=release.count_txt.get(table.lower()),
            lines_read=lines_read,
            loaded_as_is=counts.get("ok", 0),
            repaired=counts.get("repaired", 0) + len(repaired_rows),
            rejected=counts.get("rejected", 0) + len(rejects),
            unknown_columns=mapping.unknown,
            missing_columns=mapping.missing,
            renamed_columns=mapping.renamed,
            nul_bytes_stripped=stats.nul_bytes,
            latin1_fallback_bytes=stats.latin1_fallback_bytes,
            bytes_read=stats.bytes_in,
        )
        audit.repairs_by_kind = dict(
            con.execute(
                "SELECT split_part(repair, ':', 1) AS kind, count(*) FROM raw.repairs "
                "WHERE release_id = ? AND source_table = ? GROUP BY ALL ORDER BY 1",
                [release_id, table],
            ).fetchall()
        )
        audit.rejects_by_reason = dict(
            con.execute(
                "SELECT split_part(reason, ':', 1) AS r, count(*) FROM raw.rejects "
                "WHERE release_id = ? AND source_table = ? GROUP BY ALL ORDER BY 1",
                [release_id, table],
            ).fetchall()
        )
        audit.seconds = time.perf_counter() - t0
        con.execute(
            "INSERT INTO raw.load_audit VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?, current_timestamp)",
            [
                release_id,
                table,
                member.path,
                audit.count_txt_rows,
                audit.lines_read,
                audit.loaded_as_is,
                audit.repaired,
                audit.rejected,
                audit.reconciled,
                json.dumps(audit.unknown_columns),
                json.dumps(audit.missing_columns),
                audit.nul_bytes_stripped,
                audit.latin1_fallback_bytes,
                audit.bytes_read,
                audit.seconds,
            ],
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        con.execute("DROP TABLE IF EXISTS __status")
        con.execute("DROP VIEW IF EXISTS __classified")
        con.execute("DROP TABLE IF EXISTS __fields")
    return audit


def read_lookup_text(release: Release, member: Member) -> str:
    """A lookup's whole text, decoded like the core tables (lookups are small)."""
    with release.open(member) as fh:
        return decode_bytes(fh.read())


def ensure_lookup_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Make every required lookup table exist with the columns staging reads."""
    from pipelines.eoir.columns import REQUIRED_LOOKUPS

    for name, cols in REQUIRED_LOOKUPS.items():
        target = f"raw.{_q(name)}"
        con.execute(
            f"CREATE TABLE IF NOT EXISTS {target} (release_id VARCHAR, source_line BIGINT, "
            + ", ".join(f"{_q(c)} VARCHAR" for c in cols)
            + ")"
        )
        have = {r[0].upper() for r in con.execute(f"DESCRIBE {target}").fetchall()}
        for c in cols:
            if c not in have:
                con.execute(f"ALTER TABLE {target} ADD COLUMN {_q(c)} VARCHAR")
