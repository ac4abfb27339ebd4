"""Deterministic synthetic EOIR "case data" release, in the exact real layout, at any scale.

    python -m pipelines.sample.eoir --cases 20000 --seed 20260401 --out data/raw/sample

writes `EOIR Case Data.zip` (or, with --no-zip, the same tree as a folder) and, next to it,
`truth.json`: the generator's parameters and the counts later stages must recover.

What is real and what is made up
- Layout, headers, encoding, date/time/NULL spellings: docs/EOIR_FORMAT.md (release layout to
  lookup tables).
- Every code (court, judge, nationality, language, case type, decision, charge, custody, case
  priority) is a real EOIR value from the project's tables in data/reference/ (see codes.py);
  the Lookup/ tables are built from the same rows.
- The people, dates and outcomes are synthetic, drawn from a seeded generator with known
  effects (see `truth.json` -> "model").

The pieces, one concern a module: `population` (cases, proceedings, representation, priorities,
and the parameters of the synthetic world), `charges` (lead categories and the real charge codes
drawn), `quirks` (the damaged rows), `writer` (frames to TAB-separated bytes, the zip or folder),
`truth` (counts and model truth by construction), `codes` (the real code values, from
data/reference/), `eoir_format` (the byte-level layout); this module puts them together.

How it is built
- Cases are generated in chunks of CHUNK_CASES with numpy; every chunk draws from its own
  seeded stream, so a chunk is the same whichever table is being written. The zip can hold only
  one open member at a time, so each core table is written in its own pass over the chunks,
  regenerating them (cheap next to formatting and compression); memory stays bounded by a chunk.
- Rows are formatted by polars (`write_csv`, TAB, no quoting) and streamed into the zip member.
  Generated text is ASCII, so polars' UTF-8 equals cp1252; the few quirk rows that carry
  cp1252-only bytes are encoded separately.
- Real releases compress members with Deflate64, which no Python library can write; this writes
  plain deflate. The reader handles both (zipfile-deflate64).

Quirks (quirks=True) go only on "inert" cases: every proceeding of the case completed before
the pending date (2011-11-17), hence before the article's window. Whatever the ingest makes of
those rows (repair, reject, NULL), no count in truth["counts"] and no model-cohort row can
change. truth["quirks"] lists each with its table, source line and the expected ingest outcome.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from pipelines.sample import eoir_format as fmt
from pipelines.sample.charges import CATEGORIES
from pipelines.sample.population import CHUNK_CASES, build_world, gen_chunk
from pipelines.sample.quirks import Quirk, apply_quirks, lookup_tables, plan_quirks
from pipelines.sample.truth import Truth, definitions, model_truth
from pipelines.sample.writer import FRAMERS, Offsets, Sink, frame_bytes, synthetic_readme
from pipelines.settings import DEFAULT_PENDING_ON, DEFAULT_WINDOW_END, DEFAULT_WINDOW_START

GENERATOR_VERSION = 1
# zlib's default deflate level: 1M cases take ~35 s on 2 cores (level 1: ~21 s, a 35% larger zip).
COMPRESS_LEVEL = 6

# Core tables, in the order they are written.
CORE_TABLES = tuple(fmt.CORE_HEADERS)
LOOKUP_TABLES = tuple(fmt.LOOKUP_HEADERS)


@dataclass(frozen=True)
class SampleRelease:
    """What `write_sample_release` made: the zip (or the release folder), its date and truth."""

    path: Path
    release_date: date
    truth: dict = field(repr=False)
    truth_path: Path | None = None


def write_sample_release(
    out_dir: Path,
    cases: int = 20000,
    seed: int = 20260401,
    release_date: date = date(2026, 4, 1),
    zip: bool = True,  # noqa: A002 - the documented keyword
    crlf: bool = True,
    quirks: bool = True,
    progress: bool = False,
) -> SampleRelease:
    """Write a synthetic EOIR release into `out_dir` and `truth.json` beside it.

    The zip is `out_dir/EOIR Case Data.zip` (with zip=False, the folder
    `out_dir/EOIR Case Data YYYY-MMDD/`). Same arguments, same bytes.
    """
    if cases < 1:
        raise ValueError(f"cases must be at least 1, got {cases}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    world = build_world(seed, cases, release_date)
    eol = fmt.line_terminator(crlf)
    root = fmt.release_folder_name(release_date)
    n_chunks = -(-cases // CHUNK_CASES)
    level = COMPRESS_LEVEL
    sink = Sink(out_dir, zip, release_date, level)
    truth_acc = Truth(world)
    row_counts: dict[str, int] = {}
    nul_counts: dict[str, int] = {}
    plan: list[Quirk] = []

    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=n_chunks * len(CORE_TABLES), unit="chunk", desc="sample release")
    try:
        for t_idx, table in enumerate(CORE_TABLES):
            member = fmt.member_path(release_date, table)
            off = Offsets()
            rows = 0
            nuls = 0
            with sink.open(member, large=True) as f:
                f.write(fmt.encode_row(fmt.CORE_HEADERS[table]) + eol)
                for ci in range(n_chunks):
                    chunk = gen_chunk(world, ci)
                    if ci == 0 and t_idx == 0 and quirks:
                        plan = plan_quirks(world, chunk)
                    if t_idx == 0:
                        truth_acc.add(chunk)
                    data = frame_bytes(FRAMERS[table](world, chunk, off), eol)
                    if ci == 0:
                        table_quirks = [q for q in plan if q.table == table]
                        if table_quirks:
                            data = apply_quirks(data, eol, table_quirks)
                        nuls += data.count(b"\x00")
                    rows += data.count(eol)
                    f.write(data)
                    off.advance(chunk)
                    if bar is not None:
                        bar.update(1)
            row_counts[table] = rows
            nul_counts[table] = nuls
    finally:
        if bar is not None:
            bar.close()

    lookups, lookup_quirks = lookup_tables(quirks, root)
    for table in LOOKUP_TABLES:
        data = fmt.encode_table(fmt.LOOKUP_HEADERS[table], lookups[table], crlf=crlf)
        sink.write(fmt.member_path(release_date, table), data)
        row_counts[table] = len(lookups[table])
        nul_counts[table] = data.count(b"\x00")
    sink.write(f"{root}/{fmt.COUNT_FILE}", fmt.count_txt_bytes(row_counts, crlf=crlf))
    sink.write(
        f"{root}/{fmt.SYNTHETIC_MARKER}",
        synthetic_readme(seed, cases, release_date, eol),
    )
    sink.close()

    quirk_records = [
        {
            "kind": q.kind, "table": q.table, "file": fmt.member_path(release_date, q.table),
            "source_line": q.source_line, "key": q.key, "fields": q.fields,
            "expected": q.expected, "detail": q.detail,
        }
        for q in plan
    ] + lookup_quirks  # fmt: skip
    expected_load = {}
    for table, n in row_counts.items():
        recs = [q for q in quirk_records if q["table"] == table]
        repaired = sum(q["expected"] == "repaired" for q in recs)
        rejected = sum(q["expected"] == "rejected" for q in recs)
        expected_load[table] = {
            "count_txt_rows": n, "loaded_as_is": n - repaired - rejected, "repaired": repaired,
            "rejected": rejected, "nul_bytes": nul_counts[table],
        }  # fmt: skip

    truth = {
        "synthetic": True,
        "generator": "pipelines.sample.eoir",
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "cases": cases,
        "release_date": release_date.isoformat(),
        "release_folder": root,
        "release_id_hint": f"synthetic-{release_date:%Y-%m}",
        "line_endings": "CRLF" if crlf else "LF",
        "encoding": fmt.ENCODING,
        "compression": f"deflate level {level} (real releases use Deflate64)",
        "window": {
            "start": DEFAULT_WINDOW_START.isoformat(),
            "end": DEFAULT_WINDOW_END.isoformat(),
        },
        "pending_on": DEFAULT_PENDING_ON.isoformat(),
        "categories": list(CATEGORIES),
        "definitions": definitions(),
        "counts": truth_acc.counts(),
        "model": model_truth(world),
        "row_counts": row_counts,
        "expected_load": expected_load,
        "quirk_rule": (
            "quirks are placed only on inert cases (every proceeding completed before "
            f"{DEFAULT_PENDING_ON.isoformat()}), so no count in 'counts' and no model-cohort row "
            "depends on how the ingest treats them; lookup quirks (NUL) touch descriptions only."
        ),
        "quirks": quirk_records,
    }
    truth_path = out_dir / "truth.json"
    truth_path.write_text(json.dumps(truth, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return SampleRelease(
        path=sink.path, release_date=release_date, truth=truth, truth_path=truth_path
    )


def build_arg_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m pipelines.sample.eoir",
        description="Write a synthetic EOIR case-data release (zip + truth.json).",
    )
    p.add_argument("--cases", type=int, default=20000, help="number of cases (default 20000)")
    p.add_argument("--seed", type=int, default=20260401, help="random seed (default 20260401)")
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.add_argument("--release-date", type=date.fromisoformat, default=date(2026, 4, 1))
    p.add_argument("--no-zip", action="store_true", help="write a folder instead of a zip")
    p.add_argument("--lf", action="store_true", help="LF line endings instead of CRLF")
    p.add_argument("--no-quirks", action="store_true", help="leave out the damaged rows")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_arg_parser().parse_args(argv)
    release = write_sample_release(
        args.out, cases=args.cases, seed=args.seed, release_date=args.release_date,
        zip=not args.no_zip, crlf=not args.lf, quirks=not args.no_quirks, progress=not args.quiet,
    )  # fmt: skip
    pd = release.truth["counts"]["pd_closures_in_window"]["total"]
    print(f"wrote {release.path} (SYNTHETIC, {args.cases} cases, {pd} PD closures in the window)")
    print(f"truth: {release.truth_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
