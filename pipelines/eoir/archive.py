"""Locate the tables of an EOIR "case data" release, zipped or extracted.

Layout (docs/EOIR_FORMAT.md#release-layout): `EOIR Case Data YYYY-MMDD/EOIR Case Data/*.csv` and
`.../Lookup/*.csv`, plus `Count.txt` whose folder is not established; older releases are
described without the dated top folder. So every file is found by name, case-insensitively, at
any depth. Zip members are often Deflate64, which CPython's zipfile cannot inflate: the
`zipfile_deflate64` package patches zipfile to read them, streaming, without extracting the
15-20 GB release to disk.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path, PurePosixPath
from typing import IO

import zipfile_deflate64  # noqa: F401  (registers Deflate64 with zipfile)

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

    def member(self, table: str) -> Member:
        m = self.members.get(table.lower())
        if m is None:
            raise ReleaseError(
                f"{self.source}: table {table}.csv is missing from this release. "
                "Check that the download is complete (EOIR's zip holds it under "
                "'EOIR Case Data/'), or re-download the release."
            )
        return m

    def lookups(self) -> list[Member]:
        return sorted((m for m in self.members.values() if m.is_lookup), key=lambda m: m.name)

    @contextmanager
    def open(self, member: Member) -> Iterator[IO[bytes]]:
        if self.is_zip:
            try:
                with zipfile.ZipFile(self.source) as zf, zf.open(member.path) as fh:
                    yield fh
            except (zipfile.BadZipFile, EOFError, OSError, NotImplementedError) as exc:
                raise ReleaseError(
                    f"{self.source}: cannot read {member.path} from the zip ({exc}). "
                    "The file is truncated or corrupt: download the release again."
                ) from exc
        else:
            with open(member.path, "rb") as fh:
                yield fh


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


def _classify(paths: list[tuple[str, int]], source: Path, is_zip: bool) -> Release:
    members: dict[str, Member] = {}
    count_path = None
    release_date = None
    synthetic = False
    for p, size in paths:
        pp = PurePosixPath(p.replace("\\", "/"))
        m = _DATED_FOLDER.search(str(pp))
        if m and release_date is None:
            release_date = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        low = pp.name.lower()
        if low == SYNTHETIC_MARKER:
            synthetic = True
        elif low == "count.txt":
            count_path = p
        elif low.endswith(".csv"):
            is_lookup = any(part.lower() == "lookup" for part in pp.parts[:-1])
            stem = pp.stem
            key = stem.lower()
            if key in members and members[key].is_lookup == is_lookup:
                raise ReleaseError(
                    f"{source}: {pp.name} appears twice ({members[key].path} and {p})."
                )
            # A core table wins over a lookup of the same name.
            if key not in members or not is_lookup:
                members[key] = Member(stem, p, size, is_lookup)
    if not members:
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
    )
    return rel


def open_release(path: str | Path) -> Release:
    """Index a release (zip or folder): its tables, lookups, Count.txt and identity."""
    source = Path(path)
    if not source.exists():
        raise ReleaseError(f"{source}: no such file or folder. Put the EOIR zip in data/raw/eoir/.")
    if source.is_dir():
        files = [
            (str(p), p.stat().st_size)
            for p in sorted(source.rglob("*"))
            if p.is_file() and not p.name.startswith("._")
        ]
        rel = _classify(files, source, is_zip=False)
        if rel.count_txt_path:
            raw = Path(rel.count_txt_path).read_bytes()
            rel.count_txt = _parse_count_txt(raw.decode("cp1252", "replace"), rel.count_txt_path)
        return rel
    try:
        with zipfile.ZipFile(source) as zf:
            infos = [(i.filename, i.file_size) for i in zf.infolist() if not i.is_dir()]
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
