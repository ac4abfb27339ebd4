"""Write the analysis extracts of one release: parquet, CSV, Stata, codebook, manifest.

Parquet and CSV are written by DuckDB (`COPY`), straight from the warehouse; the .dta by
pyreadstat from a polars frame (the one step that holds a table in memory). Each file is written
under a temporary name and renamed when complete, so a failed run never leaves a truncated file
that looks finished; known extract files the run did not write are removed, so the folder holds
exactly what the codebook describes.

Provenance (release id, generation date, code version, SYNTHETIC for sample data) is carried by
the parquet key-value metadata, the Stata data label, the codebook header and manifest.json.
CSV has no place for metadata: its provenance is the codebook beside it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
from tqdm import tqdm

from pipelines.charts.provenance import SYNTHETIC_MARK, Provenance
from pipelines.extracts.codebook import (
    ExtractError,
    TableProfile,
    codebook_frames,
    codebook_markdown,
    profile_table,
)
from pipelines.extracts.columns import (
    EXTRACT_TABLES,
    LIST_SEPARATOR,
    TEXT,
    TEXT_LIST,
    ExtractTable,
)
from pipelines.extracts.stata import data_label, stata_frame, table_stata_names, write_dta
from pipelines.settings import DEFAULT_SUPPRESS_BELOW, Settings
from pipelines.warehouse.db import fetch_frame, table_exists

FORMATS = ("parquet", "dta", "csv")
SOURCE = "EOIR case data and ICE removal records (FOIA), pd-pipeline marts"
CODEBOOK_MD = "codebook.md"
CODEBOOK_CSV = "codebook.csv"
CODEBOOK_VALUES_CSV = "codebook_values.csv"
STATA_NAMES_CSV = "stata_names.csv"
MANIFEST = "manifest.json"

PRIVACY_NOTE = (
    "These extracts are row-level records of real people's immigration proceedings and "
    "removals. They hold no names, no addresses or free-text city, and no birth date finer than "
    "the year; identifiers are EOIR's own case, proceeding and charge numbers. From the ICE "
    "records only the fields the analysis uses are kept (no person or case identifiers, exact "
    "birth date, county, conviction or entry dates). Counts in this codebook from 1 to {below} "
    'are shown as "<{threshold}" ("(s)": a second cell withheld so the first cannot be '
    "recovered from the total). Publish results, not these rows."
)


@dataclass
class ExtractResult:
    release_id: str
    out_dir: Path
    provenance: Provenance
    formats: tuple[str, ...]
    files: dict[str, dict[str, Path]] = field(default_factory=dict)  # extract -> format -> path
    rows: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)  # extract -> why
    undocumented: dict[str, list[str]] = field(default_factory=dict)
    stata_names: dict[str, dict[str, str]] = field(default_factory=dict)
    profiles: dict[str, TableProfile] = field(default_factory=dict)
    codebook_markdown: str = ""

    @property
    def codebook_path(self) -> Path:
        return self.out_dir / CODEBOOK_MD

    def renamed_for_stata(self) -> dict[str, dict[str, str]]:
        """Only the columns whose Stata name differs from their own."""
        return {
            t: {c: s for c, s in names.items() if c != s}
            for t, names in self.stata_names.items()
            if any(c != s for c, s in names.items())
        }


def extract_provenance(
    release_id: str,
    window_start: date | None = None,
    window_end: date | None = None,
    generated: date | None = None,
) -> Provenance:
    kwargs = {"generated": generated} if generated else {}
    return Provenance(
        source=SOURCE,
        release_id=release_id,
        window_start=window_start,
        window_end=window_end,
        note="the window applies to the cohort extracts",
        **kwargs,
    )


def parquet_metadata(provenance: Provenance, table: ExtractTable) -> dict[str, str]:
    return {
        "release_id": provenance.release_id,
        "generated": provenance.generated.isoformat(),
        "code_version": provenance.code_version,
        "synthetic": "true" if provenance.synthetic else "false",
        "source": provenance.source,
        "extract": table.name,
        "mart": table.mart,
        "codebook": CODEBOOK_MD,
        "provenance": (f"{SYNTHETIC_MARK}. " if provenance.synthetic else "")
        + provenance.footnote(),
    }


def codebook_header(provenance: Provenance, threshold: int) -> list[str]:
    lines = [f"# Codebook: analysis extracts of release {provenance.release_id}", ""]
    if provenance.synthetic:
        lines += [f"**{SYNTHETIC_MARK}.** Generated sample data, not a FOIA release.", ""]
    lines += [
        f"- Release: {provenance.release_id}",
        f"- Generated: {provenance.generated.isoformat()}",
        f"- Code version: {provenance.code_version}",
        f"- Source: {provenance.source}",
        f"- Window: {provenance.window} ({provenance.note})",
        "- Formats: parquet (lists kept as lists; provenance in the key-value metadata), CSV "
        f"(UTF-8, lists joined with '{LIST_SEPARATOR}'), Stata .dta format 118 (Stata 14+; "
        "categories stored as labelled integer codes, dates as %td, provenance in the data "
        "label).",
        "",
        "## Privacy",
        "",
        PRIVACY_NOTE.format(below=threshold - 1, threshold=threshold),
    ]
    return lines


def _sql_str(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# A CSV cell a spreadsheet would run as a formula gets a leading ' (same rule as
# pipelines.tables.export.neutralise_cell); a number such as -3 stays as it is.
def _neutralised(expr: str, name: str) -> str:
    return (
        f"CASE WHEN regexp_matches({expr}, '^[=+@\t\r-]') AND TRY_CAST({expr} AS DOUBLE) IS NULL "
        f"THEN '''' || {expr} ELSE {expr} END AS {name}"
    )


def _select(table: ExtractTable, release_id: str, flatten_lists: bool) -> str:
    """The extract's SELECT; `flatten_lists` (for CSV) also makes text cells formula-safe."""
    cols = []
    for c in table.columns:
        q = '"' + c.name.replace('"', '""') + '"'
        if flatten_lists and c.type == TEXT_LIST:
            cols.append(_neutralised(f"array_to_string({q}, '{LIST_SEPARATOR}')", q))
        elif flatten_lists and c.type == TEXT:
            cols.append(_neutralised(q, q))
        else:
            cols.append(q)
    return (
        f"SELECT {', '.join(cols)} FROM {table.mart} "
        f"WHERE release_id = {_sql_str(release_id)} ORDER BY {table.order_by}"
    )


