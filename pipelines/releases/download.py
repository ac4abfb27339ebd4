"""Download EOIR's case-data zip into data/raw/eoir/, resumably and checked (Dagster-free).

EOIR publishes the whole case database as one zip of about 4 GB ("EOIR Case Data.zip") in its
FOIA library, replaced every month. A 4 GB transfer over a long-lived connection gets cut; so:

* the bytes stream into `data/raw/eoir/.download/EOIR Case Data.zip.part` in chunks (the
  dot-folder is invisible to the release sensor and to `discover_releases`);
* an interrupted transfer resumes where it stopped with an HTTP Range request, within the same
  call (a few attempts) or on the next call; `If-Range` with the server's ETag/Last-Modified
  makes the server send the whole file again if it changed meanwhile, so two versions are never
  spliced together;
* when the transfer ends, the size must equal the server's Content-Length, the zip's central
  directory must read (with Deflate64 support, as EOIR's members often are Deflate64) and hold a
  Count.txt whose tables are all present (`pipelines.releases.check_complete`);
* only then is the file renamed, atomically, to `data/raw/eoir/<release date>/EOIR Case Data.zip`
  (the date of the zip's `EOIR Case Data YYYY-MMDD` folder, else today's date), where the sensor
  finds it complete at once.

Bounded: the transfer stops and removes its partial file when it would exceed `max_bytes`
(announced by the server, or counted while an endless body streams in; the `download_max_bytes`
setting), and a connection that sends less than `STALL_MIN_BYTES` in `stall_timeout` seconds is
dropped and resumed (`download_stall_timeout`): a server that trickles a byte now and then keeps
a socket timeout from ever firing, so the rule is about progress, not about silence. A disk that fills up ends the download with one line naming
the folder and the space needed, and the partial file is removed, so the disk does not stay full;
when the server announces the size, that is checked against the free space before any byte is
written.

A zip that arrives whole but fails the integrity check is moved aside (`.rejected`) rather than
resumed, since more bytes cannot fix it. The last completed download's validators are kept, so
a monthly schedule that finds the same file on the server does not fetch 4 GB again.
"""

from __future__ import annotations

import errno
import http.client
import json
import logging
import os
import re
import shutil
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from pipelines.eoir.archive import ReleaseError, open_release
from pipelines.releases.find import check_complete

log = logging.getLogger(__name__)

DEFAULT_URL = "https://fileshare.eoir.justice.gov/EOIR%20Case%20Data.zip"
ZIP_NAME = "EOIR Case Data.zip"
STAGING = ".download"
USER_AGENT = "pd-pipeline (FOIA research pipeline; resumable download)"

Progress = Callable[[int, int | None], None]


class DownloadError(Exception):
    """A download that did not produce a usable release; the message says what to do."""


@dataclass(frozen=True)
class DownloadResult:
    path: Path | None  # where the release now lies (None when nothing new was fetched)
    release_id: str | None
    total_bytes: int
    transferred_bytes: int  # bytes fetched by this call (less than total after a resume)
    resumed_from: int  # byte at which this call resumed an earlier partial file (0 = fresh)
    attempts: int
    note: str = ""


def staging_dir(raw_dir: Path) -> Path:
    return raw_dir / "eoir" / STAGING


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
    os.replace(tmp, path)


def _validators(headers) -> dict:
    return {
        "etag": headers.get("ETag") or "",
        "last_modified": headers.get("Last-Modified") or "",
        "length": headers.get("Content-Length") or "",
    }


_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)")


class ProgressLog:
    """A progress callback that logs every `step` of the total (or every `step_bytes`)."""

    def __init__(
        self, emit: Callable[[str], None], step: float = 0.05, step_bytes: int = 256 << 20
    ):
        self.emit = emit
        self.step = step
        self.step_bytes = step_bytes
        self._next: float | None = None

    def __call__(self, done: int, total: int | None) -> None:
        if total:
            if self._next is None:
                self._next = (int(done / total / self.step) + 1) * self.step
            if done >= total or done / total >= self._next:
                self.emit(
                    f"downloaded {done / 1e6:,.1f} of {total / 1e6:,.1f} MB ({done / total:.0%})"
                )
                while self._next <= done / total:
                    self._next += self.step
        else:
            if self._next is None:
                self._next = done + self.step_bytes
            if done >= self._next:
                self.emit(f"downloaded {done / 1e6:,.1f} MB (size unknown)")
                self._next = done + self.step_bytes


