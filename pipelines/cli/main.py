"""`pdpipeline`: run the pipeline on a release, generate the synthetic sample, export reports.

pdpipeline run --release data/raw/sample            # every asset, in process, with progress
pdpipeline ui                                       # dagster dev on the same instance
pdpipeline sample --cases 20000 --seed 20260401 --out data/raw/sample
pdpipeline extract --release synthetic-2026-04 --formats parquet,dta,csv --out extracts/

`run` and `ui` share one Dagster instance, the project's DAGSTER_HOME (`.dagster_home/` in the
repository, made on first use with the repository's dagster.yaml; an exported DAGSTER_HOME wins),
so the UI shows the runs, materializations and check results of `pdpipeline run`. Every error
reaches the user as one line naming the file, folder or setting and what to do.
"""

from __future__ import annotations

import argparse
import errno
import os
import shutil
import sys
from contextlib import contextmanager
from pathlib import Path

from pipelines.cli.messages import OUT_OF_MEMORY
from pipelines.settings import DAGSTER_HOME_DIR, REPO_ROOT, SAMPLE_DIR, Settings, SettingsError


class CliError(Exception):
    """A problem the user can fix; printed as `error: <message>`, exit status 2."""


def dagster_home() -> Path:
    """The project's Dagster instance folder, made (with dagster.yaml) and exported if unset."""
    home = Path(os.environ.get("DAGSTER_HOME") or DAGSTER_HOME_DIR)
    try:
        home.mkdir(parents=True, exist_ok=True)
        config = home / "dagster.yaml"
        if not config.exists():
            # The repository's instance settings (concurrency pools, run queue, no telemetry).
            shutil.copy(REPO_ROOT / "dagster.yaml", config)
    except OSError as exc:
        raise CliError(
            f"cannot set up the Dagster instance folder {home} ({exc.strerror}): make it "
            "writable, or export DAGSTER_HOME as a writable folder"
        ) from None
    os.environ["DAGSTER_HOME"] = str(home.resolve())
    return home


def _writable(folder: Path, what: str) -> None:
    """Refuse, before anything runs, a folder the command would have to write but cannot."""
    probe = folder
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    if not os.access(probe, os.W_OK | os.X_OK):
        raise CliError(
            f"folder {probe} is not writable, and {what} must be written in {folder}: make it "
            "writable or choose another folder (see `pdpipeline <command> --help` and the PD_* "
            "settings)"
        )


# A chart of one bar: enough for vl-convert to start its JavaScript engine.
_RENDER_PROBE = (
    "import vl_convert as vlc; vlc.vegalite_to_svg({'data': {'values': [{'a': 1}]}, "
    "'mark': 'bar', 'encoding': {'y': {'field': 'a', 'type': 'quantitative'}}})"
)


def _check_address_space() -> None:
    """Refuse, before anything runs, an address-space cap (`ulimit -v`) the charts cannot start
    under.

    vl-convert's JavaScript engine (V8) reserves tens of GB of address space when it starts, as
    address space, not memory (measured with vl-convert 1.9: it dies at a 64 GiB cap, starts at
    80 GiB), and a failed reservation kills the whole process at once, with no Python error to
    report. So under a finite cap a chart is first rendered in a child process (which inherits
    the cap). The memory a run really uses is capped by PD_DUCKDB_MEMORY_LIMIT, or a cgroup.
    """
    import resource
    import subprocess

    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY:
        return
    probe = subprocess.run(
        [sys.executable, "-c", _RENDER_PROBE], capture_output=True, timeout=120, check=False
    )
    if probe.returncode != 0:
        raise CliError(
            f"the address-space limit of this process (ulimit -v, {soft // 2**20:,} MB) is too "
            "small for the chart renderer (vl-convert reserves tens of GB of address space, not "
            "memory, when it starts): remove it (`ulimit -v unlimited`) and cap memory with "
            "PD_DUCKDB_MEMORY_LIMIT, or with a cgroup memory limit (docker --memory, "
            "systemd-run -p MemoryMax=)"
        )