def _kv_literal(meta: dict[str, str]) -> str:
    return "{" + ", ".join(f"{k}: {_sql_str(v)}" for k, v in meta.items()) + "}"


def _partial(path: Path) -> Path:
    return path.with_name(f".{path.name}.partial")


def _finish(partial: Path, path: Path) -> Path:
    os.replace(partial, path)
    return path


def write_parquet(con, table: ExtractTable, release_id: str, path: Path, meta: dict) -> Path:
    tmp = _partial(path)
    con.execute(
        f"COPY ({_select(table, release_id, flatten_lists=False)}) TO {_sql_str(str(tmp))} "
        f"(FORMAT parquet, COMPRESSION zstd, KV_METADATA {_kv_literal(meta)})"
    ).fetchall()
    return _finish(tmp, path)


def write_csv(con, table: ExtractTable, release_id: str, path: Path) -> Path:
    tmp = _partial(path)
    con.execute(
        f"COPY ({_select(table, release_id, flatten_lists=True)}) TO {_sql_str(str(tmp))} "
        "(FORMAT csv, HEADER true, DELIMITER ',', DATEFORMAT '%Y-%m-%d')"
    ).fetchall()
    return _finish(tmp, path)


# pyreadstat writes a .dta from one in-memory pandas frame (text as Python objects): a full
# release's 16.5M proceedings would need tens of GB. Above this many rows the table is written as
# numbered parts with the same variables and labels, which Stata puts together with `append`.
DTA_PART_ROWS = 2_000_000


