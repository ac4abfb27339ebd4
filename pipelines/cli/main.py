"""`pdpipeline`: run the pipeline on a release, generate the synthetic sample, export reports.

pdpipeline run --release data/raw/sample            # every asset, in process, with progress
pdpipeline sample --cases 20000 --seed 20260401 --out data/raw/sample
pdpipeline extract --release synthetic-2026-04 --formats parquet,dta,csv --out extracts/
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pipelines.settings import SAMPLE_DIR, Settings


def _resolve_release_arg(path: Path) -> Path:
    """Accept a zip, an extracted folder, or a folder that holds exactly one release."""
    from pipelines.releases.find import discover_releases

    if path.is_file() or not path.is_dir():
        return path
    if (
        (path / "Count.txt").exists()
        or any(path.glob("**/A_TblCase.csv"))
        and not any(path.glob("**/*.zip"))
    ):
        return path
    found = discover_releases(path)
    if len(found) == 1:
        return next(iter(found.values())).path
    if not found:
        raise SystemExit(f"error: no EOIR release (zip or extracted folder) under {path}")
    raise SystemExit(
        f"error: {path} holds several releases ({', '.join(sorted(found))}); name one of them"
    )


def cmd_run(args: argparse.Namespace) -> int:
    from pipelines.cli.runner import run_release
    from pipelines.eoir.archive import ReleaseError

    settings = Settings.from_env(
        warehouse=Path(args.warehouse) if args.warehouse else None,
        reports_dir=Path(args.reports) if args.reports else None,
    )
    try:
        release_path = _resolve_release_arg(Path(args.release))
        outcome = run_release(release_path, settings, show_progress=not args.quiet)
    except ReleaseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if outcome.warned_checks:
        print(f"checks with warnings: {', '.join(outcome.warned_checks)}", file=sys.stderr)
    if not outcome.success:
        if outcome.error:
            print(f"error: {outcome.error}", file=sys.stderr)
        if outcome.failed_steps:
            print(f"failed assets: {', '.join(outcome.failed_steps)}", file=sys.stderr)
        if outcome.failed_checks:
            print(f"failed checks: {', '.join(outcome.failed_checks)}", file=sys.stderr)
        return 1
    print(
        f"release {outcome.release_id}: all assets materialized into {settings.warehouse}; "
        f"reports in {settings.reports_dir / outcome.release_id}"
    )
    return 0


def cmd_sample(args: argparse.Namespace) -> int:
    from pipelines.sample.eoir import write_sample_release

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rel = write_sample_release(out, cases=args.cases, seed=args.seed)
    print(f"wrote synthetic EOIR release {rel.path}")
    try:
        from pipelines.sample.ice import write_sample_ice
    except ImportError:  # pragma: no cover - the ICE generator is optional during development
        return 0
    files = write_sample_ice(out / "ice", n_rows=max(500, args.cases // 4), seed=args.seed)
    print(f"wrote {len(files)} synthetic ICE workbook(s) in {out / 'ice'}")
    return 0


def cmd_extract(args: argparse.Namespace) -> int:
    from pipelines.extracts.codebook import ExtractError
    from pipelines.extracts.write import extract_release

    settings = Settings.from_env(warehouse=Path(args.warehouse) if args.warehouse else None)
    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    try:
        result = extract_release(
            settings,
            args.release,
            formats,
            Path(args.out) if args.out else None,
            show_progress=not args.quiet,
        )
    except (ExtractError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for table, why in result.skipped.items():
        print(f"skipped {table}: {why}", file=sys.stderr)
    print(
        f"release {result.release_id}: {len(result.files)} extracts and codebook in {result.out_dir}"
    )
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """Charts and tables from an existing warehouse, without re-running ingest."""
    from tqdm import tqdm

    from pipelines.charts.export import CHART_FORMATS
    from pipelines.publish.release_report import releases_in, report_inputs, write_release_report
    from pipelines.publish.stored import PublishError, check_request, stored_settings
    from pipelines.warehouse.db import connect

    settings = Settings.from_env(
        warehouse=Path(args.warehouse) if args.warehouse else None,
        reports_dir=Path(args.out).parent if args.out else None,
    )
    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    unknown = set(formats) - set(CHART_FORMATS)
    if unknown:
        print(
            f"error: unknown format(s) {sorted(unknown)}; choose from {', '.join(CHART_FORMATS)}",
            file=sys.stderr,
        )
        return 2
    if not settings.warehouse.exists():
        print(
            f"error: no warehouse at {settings.warehouse}: run `pdpipeline run` first",
            file=sys.stderr,
        )
        return 2
    con = connect(settings, read_only=True)
    try:
        releases = releases_in(con)
        release_id = args.release or (releases[-1] if releases else None)
        if release_id not in releases:
            print(
                f"error: release {release_id!r} is not in {settings.warehouse} (it has: {', '.join(releases) or 'none'})",
                file=sys.stderr,
            )
            return 2
        # The window, pending date, lead rule and threshold are the warehouse's, never this
        # process's environment: a request for others is refused with what to run.
        try:
            stored = stored_settings(con, release_id)
            check_request(stored)
        except PublishError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        report = report_inputs(con, release_id, stored)
        out = Path(args.out) if args.out else settings.reports_dir / release_id
        with tqdm(total=report.n_items, unit="item", file=sys.stderr, disable=args.quiet) as bar:

            def step(stem: str) -> None:
                bar.set_description(stem)
                bar.update(1)

            index = write_release_report(
                con, settings, release_id, out, formats=formats, progress=step, report=report
            )
    finally:
        con.close()
    print(f"release {release_id}: charts and tables in {out} (index: {index})")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pdpipeline", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="materialize every asset for one release")
    run.add_argument(
        "--release",
        default=str(SAMPLE_DIR),
        help="EOIR zip, folder, or a folder holding one release",
    )
    run.add_argument("--warehouse", help="DuckDB file (default data/derived/warehouse.duckdb)")
    run.add_argument("--reports", help="reports folder (default reports/)")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.set_defaults(func=cmd_run)

    sample = sub.add_parser("sample", help="generate a synthetic release in the real layout")
    sample.add_argument("--cases", type=int, default=20000)
    sample.add_argument("--seed", type=int, default=20260401)
    sample.add_argument("--out", default=str(SAMPLE_DIR))
    sample.set_defaults(func=cmd_sample)

    extract = sub.add_parser(
        "extract", help="write analysis extracts and codebook from an existing warehouse"
    )
    extract.add_argument("--release", help="release id in the warehouse (default: the only one)")
    extract.add_argument("--formats", default="parquet,dta,csv", help="comma-separated")
    extract.add_argument("--out", help="folder (default <reports>/<release>/extracts)")
    extract.add_argument("--warehouse", help="DuckDB file (default data/derived/warehouse.duckdb)")
    extract.add_argument("--quiet", action="store_true", help="no progress bar")
    extract.set_defaults(func=cmd_extract)

    export = sub.add_parser("export", help="export charts and tables from an existing warehouse")
    export.add_argument("--release", help="release id in the warehouse (default: the newest)")
    export.add_argument(
        "--formats", default="svg,pdf,png,json,csv", help="chart formats, comma-separated"
    )
    export.add_argument("--out", help="folder (default <reports>/<release>)")
    export.add_argument("--warehouse", help="DuckDB file (default data/derived/warehouse.duckdb)")
    export.add_argument("--quiet", action="store_true", help="no progress bar")
    export.set_defaults(func=cmd_export)

    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
