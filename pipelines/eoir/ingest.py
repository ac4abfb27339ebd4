"""Load one EOIR table into `raw.<Table>`, with every line accounted for.

Per table: clean the file to UTF-8 (`decode`: cp1252, NUL bytes, CRLF, and each line's number
written in front of it), then let DuckDB's parallel CSV reader split it on TAB into the line
number, one text column per header column and a few spare columns (`null_padding`, so a short row
ends in NULLs and a row with an extra field fills a spare column; an empty field stays ''). One
pass streams every row into raw.<Table>: the plainly right ones under the release's id, the rest
(a handful) under a quarantine id. Lines that DuckDB refuses (more fields than the spares hold,
longer than `MAX_LINE_BYTES`) come back from its rejects table. The odd lines are sorted into:
repaired (trailing empty fields trimmed, short rows padded with NULL, tab shifts merged by
`repair`) and inserted again under the release's id; or rejected (blank lines, invalid primary
keys, over-long lines, unrepairable shifts) into `raw.rejects` with line number, reason and the
raw text. `raw.load_audit` gets one row per table; loaded + repaired + rejected = lines read, and
lines read should equal the table's row count in Count.txt. Only the few anomalous lines ever
reach Python; the bulk never leaves DuckDB. The rows, the accounting and the audit of one table
are written in one transaction; the quarantine rows are removed after it. The spare columns stay
in the table (NULL in every loaded row), so that a load that dies at any point leaves the columns
other releases see as they were.
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
    LINE_NUMBER_DIGITS,
    LONE_CR_PLACEHOLDER,
    DiskFullError,
    EncodingError,
    decode_bytes,
    decode_stream,
    split_line_number,
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
# How much of a refused line DuckDB's rejects table keeps (csv_line): longer ones are re-read.
READER_TEXT_CHARS = 10_000
# The release id a load gives the rows it has yet to judge, in raw.<Table> itself, so that the bulk
# is written once. No query reads them (every read filters on a real release id); they are
# deleted after the load's COMMIT, or by the next load of the table if the process was killed.
QUARANTINE_PREFIX = "__quarantine__:"


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
    # Where the time went: decode (clean to UTF-8), load (the table made ready, DuckDB's reader
    # streaming into it), classify (the few odd lines), finish (accounting, COMMIT, cleanup).
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
    _, text = split_line_number(first.decode("utf-8"))
    if not text.strip():
        raise ReleaseError(
            f"{where}: the file is empty (no header line). Re-download the release; if EOIR "
            "published it empty, remove the table from the run."
        )
    header = text.rstrip("\n").split("\t")
    if len(header) < 2:
        raise ReleaseError(
            f"{where} line 1: no TAB in the header ({text[:60]!r}...). EOIR tables are "
            "tab-delimited text: this file is something else (check it is the right file)."
        )
    return header


_DIGITS = re.compile(r"[0-9]+")


def _line_status(fields: list[str], col_specs: tuple, pk_pos: int | None) -> str:
    """The SQL status rule of `_load_decoded`, for the few lines DuckDB hands back whole."""
    n, k = len(col_specs), len(fields)
    if k == 1 and fields[0].replace(LONE_CR_PLACEHOLDER, "").strip(" \r") == "":
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


def _whole_line(tmp: Path, byte_pos: int | None, line: int) -> str | None:
    """The whole text of refused line `line` of the cleaned file, at DuckDB's 1-based byte
    position, checked against the line number decode wrote in front of it."""
    if not byte_pos:
        return None
    with open(tmp, "rb") as f:
        f.seek(byte_pos - 1)
        text = f.readline(MAX_LINE_BYTES + LINE_NUMBER_DIGITS + 2).decode("utf-8").rstrip("\n")
    return text if split_line_number(text)[0] == line else None


def _prepare_target(con, target: str, columns: list[str], spares: list[str]) -> None:
    """Make raw.<Table> ready for one load, committed before the load's own transaction.

    The spare columns are added here, not inside the transaction: an ALTER TABLE (or a DELETE of
    rows the same transaction inserted) makes DuckDB rewrite every row at COMMIT, which is 56 s
    on a full A_TblCase. They are added once, with the table, and never dropped: dropping them
    after each load would leave them behind whenever a load dies before its end, changing the
    columns of the table every other release is read from. Quarantine rows a killed run left behind, of any release, are removed
    first (there is one writer: no other load can be under way)."""
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {target} (release_id VARCHAR, source_line BIGINT"
        + "".join(f", {_q(c)} VARCHAR" for c in columns)
        + ")"
    )
    have = {r[0].upper() for r in con.execute(f"DESCRIBE {target}").fetchall()}
    for c in [*columns, *spares]:
        if c.upper() not in have:
            con.execute(f"ALTER TABLE {target} ADD COLUMN {_q(c)} VARCHAR")
    con.execute(f"DELETE FROM {target} WHERE starts_with(release_id, ?)", [QUARANTINE_PREFIX])


def _finish_target(con, target: str, quarantine: str) -> None:
    """Remove the load's quarantine rows (after its COMMIT or ROLLBACK)."""
    con.execute(f"DELETE FROM {target} WHERE release_id = ?", [quarantine])


