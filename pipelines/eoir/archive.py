"""Locate the tables of an EOIR "case data" release, zipped or extracted.

Layout (docs/EOIR_FORMAT.md#release-layout): `EOIR Case Data YYYY-MMDD/EOIR Case Data/*.csv` and
`.../Lookup/*.csv`, plus `Count.txt` whose folder is not established; older releases are
described without the dated top folder. So every file is found by name, case-insensitively, at
any depth. Zip members are often Deflate64, which CPython's zipfile cannot inflate: the
`zipfile_deflate64` package patches zipfile to read them, streaming, without extracting the
15-20 GB release to disk.

A release is read as data, never as instructions: a member's name only decides whether it is one
of the tables this pipeline knows (`columns.CORE_TABLES`, `columns.KNOWN_LOOKUPS`), and the table
it is loaded into is spelled by those lists, never by the member. Every member is listed with
what is done with it (`Release.entries`, written to raw.release_members): members outside the
release (a `..` or absolute name in a zip, a symlink leaving a folder) and members beyond the
limits of `eoir.limits` are refused before a byte of them is read.
"""

from __future__ import annotations

import os
import re
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path, PurePosixPath
from typing import IO

import zipfile_deflate64  # noqa: F401  (registers Deflate64 with zipfile)

from pipelines.eoir import limits
from pipelines.eoir.columns import CORE_TABLES, KNOWN_LOOKUPS

SYNTHETIC_MARKER = "synthetic-readme.txt"
_DATED_FOLDER = re.compile(r"EOIR Case Data (\d{4})-(\d{2})(\d{2})", re.IGNORECASE)


class ReleaseError(Exception):
    """A release that cannot be read; the message names the file and what to do."""


@dataclass(frozen=True)
class Member:
    name: str  # file stem as published, e.g. "A_TblCase"
    path: str  # member path inside the zip, or a filesystem path
    size: int
    is_lookup: bool


# What the pipeline does with a member (raw.release_members.action).
INGESTED = "ingested"
READ = "read"
NOT_USED = "not used by this pipeline"
REFUSED = "refused"
UNREADABLE = "unreadable"


@dataclass
class MemberEntry:
    """One file of the release and what the pipeline does with it."""

    path: str  # as named in the zip, or relative to the release folder
    size: int
    compressed_size: int | None
    kind: str  # core table | lookup | count | marker | other
    table: str | None  # the raw table it is loaded into (our spelling), if any
    action: str
    detail: str = ""


_CORE_BY_KEY = {t.lower(): t for t in CORE_TABLES}
_LOOKUP_BY_KEY = {t.lower(): t for t in KNOWN_LOOKUPS}


@dataclass
class Release:
    source: Path
    is_zip: bool
    release_id: str
    release_date: date | None
    synthetic: bool
    members: dict[str, Member] = field(default_factory=dict)  # lower-case stem -> member
    count_txt: dict[str, int] = field(default_factory=dict)  # lower-case table -> rows
    count_txt_path: str | None = None
    entries: list[MemberEntry] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)  # lower-case table -> why

    def member(self, table: str) -> Member:
        m = self.members.get(table.lower())
        if m is not None and m.is_lookup and table.lower() in _CORE_BY_KEY:
            raise ReleaseError(
                f"{self.source}: {table}.csv is only inside Lookup/ ({m.path}), where a core "
                "table does not belong. Re-download the release."
            )
        if m is None and table.lower() in self.refused:
            raise ReleaseError(f"{self.source}: {self.refused[table.lower()]}")
        if m is None:
            raise ReleaseError(
                f"{self.source}: table {table}.csv is missing from this release. "
                "Check that the download is complete (EOIR's zip holds it under "
                "'EOIR Case Data/'), or re-download the release."
            )
        return m

    def lookups(self) -> list[Member]:
        """The lookups this pipeline knows (`KNOWN_LOOKUPS`); the others are listed, not loaded."""
        return sorted(
            (m for k, m in self.members.items() if m.is_lookup and k in _LOOKUP_BY_KEY),
            key=lambda m: m.name,
        )

    def shown(self, member: Member) -> str:
        """The member's name in raw.release_members: as in the zip, or relative to the folder."""
        return member.path if self.is_zip else str(Path(member.path).relative_to(self.source))

    @contextmanager
    def open(self, member: Member) -> Iterator[IO[bytes]]:
        """The member's bytes. Only errors of reading the zip become a 'corrupt' ReleaseError;
        an error of the caller (a full temp disk while decoding) passes through as it is."""
        if self.is_zip:
            try:
                zf = zipfile.ZipFile(self.source)
                fh = zf.open(member.path)
            except (zipfile.BadZipFile, EOFError, OSError, NotImplementedError) as exc:
                raise self._corrupt(member, exc) from exc
            try:
                yield _CheckedReader(fh, lambda exc: self._corrupt(member, exc))
            finally:
                fh.close()
                zf.close()
        else:
            with open(member.path, "rb") as fh:
                yield fh

    def _corrupt(self, member: Member, exc: BaseException) -> ReleaseError:
        return ReleaseError(
            f"{self.source}: cannot read {member.path} from the zip ({exc}). "
            "The file is truncated or corrupt: download the release again."
        )


