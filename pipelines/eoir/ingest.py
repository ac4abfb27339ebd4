"""Load one EOIR table into `raw.<Table>`, with every line accounted for.

Per table: clean the file to UTF-8 (`decode`: cp1252, NUL bytes, CRLF; it also notes the blank
lines and the line count), then let DuckDB's parallel CSV reader split it on TAB into one text
column per header column plus a few spare columns (`null_padding`, so a short row ends in NULLs
and a row with an extra field fills a spare column; an empty field stays ''). Lines that DuckDB
refuses (more fields than the spares hold, longer than `MAX_LINE_BYTES`) come back from its
rejects table with their line numbers. Lines are sorted into: loaded as-is; repaired (trailing
empty fields trimmed, short rows padded with NULL, tab shifts merged by `repair`); rejected
(blank lines, invalid primary keys, over-long lines, unrepairable shifts) into `raw.rejects`
with line number, reason and the raw text. `raw.load_audit` gets one row per table; loaded +
repaired + rejected = lines read, and lines read should equal the table's row count in
Count.txt. Only the few anomalous lines ever reach Python; the bulk never leaves DuckDB.
Everything for one table is written in one transaction.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb

from pipelines.eoir.archive import INGESTED, UNREADABLE, Member, Release, ReleaseError
from pipelines.eoir.columns import KNOWN_LOOKUPS, TableSpec, generic_spec, map_header
from pipelines.eoir.decode import (
    LONE_CR_PLACEHOLDER,
    DiskFullError,
    EncodingError,
    decode_bytes,
    decode_stream,
)
from pipelines.eoir.limits import MAX_LINE_BYTES
from pipelines.eoir.repair import MAX_EXTRA_FIELDS, fits, fits_sql, repair_row
from pipelines.settings import SQL_DIR

log = logging.getLogger(__name__)

# Spare columns after the header's: a row with up to this many extra fields is split by DuckDB
# and judged in SQL; a longer one is refused by the reader and judged in Python. One more than
# the repair can merge, so every repairable row stays on the fast path.
SPARE_COLUMNS = MAX_EXTRA_FIELDS + 1
# How much of an over-long or unreadable line raw.rejects keeps.
REJECT_TEXT_CHARS = 2000


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
    # Where the time went: decode (clean to UTF-8), read (DuckDB's reader), classify, insert.
    phase_seconds: dict[str, float] = field(default_factory=dict)
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


# The accounting tables every ingest writes (sql/ingest/*.sql).
ACCOUNTING_TABLES = ("load_audit", "rejects", "repairs", "release_members")


def _ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    for name in ACCOUNTING_TABLES:
        con.execute((SQL_DIR / "ingest" / f"{name}.sql").read_text(encoding="utf-8"))


def record_members(con: duckdb.DuckDBPyConnection, release: Release) -> None:
    """List every member of `release` in raw.release_members (outcomes already there are kept)."""
    _ensure_tables(con)
    con.executemany(
        "INSERT INTO raw.release_members VALUES (?, ?, ?, ?, ?, ?, ?, ?, current_timestamp) "
        "ON CONFLICT DO NOTHING",
        [
            (
                release.release_id,
                e.path,
                e.kind,
                e.size,
                e.compressed_size,
                e.table,
                e.action,
                e.detail,
            )
            for e in release.entries
        ],
    )


def _set_member_outcome(con, release: Release, member: Member, action: str, detail: str) -> None:
    con.execute(
        "UPDATE raw.release_members SET action = ?, detail = ?, listed_at = current_timestamp "
        "WHERE release_id = ? AND member = ?",
        [action, detail, release.release_id, release.shown(member)],
    )


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
    _ensure_tables(con)
    record_members(con, release)
    try:
        audit = _ingest_table(con, release, member, spec, tmp_dir, progress)
    except ReleaseError as exc:
        _set_member_outcome(con, release, member, UNREADABLE, str(exc))
        raise
    _set_member_outcome(
        con,
        release,
        member,
        INGESTED,
        f"raw.{member.name}: {audit.lines_read:,} lines, {audit.loaded_as_is:,} as-is, "
        f"{audit.repaired:,} repaired, {audit.rejected:,} rejected",
    )
    return audit


def _ingest_table(con, release, member, spec, tmp_dir, progress) -> TableAudit:
    t0 = time.perf_counter()
    release_id = release.release_id
    where = f"{release.source}:{member.path}" if release.is_zip else member.path
    tmp_dir.mkdir(parents=True, exist_ok=True)
    tmp = tmp_dir / f"{release_id}.{member.name}.utf8.tsv"
    try:
        with release.open(member) as fh:
            stats = decode_stream(fh, tmp, progress)
        stats.decode_seconds = time.perf_counter() - t0
    except EncodingError as exc:
        raise ReleaseError(
            f"{where}: the file is {exc} text (it starts with that byte-order mark), not the "
            "cp1252 text EOIR publishes. Re-download the release, or convert the file back "
            "to Windows-1252 with the same tab-separated layout."
        ) from exc
    except DiskFullError as exc:
        raise ReleaseError(
            f"{where}: the temp directory {tmp_dir} filled up while decoding this table "
            f"(it needs about {member.size / 1e6:,.0f} MB free; {exc.strerror}). The partial "
            "file was removed: free space there or point PD_TEMP_DIR at a larger disk."
        ) from exc
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
    header = first.decode("utf-8").rstrip("\n").split("\t")
    if len(header) < 2:
        raise ReleaseError(
            f"{where} line 1: no TAB in the header ({first[:60]!r}...). EOIR tables are "
            "tab-delimited text: this file is something else (check it is the right file)."
        )
    return header


_DIGITS = re.compile(r"[0-9]+")


def _line_status(fields: list[str], col_specs: tuple, pk_pos: int | None) -> str:
    """The SQL status rule of `_load_decoded`, for the few lines DuckDB hands back whole."""
    n, k = len(col_specs), len(fields)
    if k == 1 and fields[0].strip() == "":
        return "reject:blank line"
    if pk_pos is not None and pk_pos <= k and not _DIGITS.fullmatch(fields[pk_pos - 1].strip(" ")):
        return "reject:invalid primary key"
    if k == n:
        return "ok"

    def fits_all() -> bool:
        return all(fits(v, c) for v, c in zip(fields, col_specs, strict=False))

    if k > n and not any(fields[n:]) and fits_all():
        return "repair:trailing_empty_trimmed"
    if k < n:
        return (
            "repair:short_row_padded" if fits_all() else "reject:short row with fields out of place"
        )
    return "anomalous"


def _load_decoded(con, release, member, spec, tmp, stats, where, t0) -> TableAudit:
    release_id = release.release_id
    table = member.name
    header = _read_header(tmp, where)
    spec = spec or generic_spec(table, header)
    try:
        mapping = map_header(header, spec)
    except ValueError as exc:
        raise ReleaseError(f"{where} line 1: {exc}. Check that this is an EOIR table.") from exc
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
    width = n + SPARE_COLUMNS
    col = [f"c{i}" for i in range(1, width + 1)]  # c1..cn the header's columns, then the spares

    _drop_scratch(con)
    pk_ok = f"coalesce(regexp_full_match(trim(c{pk_pos}), '\\d+'), false)" if pk_pos else "true"
    col_specs = _columns_for(spec, columns, table)
    spares = col[n:]
    # DuckDB's parallel reader keeps the file order, and WITH ORDINALITY numbers its rows in that
    # order; the row's number plus the lines the reader skipped before it (blank lines; lines it
    # refused) is its source line. nullstr is a lone NUL, which the cleaned file cannot hold: an
    # empty field stays '' and only the padding of a short row is NULL, so the NULLs tell how
    # many fields a line had. The file is parsed twice, because parsing is cheap next to writing
    # (1M A_TblCase rows: 4 s to parse, 37 s to write as a table): once to find the few lines
    # that are not plainly right, once streaming straight into raw.<Table>.
    columns_arg = "{" + ", ".join(f"'{c}': 'VARCHAR'" for c in col) + "}"

    def reader(rejects: bool) -> str:
        keep = (
            "store_rejects=true, rejects_table='__reader_errors', rejects_scan='__reader_scans', "
        )
        return (
            f"read_csv(?, columns={columns_arg}, delim='\\t', quote='', escape='', header=false, "
            "skip=1, auto_detect=false, new_line='\\n', nullstr=chr(0), null_padding=true, "
            f"strict_mode=true, ignore_errors=true, {keep if rejects else ''}"
            f"max_line_size={MAX_LINE_BYTES}) WITH ORDINALITY"
        )

    plainly_ok = f"c{n} IS NOT NULL AND {spares[0]} IS NULL AND {pk_ok}"
    fields_list = f"list_filter([{', '.join(col)}], lambda x: x IS NOT NULL)"
    con.execute(
        f"CREATE TEMP TABLE __odd AS SELECT ordinality, * FROM {reader(True)} "
        f"WHERE NOT ({plainly_ok})",
        [str(tmp)],
    )
    t_read = time.perf_counter()
    refused = con.execute(
        "SELECT line, min(error_type)::VARCHAR, any_value(csv_line), max(line_byte_position) "
        "FROM __reader_errors GROUP BY line ORDER BY line"
    ).fetchall()
    lines_total = stats.lines - 1
    skipped = sorted({*stats.blank_lines, *(r[0] for r in refused)})
    # Row number o (1-based) is source line o + 1 + #{i : K_i <= o}, where the i-th skipped line
    # (1-based) L_i gives K_i = L_i - i: the number of the first row after it.
    starts = [line - i for i, line in enumerate(skipped, 1)]
    if not starts:
        line_of = "ordinality + 1"
    elif len(starts) <= 64:
        line_of = "ordinality + 1 + " + " + ".join(f"(ordinality >= {k})::BIGINT" for k in starts)
    else:
        con.execute("CREATE TEMP TABLE __skips (k BIGINT, i BIGINT)")
        con.executemany(
            "INSERT INTO __skips VALUES (?, ?)",
            list(zip(starts, range(1, len(starts) + 1), strict=True)),
        )
        line_of = None
    if line_of:
        lines_view = f"SELECT {line_of} AS source_line, * FROM __odd"
    else:
        lines_view = (
            "SELECT r.ordinality + 1 + coalesce(s.i, 0) AS source_line, r.* FROM __odd r "
            "ASOF LEFT JOIN (SELECT k, max(i) AS i FROM __skips GROUP BY k) s ON r.ordinality >= s.k"
        )
    # Fields a line had: the header's columns up to the first NULL, then the filled spares.
    k_expr = (
        f"CASE WHEN {spares[0]} IS NOT NULL THEN {n} + "
        + " + ".join(f"({c} IS NOT NULL)::INT" for c in spares)
        + f" WHEN c{n} IS NOT NULL THEN {n} ELSE "
        + (" + ".join(f"(c{i} IS NOT NULL)::INT" for i in range(1, n)) or "0")
        + " END"
    )
    # Trimming trailing empty fields or padding a short row is only right when every field then
    # sits in a column of its shape: an empty field inserted mid-row (B_TblProceeding, [DD]) also
    # makes a row one field too long, with an empty last field. Rows that fail go to `repair`.
    fits_all = " AND ".join(fits_sql(f"c{i + 1}", c) for i, c in enumerate(col_specs)) or "true"
    spares_empty = " AND ".join(f"coalesce({c}, '') = ''" for c in spares)
    # Only the lines that are not plainly 'ok' get a status (a handful in a 12.7M-row table), with
    # their fields when they go to the repair or to raw.rejects.
    con.execute(
        f"""
        CREATE TEMP TABLE __status AS
        SELECT ordinality, source_line, status,
            CASE WHEN status = 'anomalous' OR status LIKE 'reject:%' THEN {fields_list} END AS f
        FROM (SELECT *, CASE
            WHEN k = 1 AND trim(c1) = '' THEN 'reject:blank line'
            WHEN NOT ({pk_ok}) THEN 'reject:invalid primary key'
            WHEN k = {n} THEN 'ok'
            WHEN k > {n} AND {spares_empty} AND ({fits_all}) THEN 'repair:trailing_empty_trimmed'
            WHEN k < {n} AND ({fits_all}) THEN 'repair:short_row_padded'
            WHEN k < {n} THEN 'reject:short row with fields out of place'
            ELSE 'anomalous' END AS status
            FROM (SELECT *, {k_expr} AS k FROM ({lines_view})))
        """
    )
    restore_cr = stats.lone_cr > 0

    def restored(v: str | None) -> str | None:
        return v.replace(LONE_CR_PLACEHOLDER, "\r") if restore_cr and v is not None else v

    # Only rows that need judgement come to Python: they are few (about 100 in a 12.7M-row table).
    anomalous = con.execute(
        "SELECT source_line, f FROM __status WHERE status = 'anomalous' ORDER BY source_line"
    ).fetchall()
    repaired_rows: list[list] = []
    repair_log: list[tuple] = []
    rejects: list[tuple] = []

    def judge(source_line: int, fields: list[str]) -> None:
        r = repair_row(list(fields), col_specs)
        if r.ok:
            repaired_rows.append([release_id, source_line, *map(restored, r.values)])
            repair_log.append((release_id, table, source_line, r.detail))
        else:
            rejects.append(
                (release_id, table, member.path, source_line, r.detail, restored("\t".join(fields)))
            )

    for source_line, fields in anomalous:
        judge(source_line, fields)
    for line in stats.blank_lines:
        rejects.append((release_id, table, member.path, line, "blank line", ""))
    # Lines the reader refused: too many fields for the spare columns (judged here by the same
    # rules as in SQL), or longer than MAX_LINE_BYTES (quarantined with the start of the text).
    for line, error_type, text, _pos in refused:
        # DuckDB's copy of a refused line starts with the newlines of blank lines before it; a
        # line itself never holds one.
        text = text.lstrip("\n") if text is not None else None
        if error_type == "TOO MANY COLUMNS" and text is not None:
            fields = text.split("\t")
            status = _line_status(fields, col_specs, pk_pos)
            if status == "anomalous":
                judge(line, fields)
            elif status.startswith("repair:"):
                values = [*fields[:n], *[None] * (n - len(fields))][:n]
                repaired_rows.append([release_id, line, *map(restored, values)])
                repair_log.append((release_id, table, line, status.removeprefix("repair:")))
            else:
                rejects.append(
                    (
                        release_id,
                        table,
                        member.path,
                        line,
                        status.removeprefix("reject:"),
                        restored(text),
                    )
                )
        elif error_type == "LINE SIZE OVER MAXIMUM":
            rejects.append(
                (
                    release_id,
                    table,
                    member.path,
                    line,
                    f"line longer than {MAX_LINE_BYTES:,} bytes (PD_EOIR_MAX_LINE_BYTES); first "
                    f"{REJECT_TEXT_CHARS:,} characters kept",
                    restored((text or "")[:REJECT_TEXT_CHARS]),
                )
            )
        else:
            rejects.append(
                (
                    release_id,
                    table,
                    member.path,
                    line,
                    f"unreadable line ({error_type.lower()})",
                    restored((text or "")[:REJECT_TEXT_CHARS]),
                )
            )

    def out(c: str, i: int) -> str:
        expr = f"c{i + 1}"
        if restore_cr:
            expr = f"replace({expr}, chr(1), chr(13))"
        return f"{expr} AS {_q(c)}"

    select_cols = ", ".join(out(c, i) for i, c in enumerate(columns))
    missing_cols = "".join(f", NULL::VARCHAR AS {_q(c)}" for c in mapping.missing)
    excluded = (
        "SELECT ordinality FROM __status WHERE status = 'anomalous' OR status LIKE 'reject:%'"
    )
    # Every row but the rejected and the anomalous ones, streamed from the reader (an anti-join on
    # the few excluded row numbers).
    if line_of:
        source = f"SELECT {line_of} AS source_line, * FROM {reader(False)}"
    else:
        source = (
            f"SELECT r.ordinality + 1 + coalesce(s.i, 0) AS source_line, r.* FROM {reader(False)} r "
            "ASOF LEFT JOIN (SELECT k, max(i) AS i FROM __skips GROUP BY k) s ON r.ordinality >= s.k"
        )
    bulk = (
        f"SELECT ?::VARCHAR AS release_id, source_line, {select_cols}{missing_cols} "
        f"FROM ({source}) WHERE ordinality NOT IN ({excluded})"
    )
    n_excluded = con.execute(f"SELECT count(*) FROM ({excluded})").fetchall()[0][0]
    n_sql_repaired = con.execute(
        "SELECT count(*) FROM __status WHERE status LIKE 'repair:%'"
    ).fetchall()[0][0]
    t_classified = time.perf_counter()
    con.execute("BEGIN TRANSACTION")
    try:
        exists = con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema='raw' AND table_name=?",
            [table],
        ).fetchall()[0][0]
        if not exists:
            con.execute(f"CREATE TABLE {target} AS {bulk} LIMIT 0", [release_id, str(tmp)])
        else:
            have = {r[0].upper() for r in con.execute(f"DESCRIBE {target}").fetchall()}
            for c in [*columns, *mapping.missing]:
                if c.upper() not in have:
                    con.execute(f"ALTER TABLE {target} ADD COLUMN {_q(c)} VARCHAR")
            con.execute(f"DELETE FROM {target} WHERE release_id = ?", [release_id])
        # The reader yields file order and the insert keeps it: no sort needed.
        inserted = con.execute(f"INSERT INTO {target} BY NAME {bulk}", [release_id, str(tmp)])
        rows_read = inserted.fetchall()[0][0] + n_excluded
        if rows_read + len(skipped) != lines_total:
            raise ReleaseError(
                f"{where}: {lines_total} lines after the header, but the reader returned "
                f"{rows_read} rows, {len(refused)} refused and {len(stats.blank_lines)} blank "
                "lines. Nothing was loaded; please report this with the file."
            )
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
        text_expr = "coalesce(array_to_string(f, chr(9)), '')"
        if restore_cr:
            text_expr = f"replace({text_expr}, chr(1), chr(13))"
        con.execute(
            f"""INSERT INTO raw.rejects SELECT ?, ?, ?, source_line, substr(status, 8),
                   {text_expr} FROM __status WHERE status LIKE 'reject:%'""",
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
        anomalous_n = counts.pop("anomalous", 0)
        assert counts.get("repaired", 0) == n_sql_repaired
        python_repaired = len(repaired_rows)
        python_rejected = len(rejects)
        lines_read = lines_total
        repaired = counts.get("repaired", 0) + python_repaired
        rejected = counts.get("rejected", 0) + python_rejected
        loaded_as_is = (
            rows_read - anomalous_n - counts.get("repaired", 0) - counts.get("rejected", 0)
        )
        audit = TableAudit(
            release_id=release_id,
            source_table=table,
            source_file=member.path,
            count_txt_rows=release.count_txt.get(table.lower()),
            lines_read=lines_read,
            loaded_as_is=loaded_as_is,
            repaired=repaired,
            rejected=rejected,
            unknown_columns=mapping.unknown,
            missing_columns=mapping.missing,
            renamed_columns=mapping.renamed,
            nul_bytes_stripped=stats.nul_bytes,
            latin1_fallback_bytes=stats.latin1_fallback_bytes,
            bytes_read=stats.bytes_in,
        )
        if not audit.accounted:
            raise ReleaseError(
                f"{where}: {lines_read} lines but {loaded_as_is} loaded, {repaired} repaired and "
                f"{rejected} rejected. Nothing was loaded; please report this with the file."
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
        audit.phase_seconds = {
            "decode": round(stats.decode_seconds, 2),
            "read": round(t_read - t0 - stats.decode_seconds, 2),
            "classify": round(t_classified - t_read, 2),
            "insert": round(audit.seconds - (t_classified - t0), 2),
        }
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
        _drop_scratch(con)
    return audit


def _drop_scratch(con: duckdb.DuckDBPyConnection) -> None:
    for t in ("__status", "__skips", "__odd", "__reader_errors", "__reader_scans"):
        con.execute(f"DROP TABLE IF EXISTS {t}")


def read_lookup_text(release: Release, member: Member) -> str:
    """A lookup's whole text, decoded like the core tables (lookups are small)."""
    with release.open(member) as fh:
        return decode_bytes(fh.read())


def ingest_lookups(
    con: duckdb.DuckDBPyConnection, release: Release, tmp_dir: Path
) -> tuple[list[TableAudit], dict[str, str]]:
    """Load every known lookup of `release`; one that cannot be read is reported, not loaded.

    Returns the audits and, per lookup that could not be loaded, why (also in
    raw.release_members). Staging falls back to data/reference for a lookup that is missing."""
    record_members(con, release)
    audits, problems = [], {}
    for member in release.lookups():
        try:
            audits.append(ingest_table(con, release, member, None, tmp_dir))
        except ReleaseError as exc:
            problems[member.name] = str(exc)
    for name in KNOWN_LOOKUPS:
        if name.lower() in release.refused:
            problems[name] = release.refused[name.lower()]
    ensure_lookup_tables(con)
    return audits, problems


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
