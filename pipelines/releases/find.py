"""Find the FOIA releases under data/raw/ and tell whether each is complete.

A release is an EOIR zip, or a folder that holds a Count.txt or A_TblCase.csv. Its id comes
from the release itself (`EOIR Case Data 2026-0401` -> `2026-04`; `synthetic-...` when the
generator's SYNTHETIC-README.txt is inside), so the same drop always maps to the same partition.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from pipelines.eoir.archive import ReleaseError, open_release

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FoundRelease:
    release_id: str
    path: Path
    synthetic: bool
    complete: bool
    problem: str = ""


def candidate_paths(raw_dir: Path) -> list[Path]:
    """Every zip, and every folder holding an EOIR tree, under raw_dir (complete or not)."""
    if not raw_dir.exists():
        return []
    found: list[Path] = []
    for p in sorted(raw_dir.rglob("*")):
        if any(part.startswith(".") for part in p.relative_to(raw_dir).parts):
            continue
        if p.is_file() and p.suffix.lower() == ".zip":
            found.append(p)
        elif p.is_file() and p.name.lower() in ("count.txt", "a_tblcase.csv"):
            # The release folder is the top of the EOIR tree holding this file.
            top = p.parent
            while (
                top.parent != raw_dir
                and top != raw_dir
                and (
                    top.name.lower() in ("eoir case data", "lookup")
                    or top.name.lower().startswith("eoir case data")
                )
            ):
                top = top.parent
            if top not in found and not any(top.is_relative_to(f) for f in found if f.is_dir()):
                found.append(top)
    return found


def check_complete(path: Path) -> FoundRelease:
    """Open a release and check it is whole: readable, Count.txt present, every counted table present."""
    try:
        rel = open_release(path)
    except ReleaseError as exc:
        return FoundRelease(path.stem, path, False, False, str(exc))
    missing = [t for t in rel.count_txt if t not in rel.members]
    if not rel.count_txt and "a_tblcase" not in rel.members:
        found = ", ".join(sorted(m.name + ".csv" for m in rel.members.values())[:5])
        problem = (
            f"{path}: not an EOIR case-data release (no Count.txt, no A_TblCase.csv; it holds "
            f"{found}): use EOIR's 'EOIR Case Data.zip' or the folder it extracts to"
        )
    elif not rel.count_txt:
        problem = f"{path}: no Count.txt (the release is incomplete or still being copied)"
    elif missing:
        problem = f"{path}: Count.txt lists tables that are not present: {', '.join(missing)}"
    elif "a_tblcase" not in rel.members:
        problem = f"{path}: A_TblCase.csv is missing"
    else:
        problem = ""
    return FoundRelease(rel.release_id, path, rel.synthetic, not problem, problem)


def count_lines(fh, chunk: int = 8 << 20) -> int:
    """Data lines of a table as the ingest counts them: newlines, less the header line."""
    n, last = 0, b"\n"
    while block := fh.read(chunk):
        n += block.count(b"\n")
        last = block[-1:]
    if last != b"\n":
        n += 1  # a last line without its newline
    return max(n - 1, 0)


def check_whole(path: Path) -> str:
    """Read every byte of a release that `check_complete` accepted; "" when it is whole.

    A zip is whole when every member inflates with a good CRC (a preallocated or segmented
    download can have a readable central directory over missing data); a folder when each table
    that Count.txt counts has that many lines (a half-copied table is short). Costs one read of
    the release, so the watcher runs it once per fingerprint.
    """
    try:
        rel = open_release(path)
    except ReleaseError as exc:
        return str(exc)
    if rel.is_zip:
        import zipfile

        name = "(central directory)"
        try:
            with zipfile.ZipFile(path) as zf:
                for info in zf.infolist():
                    if info.is_dir():
                        continue
                    name = info.filename
                    with zf.open(info) as fh:
                        while fh.read(8 << 20):
                            pass
        except Exception as exc:  # noqa: BLE001 - zlib, Deflate64, CRC: any of them means unreadable
            return (
                f"{path}: member {name} cannot be read ({exc}): the zip is incomplete "
                "or corrupt; wait for the copy or download to finish, or download it again"
            )
        return ""
    for table, expected in sorted(rel.count_txt.items()):
        member = rel.members.get(table)
        if member is None:
            continue  # check_complete reports missing tables
        with open(member.path, "rb") as fh:
            lines = count_lines(fh)
        if lines != expected:
            return (
                f"{member.path}: {lines:,} lines but Count.txt gives {expected:,}: the table is "
                "incomplete (still being copied?) or Count.txt belongs to another release; "
                "copy the release again"
            )
    return ""


def discover_releases(raw_dir: Path) -> dict[str, FoundRelease]:
    """Every release under raw_dir keyed by release id (complete or not)."""
    out: dict[str, FoundRelease] = {}
    for path in candidate_paths(raw_dir):
        found = check_complete(path)
        if found.release_id in out and out[found.release_id].complete:
            log.warning(
                "release %s found twice: %s and %s (keeping the first)",
                found.release_id,
                out[found.release_id].path,
                path,
            )
            continue
        out[found.release_id] = found
    return out


def resolve_release(raw_dir: Path, release_id: str, release_path: str = "") -> Path:
    """The path of a release, from an explicit path or by id under raw_dir."""
    if release_path:
        return Path(release_path)
    found = discover_releases(raw_dir)
    if release_id not in found:
        raise ReleaseError(
            f"release {release_id!r} is not under {raw_dir} (found: {', '.join(sorted(found)) or 'none'}). "
            "Put the EOIR zip in data/raw/eoir/ or set PD_RELEASE_PATH."
        )
    return found[release_id].path


def ice_files_for(release_path: Path) -> list[Path]:
    """ICE workbooks that travel with a release: an `ice/` folder beside the EOIR zip or folder."""
    folder = release_path.parent / "ice"
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*.xlsx") if not p.name.startswith("~$"))