class _CheckedReader:
    """A zip member's stream whose read errors name the release and say what to do."""

    def __init__(self, fh: IO[bytes], wrap):
        self._fh = fh
        self._wrap = wrap

    def read(self, n: int = -1) -> bytes:
        try:
            return self._fh.read(n)
        except (zipfile.BadZipFile, EOFError, OSError, NotImplementedError, zlib.error) as exc:
            raise self._wrap(exc) from exc


def release_id_for(release_date: date | None, synthetic: bool, fallback: str) -> str:
    base = release_date.strftime("%Y-%m") if release_date else fallback
    return f"synthetic-{base}" if synthetic else base


def _parse_count_txt(text: str, where: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for lineno, line in enumerate(text.splitlines(), 1):
        line = line.replace("\x00", "").strip()
        if not line:
            continue
        parts = re.split(r"\t+|\s{2,}|,", line)
        if len(parts) < 2 or not parts[-1].strip().replace(",", "").isdigit():
            raise ReleaseError(
                f"{where} line {lineno}: expected '<TableName><TAB><rows>', got {line[:80]!r}. "
                "Count.txt may be damaged: re-download the release."
            )
        name = re.sub(r"\.csv$", "", parts[0].strip(), flags=re.IGNORECASE)
        counts[name.lower()] = int(parts[-1].strip().replace(",", ""))
    return counts


def _outside(pp: PurePosixPath) -> bool:
    """A zip name that would leave the release: absolute, a drive, or a `..` part."""
    return pp.is_absolute() or ".." in pp.parts or (bool(pp.parts) and ":" in pp.parts[0])


def _limit_problem(name: str, size: int, compressed: int | None, is_lookup: bool) -> str:
    cap = limits.MAX_LOOKUP_BYTES if is_lookup else limits.MAX_MEMBER_BYTES
    env = "PD_EOIR_MAX_LOOKUP_BYTES" if is_lookup else "PD_EOIR_MAX_MEMBER_BYTES"
    if size > cap:
        return (
            f"{name} is {size / 1e6:,.0f} MB uncompressed, beyond the limit of {cap / 1e6:,.0f} MB "
            f"for {'a lookup' if is_lookup else 'one table'}; refused before decompression. "
            f"If the file is genuine, raise {env}"
        )
    if compressed is not None and size > limits.RATIO_EXEMPT_BYTES:
        ratio = size / max(compressed, 1)
        if ratio > limits.MAX_COMPRESSION_RATIO:
            return (
                f"{name} would expand {ratio:,.0f}x ({compressed:,} -> {size:,} bytes), beyond the "
                f"limit of {limits.MAX_COMPRESSION_RATIO}x; refused before decompression. If the "
                "file is genuine, raise PD_EOIR_MAX_COMPRESSION_RATIO"
            )
    return ""


def _classify(
    paths: list[tuple[str, int, int | None]],
    source: Path,
    is_zip: bool,
    refused: list[MemberEntry] | None = None,
) -> Release:
    """Sort the files of a release; `paths` holds (name, size, compressed size or None)."""
    members: dict[str, Member] = {}
    entries: list[MemberEntry] = list(refused or [])
    refused_tables: dict[str, str] = {}
    count_path = None
    release_date = None
    synthetic = False
    for p, size, compressed in paths:
        pp = PurePosixPath(p.replace("\\", "/"))
        shown = p if is_zip else str(Path(p).relative_to(source))
        if _outside(pp) and is_zip:
            entries.append(
                MemberEntry(
                    shown, size, compressed, "other", None, REFUSED, "name leaves the release"
                )
            )
            continue
        m = _DATED_FOLDER.search(str(pp))
        if m and release_date is None:
            release_date = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        low = pp.name.lower()
        if low == SYNTHETIC_MARKER:
            synthetic = True
            entries.append(MemberEntry(shown, size, compressed, "marker", None, READ, "synthetic"))
        elif low == "count.txt":
            problem = _limit_problem(pp.name, size, compressed, is_lookup=True)
            if problem:
                entries.append(
                    MemberEntry(shown, size, compressed, "count", None, REFUSED, problem)
                )
                continue
            count_path = p
            entries.append(MemberEntry(shown, size, compressed, "count", None, READ, "row counts"))
        elif low.endswith(".csv"):
            is_lookup = any(part.lower() == "lookup" for part in pp.parts[:-1])
            key = pp.stem.lower()
            known = _LOOKUP_BY_KEY.get(key) if is_lookup else _CORE_BY_KEY.get(key)
            kind = "lookup" if is_lookup else "core table"
            if key in members and members[key].is_lookup == is_lookup:
                raise ReleaseError(
                    f"{source}: {pp.name} appears twice ({members[key].path} and {p})."
                )
            problem = _limit_problem(pp.name, size, compressed, is_lookup)
            if known and problem:
                refused_tables[key] = problem
                entries.append(MemberEntry(shown, size, compressed, kind, known, REFUSED, problem))
                continue
            # Only the tables this pipeline knows are loaded, under our own spelling; a core name
            # inside Lookup/ (or a lookup name outside it) is not what it claims to be. Unknown
            # tables stay in `members` so that completeness checks see them, but nothing loads them.
            # A core table wins over a lookup of the same name.
            if key not in members or not is_lookup:
                members[key] = Member(known or pp.stem, p, size, is_lookup)
            if known:
                entries.append(
                    MemberEntry(shown, size, compressed, kind, known, INGESTED, f"raw.{known}")
                )
            else:
                entries.append(MemberEntry(shown, size, compressed, kind, None, NOT_USED, ""))
        else:
            entries.append(MemberEntry(shown, size, compressed, "other", None, NOT_USED, ""))
    if not members and not refused_tables:
        raise ReleaseError(
            f"{source}: no EOIR tables (*.csv) found. Point the pipeline at the EOIR "
            "'EOIR Case Data.zip' or the folder it extracts to."
        )
    fallback = re.sub(r"[^A-Za-z0-9-]+", "-", source.stem).strip("-").lower() or "release"
    rel = Release(
        source=source,
        is_zip=is_zip,
        release_id=release_id_for(release_date, synthetic, fallback),
        release_date=release_date,
        synthetic=synthetic,
        members=members,
        count_txt_path=count_path,
        entries=entries,
        refused=refused_tables,
    )
    return rel


def _folder_files(source: Path) -> tuple[list[tuple[str, int, None]], list[MemberEntry]]:
    """Files under a release folder, never following a link that leaves it."""
    root = source.resolve()
    files: list[tuple[str, int, None]] = []
    refused: list[MemberEntry] = []
    for dirpath, dirnames, filenames in os.walk(source, followlinks=False):
        for d in list(dirnames):
            p = Path(dirpath) / d
            if p.is_symlink():
                dirnames.remove(d)  # its files, if inside, are found by their real path
                if not p.resolve().is_relative_to(root):
                    refused.append(
                        MemberEntry(
                            str(p.relative_to(source)),
                            0,
                            None,
                            "other",
                            None,
                            REFUSED,
                            "symlink to a folder outside the release",
                        )
                    )
        for f in sorted(filenames):
            p = Path(dirpath) / f
            if f.startswith("._"):
                continue
            if p.is_symlink() and not p.resolve().is_relative_to(root):
                refused.append(
                    MemberEntry(
                        str(p.relative_to(source)),
                        0,
                        None,
                        "other",
                        None,
                        REFUSED,
                        "symlink to a file outside the release",
                    )
                )
                continue
            if not p.is_file():
                continue
            files.append((str(p), p.stat().st_size, None))
    files.sort()
    return files, refused


def open_release(path: str | Path) -> Release:
    """Index a release (zip or folder): its tables, lookups, Count.txt and identity."""
    source = Path(path)
    if not source.exists():
        raise ReleaseError(f"{source}: no such file or folder. Put the EOIR zip in data/raw/eoir/.")
    if source.is_dir():
        files, refused = _folder_files(source)
        rel = _classify(files, source, is_zip=False, refused=refused)
        if rel.count_txt_path:
            raw = Path(rel.count_txt_path).read_bytes()
            rel.count_txt = _parse_count_txt(raw.decode("cp1252", "replace"), rel.count_txt_path)
        return rel
    try:
        with zipfile.ZipFile(source) as zf:
            infos = [
                (i.filename, i.file_size, i.compress_size) for i in zf.infolist() if not i.is_dir()
            ]
            rel = _classify(infos, source, is_zip=True)
            if rel.count_txt_path:
                raw = zf.read(rel.count_txt_path)
                rel.count_txt = _parse_count_txt(
                    raw.decode("cp1252", "replace"), f"{source}:{rel.count_txt_path}"
                )
    except zipfile.BadZipFile as exc:
        raise ReleaseError(
            f"{source}: not a readable zip ({exc}). The download is probably truncated or "
            "still being copied: wait for it to finish or download it again."
        ) from exc
    return rel