def dta_part_paths(path: Path, rows: int, part_rows: int | None = None) -> list[Path]:
    part_rows = part_rows or DTA_PART_ROWS
    if rows <= part_rows:
        return [path]
    n = -(-rows // part_rows)
    return [path.with_name(f"{path.stem}_part{i + 1:02d}of{n:02d}{path.suffix}") for i in range(n)]


def write_stata(
    con,
    table: ExtractTable,
    profile: TableProfile,
    release_id: str,
    path: Path,
    names: dict[str, str],
    label: str,
    part_rows: int | None = None,
) -> Path:
    """Write the table as one .dta, or as parts of `part_rows` rows; returns the first file."""
    part_rows = part_rows or DTA_PART_ROWS
    parts = dta_part_paths(path, profile.rows, part_rows)
    read = 0
    for i, part in enumerate(parts):
        query = _select(table, release_id, flatten_lists=False)
        if len(parts) > 1:
            query += f" LIMIT {part_rows} OFFSET {i * part_rows}"
        df = fetch_frame(con, query)
        read += df.height
        tmp = _partial(part)
        write_dta(stata_frame(df, profile, names), tmp, label)
        _finish(tmp, part)
        del df
    if read != profile.rows:
        raise ExtractError(
            f"{table.mart}: {read} rows read for Stata, {profile.rows} profiled: the "
            "warehouse changed during the extract; run it again"
        )
    return parts[0]


def _extract_file(out_dir: Path, table: str, fmt: str) -> Path:
    return out_dir / f"{table}.{fmt}"


def _release_built(con: duckdb.DuckDBPyConnection, release_id: str) -> bool:
    """The release's marts were built (its settings are stored), even if they have no rows."""
    if not table_exists(con, "marts.run_settings"):
        return False
    return bool(
        con.execute(
            "SELECT count(*) FROM marts.run_settings WHERE release_id = ?", [release_id]
        ).fetchall()[0][0]
    )


def release_ids(con: duckdb.DuckDBPyConnection) -> list[str]:
    if not table_exists(con, "marts.proceedings"):
        return []
    return [r[0] for r in con.execute("SELECT DISTINCT release_id FROM marts.proceedings ORDER BY 1").fetchall()]  # fmt: skip


def write_extracts(
    con: duckdb.DuckDBPyConnection,
    release_id: str,
    out_dir: Path,
    formats: Sequence[str] = FORMATS,
    suppress_below: int = DEFAULT_SUPPRESS_BELOW,
    tables: Sequence[ExtractTable] = EXTRACT_TABLES,
    provenance: Provenance | None = None,
    show_progress: bool = True,
    log: Callable[[str], None] | None = None,
) -> ExtractResult:
    """Write every extract of `release_id` in `formats` to `out_dir`, with the codebook.

    Tables absent from the warehouse are skipped with a note, and so are optional ones (the
    ICE removals) without rows for the release. Raises ExtractError when the release has no
    rows in any of the tables, or a mart breaks its extract definition.
    """
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise ValueError(f"formats must be among {', '.join(FORMATS)}; got {list(formats)}")
    formats = tuple(dict.fromkeys(formats))
    out_dir = Path(out_dir)
    prov = provenance or extract_provenance(release_id)
    if prov.release_id != release_id:
        raise ValueError(f"provenance is for {prov.release_id}, not {release_id}")
    result = ExtractResult(release_id, out_dir, prov, formats)
    say = log or (lambda _msg: None)

    present: list[ExtractTable] = []
    total_rows = 0
    for t in tables:
        if not table_exists(con, t.mart):
            result.skipped[t.name] = f"{t.mart} is not in the warehouse"
            continue
        n = con.execute(
            f"SELECT count(*) FROM {t.mart} WHERE release_id = ?", [release_id]
        ).fetchall()[0][0]
        if n == 0 and t.optional:
            result.skipped[t.name] = f"{t.mart} has no rows for release {release_id}"
            continue
        present.append(t)
        total_rows += n
    if total_rows == 0 and not _release_built(con, release_id):
        known = release_ids(con)
        raise ExtractError(
            f"release {release_id!r} has no rows in the warehouse's marts; releases there: "
            f"{', '.join(known) or 'none'} (build the release first: pdpipeline run)"
        )

    out_dir.mkdir(parents=True, exist_ok=True)
    label = data_label(release_id, prov.generated, prov.code_version, prov.synthetic)
    steps = len(present) * (len(formats) + 1)
    bar = tqdm(total=steps, unit="step", disable=not show_progress, dynamic_ncols=True)
    try:
        for t in present:
            bar.set_description(f"{t.name}: profile")
            profile = profile_table(con, t, release_id)
            bar.update(1)
            result.profiles[t.name] = profile
            result.rows[t.name] = profile.rows
            result.stata_names[t.name] = table_stata_names(t)
            if profile.undocumented:
                result.undocumented[t.name] = list(profile.undocumented)
                say(
                    f"{t.mart}: columns {list(profile.undocumented)} have no definition in "
                    "pipelines/extracts/columns.py and are not extracted"
                )
            files: dict[str, Path] = {}
            for fmt in formats:
                bar.set_description(f"{t.name}: {fmt}")
                path = _extract_file(out_dir, t.name, fmt)
                if fmt == "parquet":
                    files[fmt] = write_parquet(con, t, release_id, path, parquet_metadata(prov, t))
                elif fmt == "csv":
                    files[fmt] = write_csv(con, t, release_id, path)
                else:
                    files[fmt] = write_stata(
                        con, t, profile, release_id, path, result.stata_names[t.name], label
                    )
                bar.update(1)
            result.files[t.name] = files
            say(f"{t.name}: {profile.rows} rows -> {', '.join(p.name for p in files.values())}")
    finally:
        bar.close()

    for t in EXTRACT_TABLES:  # stale files of an earlier run would contradict the codebook
        for fmt in FORMATS:
            p = _extract_file(out_dir, t.name, fmt)
            written = result.files.get(t.name, {}).get(fmt)
            if not written:
                keep: set[Path] = set()
            elif fmt == "dta":
                keep = set(dta_part_paths(p, result.profiles[t.name].rows))
            else:
                keep = {p}
            for old in [p, *out_dir.glob(f"{t.name}_part*.{fmt}")]:
                if old.exists() and old not in keep:
                    old.unlink()

    _write_codebook(result, suppress_below)
    return result


def _write_codebook(result: ExtractResult, threshold: int) -> None:
    import polars as pl

    profiles = list(result.profiles.values())
    files = {t: [p.name for p in f.values()] for t, f in result.files.items()}
    md = codebook_markdown(
        profiles,
        codebook_header(result.provenance, threshold),
        result.stata_names,
        threshold,
        skipped=result.skipped,
        files=files,
    )
    result.codebook_markdown = md
    out = result.out_dir
    _write_text(out / CODEBOOK_MD, md)
    columns, values = codebook_frames(profiles, result.stata_names, threshold)
    _write_frame_csv(columns, out / CODEBOOK_CSV)
    _write_frame_csv(values, out / CODEBOOK_VALUES_CSV)
    names = pl.DataFrame(
        [
            {"extract": t, "column": c, "stata_name": s, "renamed": c != s}
            for t, m in result.stata_names.items()
            for c, s in m.items()
        ],
        schema={"extract": pl.String, "column": pl.String, "stata_name": pl.String,
                "renamed": pl.Boolean},
    )  # fmt: skip
    _write_frame_csv(names, out / STATA_NAMES_CSV)
    manifest = {
        "provenance": result.provenance.as_dict(),
        "synthetic_mark": SYNTHETIC_MARK if result.provenance.synthetic else None,
        "suppress_below": threshold,
        "formats": list(result.formats),
        "extracts": {
            t: {"rows": result.rows[t], "files": files[t], "mart": result.profiles[t].table.mart}
            for t in result.files
        },
        "skipped": result.skipped,
        "undocumented_columns": result.undocumented,
        "stata_renamed": result.renamed_for_stata(),
        "codebook": [CODEBOOK_MD, CODEBOOK_CSV, CODEBOOK_VALUES_CSV, STATA_NAMES_CSV],
    }
    _write_text(out / MANIFEST, json.dumps(manifest, indent=2, default=str) + "\n")


def _write_text(path: Path, text: str) -> None:
    tmp = _partial(path)
    tmp.write_text(text, encoding="utf-8")
    _finish(tmp, path)


def _write_frame_csv(frame, path: Path) -> None:
    import polars as pl

    from pipelines.tables.export import neutralise_cell

    tmp = _partial(path)
    text_cols = [c for c, t in frame.schema.items() if t == pl.String]
    frame = frame.with_columns(
        [pl.col(c).map_elements(neutralise_cell, return_dtype=pl.String) for c in text_cols]
    )
    frame.write_csv(tmp)
    _finish(tmp, path)


def extract_release(
    settings: Settings,
    release_id: str | None = None,
    formats: Sequence[str] = FORMATS,
    out_dir: Path | None = None,
    show_progress: bool = True,
) -> ExtractResult:
    """`pdpipeline extract`: the extracts of a release already in the warehouse (read-only;
    nothing is re-ingested). Without `release_id`, the warehouse must hold exactly one release;
    without `out_dir`, files go to <reports_dir>/<release>/extracts/."""
    from pipelines.warehouse.db import connect

    if not settings.warehouse.exists():
        raise ExtractError(
            f"no warehouse at {settings.warehouse}: build a release first (pdpipeline run) or "
            "name the file with --warehouse / PD_WAREHOUSE"
        )
    con = connect(settings, read_only=True)
    try:
        if release_id is None:
            known = release_ids(con)
            if len(known) != 1:
                raise ExtractError(
                    f"{settings.warehouse} holds releases {', '.join(known) or 'none'}: name one "
                    "with --release"
                )
            release_id = known[0]
        return write_extracts(
            con,
            release_id,
            out_dir or settings.reports_dir / release_id / "extracts",
            formats=formats,
            suppress_below=settings.suppress_below,
            provenance=extract_provenance(release_id, settings.window_start, settings.window_end),
            show_progress=show_progress,
        )
    finally:
        con.close()
