"""`pdpipeline`: run the pipeline on a release, generate the synthetic sample, export reports.

pdpipeline run --release data/raw/sample            # every asset, in process, with progress
pdpipeline sample --cases 20000 --seed 20260401 --out data/raw/sample
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pipelines.settings import SAMPLE_DIR, Settings


def _resolve_release_arg(path: Path) -> Path:
    """Accept a zip, an extracted folder, or a folder that holds exactly one release."""
    from pipelines.releases import discover_releases

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
    from pipelines.eoir.release import ReleaseError
    from pipelines.runner import run_release

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

    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