def _load_decoded(con, release, member, spec, tmp, stats, where, t0) -> TableAudit:
    release_id = release.release_id
    quarantine = QUARANTINE_PREFIX + release_id
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
    spares = col[n:]
    spare_names = [f"__spare_{i}" for i in range(1, SPARE_COLUMNS + 1)]
    names = [*columns, *spare_names]  # the table's column for each of c1..c_width

    _drop_scratch(con)
    pk_ok = f"coalesce(regexp_full_match(trim(c{pk_pos}), '\\d+'), false)" if pk_pos else "true"
    col_specs = _columns_for(spec, columns, table)
    restore_cr = stats.lone_cr > 0

    def restored(v: str | None) -> str | None:
        return v.replace(LONE_CR_PLACEHOLDER, "\r") if restore_cr and v is not None else v

    # c0 is the line number decode wrote in front of every line. nullstr is a lone NUL, which the
    # cleaned file cannot hold: an empty field stays '' and only the padding of a short row is
    # NULL, so the NULLs tell how many fields a line had. One parallel pass streams every row into
    # raw.<Table>: a row that is plainly right under the release's id, any other (a handful in
    # 12.7M) under the quarantine id, to be judged and, if repaired, inserted again under the
    # release's id. No row numbering (WITH ORDINALITY serialises the reader: 30 s of 74 on a full
    # A_TblCase) and no second parse.
    columns_arg = "{'c0': 'BIGINT', " + ", ".join(f"'{c}': 'VARCHAR'" for c in col) + "}"
    reader = (
        f"read_csv(?, columns={columns_arg}, delim='\\t', quote='', escape='', header=false, "
        "skip=1, auto_detect=false, new_line='\\n', nullstr=chr(0), null_padding=true, "
        "strict_mode=true, ignore_errors=true, store_rejects=true, "
        "rejects_table='__reader_errors', rejects_scan='__reader_scans', "
        f"max_line_size={MAX_LINE_BYTES + LINE_NUMBER_DIGITS + 1})"
    )
    plainly_ok = f"c{n} IS NOT NULL AND {spares[0]} IS NULL AND {pk_ok}"

    def out(c: str, i: int) -> str:
        expr = f"c{i + 1}"
        if restore_cr:
            expr = f"replace({expr}, chr(1), chr(13))"
        return f"{expr} AS {_q(c)}"

    bulk = (
        f"SELECT CASE WHEN {plainly_ok} THEN ?::VARCHAR ELSE ?::VARCHAR END AS release_id, "
        f"c0 AS source_line, {', '.join(out(c, i) for i, c in enumerate(names))} FROM {reader}"
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
    fields_list = f"list_filter([{', '.join(col)}], lambda x: x IS NOT NULL)"
    odd_cols = ", ".join(f"{_q(name)} AS {c}" for name, c in zip(names, col, strict=True))
    values_of = ", ".join(f"{c} AS {_q(name)}" for name, c in zip(columns, col, strict=False))

    _prepare_target(con, target, [*columns, *mapping.missing], spare_names)
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(f"DELETE FROM {target} WHERE release_id = ?", [release_id])
        # The reader yields file order and the insert keeps it: no sort needed.
        rows_read = con.execute(
            f"INSERT INTO {target} BY NAME {bulk}", [release_id, quarantine, str(tmp)]
        ).fetchall()[0][0]
        t_loaded = time.perf_counter()
        refused = con.execute(
            "SELECT line, min(error_type)::VARCHAR, any_value(csv_line), "
            "min(line_byte_position) FROM __reader_errors GROUP BY line ORDER BY line"
        ).fetchall()
        lines_total = stats.lines - 1
        if rows_read + len(refused) != lines_total:
            raise ReleaseError(
                f"{where}: {lines_total} lines after the header, but the reader returned "
                f"{rows_read} rows and {len(refused)} refused lines. Nothing was loaded; please "
                "report this with the file."
            )
        # Only the lines that are not plainly right get a status, with their fields when they go
        # to the repair or to raw.rejects. Their values already have any lone CR restored.
        con.execute(
            f"CREATE TEMP TABLE __odd AS SELECT source_line, {odd_cols} FROM {target} "
            "WHERE release_id = ?",
            [quarantine],
        )
        con.execute(
            f"""
            CREATE TEMP TABLE __status AS
            SELECT source_line, status,
                CASE WHEN status = 'anomalous' OR status LIKE 'reject:%' THEN {fields_list} END AS f
            FROM (SELECT *, CASE
                WHEN k = 1 AND trim(c1, ' ' || chr(13)) = '' THEN 'reject:blank line'
                WHEN NOT ({pk_ok}) THEN 'reject:invalid primary key'
                WHEN k = {n} THEN 'ok'
                WHEN k > {n} AND {spares_empty} AND ({fits_all}) THEN 'repair:trailing_empty_trimmed'
                WHEN k < {n} AND ({fits_all}) THEN 'repair:short_row_padded'
                WHEN k < {n} THEN 'reject:short row with fields out of place'
                ELSE 'anomalous' END AS status
                FROM (SELECT *, {k_expr} AS k FROM __odd))
            """
        )
        # Only rows that need judgement come to Python: they are few (about 100 in a 12.7M-row
        # table).
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
                    (
                        release_id,
                        table,
                        member.path,
                        source_line,
                        r.detail,
                        restored("\t".join(fields)),
                    )
                )

        for source_line, fields in anomalous:
            judge(source_line, fields)
        # Lines the reader refused: too many fields for the spare columns (judged here by the same
        # rules as in SQL), or longer than MAX_LINE_BYTES (quarantined with the start of the
        # text). The line number is the one decode wrote in front of the text (DuckDB's own count
        # when there is no text). DuckDB keeps only the first READER_TEXT_CHARS characters of a
        # refused line: a longer one is read again, whole, from the cleaned file.
        for counted_line, error_type, raw_text, byte_pos in refused:
            if error_type == "TOO MANY COLUMNS" and raw_text and len(raw_text) >= READER_TEXT_CHARS:
                whole = _whole_line(tmp, byte_pos, counted_line)
                if whole is None:  # quarantined with the part DuckDB kept
                    error_type = "line cut short by the reader and not found again"
                raw_text = whole or raw_text
            numbered, text = split_line_number(raw_text or "")
            line = numbered or counted_line
            if error_type == "TOO MANY COLUMNS" and raw_text is not None:
                fields = text.split("\t")
                status = _line_status(fields, col_specs, pk_pos)
                if status == "ok":  # the reader and this split disagree: never load it blind
                    status = "reject:the reader refused a line of the header's width"
                if status == "anomalous":
                    judge(line, fields)
                elif status.startswith("repair:"):
                    values = [*fields[:n], *[None] * (n - len(fields))][:n]
                    repaired_rows.append([release_id, line, *map(restored, values)])
                    repair_log.append((release_id, table, line, status.removeprefix("repair:")))
                else:
                    reason = status.removeprefix("reject:")
                    rejects.append((release_id, table, member.path, line, reason, restored(text)))
            elif error_type == "LINE SIZE OVER MAXIMUM":
                rejects.append(
                    (
                        release_id,
                        table,
                        member.path,
                        line,
                        f"line longer than {MAX_LINE_BYTES:,} bytes (PD_EOIR_MAX_LINE_BYTES); "
                        f"first {REJECT_TEXT_CHARS:,} characters kept",
                        restored(text[:REJECT_TEXT_CHARS]),
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
                        restored(text[:REJECT_TEXT_CHARS]),
                    )
                )
        t_classified = time.perf_counter()
        # The rows repaired in SQL, under the release's id (their quarantine copies go after
        # COMMIT); then those repaired in Python.
        con.execute(
            f"INSERT INTO {target} BY NAME SELECT ?::VARCHAR AS release_id, o.source_line, "
            f"{values_of} FROM __odd o JOIN __status s USING (source_line) "
            "WHERE s.status = 'ok' OR s.status LIKE 'repair:%' ORDER BY o.source_line",
            [release_id],
        )
        if repaired_rows:
            cols = ["release_id", "source_line", *columns]
            placeholders = ", ".join("?" for _ in cols)
            con.executemany(
                f"INSERT INTO {target} ({', '.join(_q(c) for c in cols)}) VALUES ({placeholders})",
                repaired_rows,
            )
        for t in ("raw.rejects", "raw.repairs", "raw.load_audit"):
            con.execute(
                f"DELETE FROM {t} WHERE release_id = ? AND source_table = ?", [release_id, table]
            )
        con.execute(
            """INSERT INTO raw.rejects SELECT ?, ?, ?, source_line, substr(status, 8),
                   coalesce(array_to_string(f, chr(9)), '') FROM __status
               WHERE status LIKE 'reject:%' ORDER BY source_line""",
            [release_id, table, member.path],
        )
        if rejects:
            con.executemany("INSERT INTO raw.rejects VALUES (?, ?, ?, ?, ?, ?)", rejects)
        con.execute(
            """INSERT INTO raw.repairs SELECT ?, ?, source_line, substr(status, 8)
               FROM __status WHERE status LIKE 'repair:%' ORDER BY source_line""",
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
        odd_n = sum(counts.values())
        repaired = counts.get("repaired", 0) + len(repaired_rows)
        rejected = counts.get("rejected", 0) + len(rejects)
        loaded_as_is = rows_read - odd_n + counts.get("ok", 0)
        audit = TableAudit(
            release_id=release_id,
            source_table=table,
            source_file=member.path,
            count_txt_rows=release.count_txt.get(table.lower()),
            lines_read=lines_total,
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
                f"{where}: {lines_total} lines but {loaded_as_is} loaded, {repaired} repaired and "
                f"{rejected} rejected. Nothing was loaded; please report this with the file."
            )
        # The sums above are the reader's and the classifier's; this is the table's own count.
        in_table = con.execute(
            f"SELECT count(*) FROM {target} WHERE release_id = ?", [release_id]
        ).fetchall()[0][0]
        if in_table != loaded_as_is + repaired:
            raise ReleaseError(
                f"{where}: raw.{table} would hold {in_table:,} rows of this release, but "
                f"{loaded_as_is:,} lines were loaded as-is and {repaired:,} repaired. Nothing was "
                "loaded; please report this with the file."
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
            "load": round(t_loaded - t0 - stats.decode_seconds, 2),
            "classify": round(t_classified - t_loaded, 2),
            "finish": round(audit.seconds - (t_classified - t0), 2),
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
        try:
            con.execute("ROLLBACK")
        except duckdb.Error:  # a COMMIT that failed has ended the transaction already
            pass
        raise
    finally:
        try:
            _drop_scratch(con)
            _finish_target(con, target, quarantine)
        except duckdb.Error as exc:
            # Never hides the load's own error; the next load of the table removes what is left.
            log.warning("raw.%s: cleanup after the load failed (%s)", table, exc)
    audit.seconds = time.perf_counter() - t0
    audit.phase_seconds["finish"] = round(audit.seconds - (t_classified - t0), 2)
    return audit


def _drop_scratch(con: duckdb.DuckDBPyConnection) -> None:
    for t in ("__status", "__odd", "__reader_errors", "__reader_scans"):
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