@contextmanager
def _warehouse_turn(settings: Settings, purpose: str):
    """Wait for a run that holds the warehouse, as `pdpipeline run` does, then go ahead."""
    from pipelines.warehouse.lock import connect_waiting, warehouse_lock

    def wait_for_writers() -> None:
        # A Dagster run (or a notebook) holding DuckDB's own lock: wait for it too.
        connect_waiting(settings, read_only=True, timeout_s=settings.lock_timeout).close()

    if not os.access(settings.warehouse.parent, os.W_OK):
        # A read-only warehouse folder can be read, but holds no lock file (nor a writer).
        wait_for_writers()
        yield
        return
    with warehouse_lock(settings.warehouse, purpose, timeout_s=settings.lock_timeout):
        wait_for_writers()
        yield


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
    from pipelines.cli.runner import check_release, open_instance, run_release

    settings = Settings.from_env(
        warehouse=Path(args.warehouse) if args.warehouse else None,
        reports_dir=Path(args.reports) if args.reports else None,
    )
    release_path = _resolve_release_arg(Path(args.release))
    # Everything that can be refused is refused before the run starts.
    check_release(release_path)
    _writable(settings.warehouse.parent, "the warehouse")
    _writable(settings.reports_dir, "the reports")
    _writable(settings.temp_dir, "DuckDB's spill files (PD_TEMP_DIR)")
    _check_address_space()
    home = dagster_home()
    with open_instance(home, settings.lock_timeout) as instance:
        outcome = run_release(
            release_path, settings, show_progress=not args.quiet, instance=instance
        )
    if outcome.warned_checks:
        print(f"checks with warnings: {', '.join(outcome.warned_checks)}", file=sys.stderr)
    if not outcome.success:
        # One line (its cause, if any, on a second): the project's message for what failed.
        message = outcome.error or f"assets failed: {', '.join(outcome.failed_steps)}"
        if outcome.failed_steps and not outcome.failed_check_details:
            first, *more = message.split("\n", 1)
            message = "\n".join(
                [f"{first} (failed assets: {', '.join(outcome.failed_steps)})", *more]
            )
        print(f"error: {message}", file=sys.stderr)
        return 1
    print(
        f"release {outcome.release_id}: all assets materialized into {settings.warehouse}; "
        f"reports in {settings.reports_dir / outcome.release_id}; "
        "`pdpipeline ui` shows the run in Dagster"
    )
    return 0


def cmd_ui(args: argparse.Namespace) -> int:
    """`dagster dev` in the repository root, on the project's Dagster instance."""
    Settings.from_env()  # a bad setting is refused here, not as a code-location load error
    home = dagster_home()
    cmd = [sys.executable, "-m", "dagster", "dev", "-h", args.host, "-p", str(args.port)]
    print(f"DAGSTER_HOME={home}; opening http://{args.host}:{args.port}", file=sys.stderr)
    os.chdir(REPO_ROOT)
    os.execv(sys.executable, cmd)
    return 0  # pragma: no cover - execv does not return


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
    _writable(Path(args.out) if args.out else settings.reports_dir, "the extracts")
    _writable(settings.temp_dir, "DuckDB's spill files (PD_TEMP_DIR)")
    if not settings.warehouse.exists():
        raise CliError(f"no warehouse at {settings.warehouse}: run `pdpipeline run` first")
    try:
        with _warehouse_turn(settings, "pdpipeline extract"):
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
    from pipelines.charts.export import CHART_FORMATS

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
    _writable(Path(args.out) if args.out else settings.reports_dir, "the charts and tables")
    _writable(settings.temp_dir, "DuckDB's spill files (PD_TEMP_DIR)")
    _check_address_space()
    with _warehouse_turn(settings, "pdpipeline export"):
        return _export(args, settings, formats)