def remote_unchanged(url: str, raw_dir: Path, timeout: float = 60.0) -> bool:
    """True when the server's file has the validators of the last completed download."""
    last = _read_json(staging_dir(raw_dir) / "last.json")
    if not last or last.get("url") != url or not Path(last.get("path", "")).exists():
        return False
    req = urllib.request.Request(url, method="HEAD", headers={"User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            now = _validators(resp.headers)
    except (urllib.error.URLError, OSError, http.client.HTTPException):
        return False
    strong = [k for k in ("etag", "last_modified") if now[k] and last.get(k)]
    return (
        bool(strong)
        and all(now[k] == last[k] for k in strong)
        and now["length"] == last.get("length")
    )


def _discard(part: Path, meta_path: Path) -> None:
    part.unlink(missing_ok=True)
    meta_path.unlink(missing_ok=True)


def _no_space(url: str, folder: Path, need: int | None, have: int) -> DownloadError:
    free = shutil.disk_usage(folder).free
    need_text = f"{need:,} bytes" if need is not None else f"more than the {have:,} bytes written"
    return DownloadError(
        f"{url}: no space left in {folder} (the zip needs {need_text}, {free:,} bytes are free); "
        "the partial file was removed. Free space there, or set PD_RAW_DIR to a bigger disk, "
        "and download again."
    )


# A connection is stalled when it brings fewer bytes than this in `timeout` seconds: 64 KiB a
# minute (the default timeout) is about 1 KB/s, at which EOIR's 4 GB zip would take seven weeks.
STALL_MIN_BYTES = 64 * 1024


class Stalled(OSError):
    """The connection is open but brings (almost) nothing: treated like a dropped connection."""


def download_release(
    url: str,
    raw_dir: Path,
    *,
    chunk_size: int = 1 << 20,
    timeout: float = 60.0,
    max_bytes: int | None = None,
    max_attempts: int = 5,
    retry_wait: float = 5.0,
    progress: Progress | None = None,
    today: date | None = None,
    skip_if_unchanged: bool = True,
) -> DownloadResult:
    """Fetch the EOIR zip at `url` into `raw_dir/eoir/<release date>/EOIR Case Data.zip`.

    `timeout` is the stall timeout: a connection that brings fewer than `STALL_MIN_BYTES` in
    that many seconds is dropped (and resumed, up to `max_attempts`); `max_bytes` caps the file's
    size.
    """
    stage = staging_dir(raw_dir)
    stage.mkdir(parents=True, exist_ok=True)
    part = stage / f"{ZIP_NAME}.part"
    meta_path = stage / "partial.json"

    if skip_if_unchanged and remote_unchanged(url, raw_dir, timeout):
        last = _read_json(stage / "last.json")
        return DownloadResult(
            None, last.get("release_id"), int(last.get("length") or 0), 0, 0, 0,
            note=f"unchanged on the server since the last download ({last.get('path')})",
        )  # fmt: skip

    meta = _read_json(meta_path)
    if part.exists() and meta.get("url") != url:
        # A partial file from another URL cannot be resumed from this one.
        part.unlink()
        meta = {}
    resumed_from = 0
    transferred = 0
    total: int | None = meta.get("total")
    attempts = 0

    while True:
        attempts += 1
        have = part.stat().st_size if part.exists() else 0
        headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
        if have:
            headers["Range"] = f"bytes={have}-"
            validator = meta.get("etag") or meta.get("last_modified")
            if validator:
                headers["If-Range"] = validator
        req = urllib.request.Request(url, headers=headers)
        try:
            resp = urllib.request.urlopen(req, timeout=timeout)
        except urllib.error.HTTPError as exc:
            if exc.code == 416 and have and total == have:
                break  # the partial file is already whole
            if exc.code == 416:
                part.unlink(missing_ok=True)  # the server's file is shorter: start over
                meta = {}
                if attempts < max_attempts:
                    continue
            raise DownloadError(
                f"{url}: the server answered HTTP {exc.code} {exc.reason}. Check the URL "
                "(EOIR's FOIA library page links the current 'EOIR Case Data' zip)."
            ) from exc
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
            if attempts < max_attempts:
                log.warning("cannot reach %s (%s); retrying in %.0fs", url, exc, retry_wait)
                time.sleep(retry_wait)
                continue
            raise DownloadError(
                f"{url}: cannot connect ({exc}). This machine may have no internet access; "
                f"the partial file, if any, stays at {part} and the next run resumes it."
            ) from exc

        with resp:
            if resp.status == 206:
                m = _CONTENT_RANGE.match(resp.headers.get("Content-Range", ""))
                if not m or int(m.group(1)) != have:
                    raise DownloadError(
                        f"{url}: asked for bytes from {have}, the server sent "
                        f"{resp.headers.get('Content-Range')!r}; delete {part} and run again"
                    )
                total = int(m.group(3)) if m.group(3) != "*" else None
                mode = "ab"
                if not transferred:
                    resumed_from = have
                log.info("resuming %s at byte %d", url, have)
            else:
                # 200: a fresh transfer (first try, or the server ignored Range / the file changed)
                length = resp.headers.get("Content-Length")
                total = int(length) if length and length.isdigit() else None
                mode = "wb"
                have = 0
                meta = {"url": url, **_validators(resp.headers)}
            meta["total"] = total
            if max_bytes is not None and total is not None and total > max_bytes:
                _discard(part, meta_path)
                raise DownloadError(
                    f"{url}: the server announces {total:,} bytes, more than the download cap of "
                    f"{max_bytes:,} (PD_DOWNLOAD_MAX_BYTES; EOIR's zip is about 4 GB). Check the "
                    "URL, or raise the cap if EOIR's release has grown."
                )
            if total is not None and shutil.disk_usage(stage).free < total - have:
                _discard(part, meta_path)
                raise _no_space(url, stage, total - have, have)
            _write_json(meta_path, meta)
            try:
                with open(part, mode) as out:
                    mark, since_mark = time.monotonic(), 0
                    while True:
                        # read1: what has arrived (up to chunk_size), so a trickle is seen
                        # as it comes rather than after chunk_size bytes.
                        chunk = resp.read1(chunk_size)
                        if not chunk:
                            break

                        if max_bytes is not None and have + len(chunk) > max_bytes:
                            out.close()
                            _discard(part, meta_path)
                            raise DownloadError(
                                f"{url}: the download passed the cap of {max_bytes:,} bytes "
                                "(PD_DOWNLOAD_MAX_BYTES) without ending; the partial file was "
                                "removed. Check the URL, or raise the cap."
                            )
                        out.write(chunk)
                        have += len(chunk)
                        transferred += len(chunk)
                        if progress is not None:
                            progress(have, total)
                        since_mark += len(chunk)
                        if since_mark >= STALL_MIN_BYTES:
                            mark, since_mark = time.monotonic(), 0
                        elif time.monotonic() - mark > timeout:
                            raise Stalled(
                                f"{since_mark:,} bytes in {time.monotonic() - mark:.0f} s, fewer "
                                f"than {STALL_MIN_BYTES:,} (PD_DOWNLOAD_STALL_TIMEOUT)"
                            )
            except (OSError, http.client.HTTPException) as exc:
                if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
                    _discard(part, meta_path)
                    raise _no_space(url, stage, total, have) from None
                # A stall (too few bytes in `timeout` s, or none) or a dropped connection
                # (IncompleteRead, reset, timeout): keep the bytes, resume.
                if attempts < max_attempts:
                    log.warning(
                        "transfer of %s interrupted at %d of %s bytes (%s); resuming",
                        url, have, total, exc,
                    )  # fmt: skip
                    time.sleep(retry_wait)
                    continue
                raise DownloadError(
                    f"{url}: transfer interrupted after {have:,} of "
                    f"{total if total is not None else '?'} bytes ({exc}). The partial file stays "
                    f"at {part}; run the download again to resume it."
                ) from exc
        if total is not None and have < total:
            if attempts < max_attempts:
                time.sleep(retry_wait)
                continue
            raise DownloadError(
                f"{url}: the server closed the connection after {have:,} of {total:,} bytes; "
                f"the partial file stays at {part}; run the download again to resume it."
            )
        break

    size = part.stat().st_size
    if total is not None and size != total:
        part.unlink()
        meta_path.unlink(missing_ok=True)
        raise DownloadError(
            f"{url}: downloaded {size:,} bytes but the server announced {total:,}; the partial "
            "file was discarded, run the download again"
        )
    found = check_complete(part)
    if not found.complete:
        rejected = part.with_suffix(".rejected")
        os.replace(part, rejected)
        meta_path.unlink(missing_ok=True)
        raise DownloadError(
            f"{url}: the downloaded file is not a complete EOIR release ({found.problem}). "
            f"It was moved to {rejected} for inspection; download again later, or report "
            "the broken file to EOIR's FOIA office."
        )
    try:
        release = open_release(part)
    except ReleaseError as exc:  # pragma: no cover - check_complete opened it just before
        raise DownloadError(str(exc)) from exc
    folder = (release.release_date or today or date.today()).isoformat()
    dest = raw_dir / "eoir" / folder / ZIP_NAME
    dest.parent.mkdir(parents=True, exist_ok=True)
    note = ""
    if dest.exists():
        note = f"replaced the earlier download at {dest}"
    # Same file system (the staging folder is inside raw_dir/eoir): the rename is atomic, so the
    # sensor never sees a half-written zip under its final name.
    os.replace(part, dest)
    meta_path.unlink(missing_ok=True)
    _write_json(
        stage / "last.json",
        {
            "url": url,
            "path": str(dest),
            "release_id": release.release_id,
            **{k: meta.get(k, "") for k in ("etag", "last_modified")},
            "length": str(size),
        },
    )
    return DownloadResult(
        dest, release.release_id, size, transferred, resumed_from, attempts, note=note
    )