def _export(args: argparse.Namespace, settings: Settings, formats: list[str]) -> int:
    from tqdm import tqdm

    from pipelines.publish.release_report import releases_in, report_inputs, write_release_report
    from pipelines.publish.stored import PublishError, check_request, stored_settings
    from pipelines.warehouse.db import connect

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
        # Written into a staging folder first, then moved into place file by file (each a
        # rename): an export that is killed or runs out of space leaves the earlier files whole,
        # never a half-written one, and its staging folder is removed (here, or by the next export).
        stage = out / ".export.partial"
        shutil.rmtree(stage, ignore_errors=True)
        try:
            with tqdm(
                total=report.n_items, unit="item", file=sys.stderr, disable=args.quiet
            ) as bar:

                def step(stem: str) -> None:
                    bar.set_description(stem)
                    bar.update(1)

                index = write_release_report(
                    con, settings, release_id, stage, formats=formats, progress=step, report=report
                )
            _move_into(stage, out)
            index = out / index.relative_to(stage)
        finally:
            shutil.rmtree(stage, ignore_errors=True)
    finally:
        con.close()
    print(f"release {release_id}: charts and tables in {out} (index: {index})")
    return 0


def _move_into(stage: Path, out: Path) -> None:
    """Every file under `stage` into the same place under `out`, replacing what is there; files
    of `out` that the stage does not hold (e.g. the extracts) stay."""
    for path in sorted(stage.rglob("*")):
        if path.is_file():
            target = out / path.relative_to(stage)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(path, target)


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

    ui = sub.add_parser("ui", help="open the Dagster UI (dagster dev) on the project's instance")
    ui.add_argument("--host", default="127.0.0.1", help="address to bind (default: localhost only)")
    ui.add_argument("--port", type=int, default=3000)
    ui.set_defaults(func=cmd_ui)

    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # one line for the user, never a traceback or a class path
        message = user_message(exc)
        if message is None:
            print(f"error: {unexpected_message(exc)}", file=sys.stderr)
            return 1
        print(f"error: {message}", file=sys.stderr)
        return 2


def out_of_memory(exc: BaseException) -> bool:
    """Python, DuckDB or a thread that could not get memory (as under a `ulimit -v`)."""
    import duckdb

    if isinstance(exc, (MemoryError, duckdb.OutOfMemoryException)):
        return True
    # threading.Thread.start when the stack of a new thread cannot be mapped.
    return isinstance(exc, RuntimeError) and "can't start new thread" in str(exc)


def unexpected_message(exc: BaseException) -> str:
    """One line for an error the project did not foresee (a bug, or a library's failure): what
    failed, and a file holding the traceback to report, since the terminal gets none."""
    import tempfile
    import traceback

    first = (str(exc).strip().splitlines() or [""])[0][:300]
    what = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
    try:
        fd, path = tempfile.mkstemp(prefix="pdpipeline-error-", suffix=".txt")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write("".join(traceback.format_exception(exc)))
    except OSError:
        return f"unexpected failure ({what}); please report it with the command you ran"
    return f"unexpected failure ({what}); please report it with the traceback in {path}"


def user_message(exc: BaseException) -> str | None:
    """The one-line message for an error the user can act on (None: unforeseen, see
    `unexpected_message`)."""
    from pipelines.eoir.archive import ReleaseError
    from pipelines.extracts.codebook import ExtractError
    from pipelines.warehouse.lock import WarehouseLocked

    if out_of_memory(exc):
        return OUT_OF_MEMORY
    if isinstance(exc, (CliError, SettingsError, ReleaseError, WarehouseLocked, ExtractError)):
        return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if isinstance(exc, OSError) and exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        where = Path(exc.filename).parent if exc.filename else "its folder"
        return (
            f"cannot write {exc.filename} ({exc.strerror}): make {where} writable, or point "
            "the PD_* setting for it elsewhere"
        )
    if isinstance(exc, OSError) and exc.errno == 28:  # ENOSPC
        return f"no space left on the device holding {exc.filename or 'the output'}; free space"
    return None


if __name__ == "__main__":
    sys.exit(main())
