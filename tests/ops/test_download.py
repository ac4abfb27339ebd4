"""The EOIR download against a local HTTP server started by the test (never the internet)."""

from __future__ import annotations

import errno
import hashlib
import socket
import threading
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import dagster as dg
import pytest

from pipelines.assets.releases import DOWNLOAD_KEY, eoir_release_zip
from pipelines.definitions import defs
from pipelines.releases import download as download_module
from pipelines.releases.download import DownloadError, ProgressLog, download_release, staging_dir
from pipelines.releases.find import discover_releases
from pipelines.resources import PipelineSettings
from tests.eoir.conftest import small_release
from tests.ops.releases import next_release


class FileServer:
    """Serves one file with ETag, HEAD and single byte ranges, like a plain static file server.

    `drop_after`: the next GET sends that many body bytes, then the connection is cut.
    `stall_after`: the next GET sends that many body bytes, then nothing for `stall_s` seconds.
    `endless`: every GET announces no length and sends bytes until the client goes away.
    `trickle_after`: the next GET sends that many body bytes, then one byte every 0.1 s (a socket
    timeout never fires) until the client goes away.
    """

    def __init__(self, data: bytes):
        self.set(data)
        self.drop_after: int | None = None
        self.stall_after: int | None = None
        self.stall_s = 3.0
        self.trickle_after: int | None = None
        self.endless = False
        self.requests: list[dict[str, str]] = []

    def set(self, data: bytes) -> None:
        self.data = data
        self.etag = '"' + hashlib.sha256(data).hexdigest()[:16] + '"'


def _handler(fs: FileServer):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # keep the test output quiet
            pass

        def _headers(self, status: int, length: int, extra: dict[str, str]) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/zip")
            self.send_header("Content-Length", str(length))
            self.send_header("ETag", fs.etag)
            self.send_header("Accept-Ranges", "bytes")
            for k, v in extra.items():
                self.send_header(k, v)
            self.end_headers()

        def do_HEAD(self):
            fs.requests.append({"method": "HEAD", **dict(self.headers)})
            self._headers(200, len(fs.data), {})

        def do_GET(self):
            fs.requests.append({"method": "GET", **dict(self.headers)})
            if fs.endless:
                self.send_response(200)
                self.send_header("Content-Type", "application/zip")
                self.end_headers()
                self.close_connection = True
                try:
                    while True:
                        self.wfile.write(b"PK" * 32768)
                except OSError:
                    return
            data, start = fs.data, 0
            rng = self.headers.get("Range")
            if_range = self.headers.get("If-Range")
            if rng and (if_range is None or if_range == fs.etag):
                start = int(rng.removeprefix("bytes=").split("-")[0])
                if start >= len(data):
                    self._headers(416, 0, {"Content-Range": f"bytes */{len(data)}"})
                    return
                body = data[start:]
                self._headers(
                    206, len(body), {"Content-Range": f"bytes {start}-{len(data) - 1}/{len(data)}"}
                )
            else:
                body = data
                self._headers(200, len(body), {})
            if fs.trickle_after is not None:
                cut, fs.trickle_after = fs.trickle_after, None
                self.wfile.write(body[:cut])
                self.wfile.flush()
                self.close_connection = True
                try:
                    for i in range(cut, len(body)):
                        time.sleep(0.1)
                        self.wfile.write(body[i : i + 1])
                        self.wfile.flush()
                except OSError:
                    pass
                return
            if fs.stall_after is not None:
                cut, fs.stall_after = fs.stall_after, None
                self.wfile.write(body[:cut])
                self.wfile.flush()
                time.sleep(fs.stall_s)
                self.close_connection = True
                return
            if fs.drop_after is not None:
                cut, fs.drop_after = fs.drop_after, None
                self.wfile.write(body[:cut])
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)
                self.close_connection = True
                return
            self.wfile.write(body)

    return Handler


@contextmanager
def serve(data: bytes) -> Iterator[tuple[FileServer, str]]:
    fs = FileServer(data)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fs))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fs, f"http://127.0.0.1:{server.server_address[1]}/EOIR%20Case%20Data.zip"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture
def release_zip(tmp_path) -> bytes:
    return small_release(tmp_path).read_bytes()


def _gets(fs: FileServer) -> list[dict[str, str]]:
    return [r for r in fs.requests if r["method"] == "GET"]


def test_download_lands_under_the_release_date_and_the_sensor_sees_it(tmp_path, release_zip):
    raw = tmp_path / "raw"
    messages: list[str] = []
    with serve(release_zip) as (fs, url):
        result = download_release(
            url, raw, chunk_size=4096, retry_wait=0, progress=ProgressLog(messages.append)
        )
    dest = raw / "eoir" / "2026-04-01" / "EOIR Case Data.zip"
    assert result.path == dest and dest.read_bytes() == release_zip
    assert result.release_id == "synthetic-2026-04"
    assert (result.total_bytes, result.transferred_bytes, result.resumed_from) == (
        len(release_zip),
        len(release_zip),
        0,
    )
    assert not list(staging_dir(raw).glob("*.part"))
    assert messages and messages[-1].endswith("(100%)")
    found = discover_releases(raw)
    assert list(found) == ["synthetic-2026-04"] and found["synthetic-2026-04"].complete


def test_interrupted_transfer_resumes_on_the_next_call(tmp_path, release_zip):
    raw = tmp_path / "raw"
    cut = len(release_zip) // 3
    with serve(release_zip) as (fs, url):
        fs.drop_after = cut
        with pytest.raises(DownloadError, match="run the download again to resume"):
            download_release(url, raw, chunk_size=1024, max_attempts=1, retry_wait=0)
        part = staging_dir(raw) / "EOIR Case Data.zip.part"
        assert part.stat().st_size == cut
        assert not (raw / "eoir" / "2026-04-01").exists()  # nothing half-written in place
        result = download_release(url, raw, chunk_size=1024, max_attempts=1, retry_wait=0)
    assert _gets(fs)[-1]["Range"] == f"bytes={cut}-"
    assert _gets(fs)[-1]["If-Range"] == fs.etag
    assert result.resumed_from == cut
    assert result.transferred_bytes == len(release_zip) - cut
    assert result.path.read_bytes() == release_zip


def test_interrupted_transfer_resumes_within_the_same_call(tmp_path, release_zip):
    raw = tmp_path / "raw"
    with serve(release_zip) as (fs, url):
        fs.drop_after = 1000
        result = download_release(url, raw, chunk_size=512, max_attempts=3, retry_wait=0)
    assert result.attempts == 2
    assert [g.get("Range") for g in _gets(fs)] == [None, "bytes=1000-"]
    assert result.path.read_bytes() == release_zip


def test_file_changed_on_the_server_is_fetched_whole_not_spliced(tmp_path, release_zip):
    raw = tmp_path / "raw"
    (tmp_path / "src").mkdir()
    may = next_release(
        small_release(tmp_path / "src"), tmp_path / "may", "EOIR Case Data 2026-0501"
    ).read_bytes()
    with serve(release_zip) as (fs, url):
        fs.drop_after = len(release_zip) // 2
        with pytest.raises(DownloadError):
            download_release(url, raw, max_attempts=1, retry_wait=0)
        fs.set(may)  # EOIR published the next month meanwhile
        result = download_release(url, raw, max_attempts=1, retry_wait=0)
    # If-Range carried the old ETag, so the server sent the whole new file.
    assert _gets(fs)[-1]["If-Range"] != fs.etag
    assert result.resumed_from == 0 and result.transferred_bytes == len(may)
    assert result.path == raw / "eoir" / "2026-05-01" / "EOIR Case Data.zip"
    assert result.path.read_bytes() == may


def test_unchanged_file_is_not_downloaded_again(tmp_path, release_zip):
    raw = tmp_path / "raw"
    with serve(release_zip) as (fs, url):
        download_release(url, raw, retry_wait=0)
        again = download_release(url, raw, retry_wait=0)
        assert again.path is None and "unchanged on the server" in again.note
        assert len(_gets(fs)) == 1
        forced = download_release(url, raw, retry_wait=0, skip_if_unchanged=False)
    assert len(_gets(fs)) == 2 and forced.path.read_bytes() == release_zip


def test_truncated_zip_is_rejected_not_put_in_place(tmp_path, release_zip):
    raw = tmp_path / "raw"
    # The server itself holds a broken file (its size is what it announces).
    with serve(release_zip[:-200]) as (_, url):
        with pytest.raises(DownloadError, match="not a complete EOIR release.*not a readable zip"):
            download_release(url, raw, retry_wait=0)
    assert (staging_dir(raw) / "EOIR Case Data.zip.rejected").exists()
    assert discover_releases(raw) == {}


def test_zip_without_count_txt_is_rejected(tmp_path, release_zip):
    src = tmp_path / "src.zip"
    src.write_bytes(release_zip)
    no_count = tmp_path / "no_count.zip"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(no_count, "w") as zout:
        for info in zin.infolist():
            if not info.filename.endswith("Count.txt"):
                zout.writestr(info, zin.read(info))
    raw = tmp_path / "raw"
    with serve(no_count.read_bytes()) as (_, url):
        with pytest.raises(DownloadError, match="no Count.txt"):
            download_release(url, raw, retry_wait=0)
    assert not any(p.suffix == ".zip" for p in (raw / "eoir").rglob("*"))


def test_unreachable_server_fails_clearly(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once the socket closes
    with pytest.raises(DownloadError, match="cannot connect"):
        download_release(
            f"http://127.0.0.1:{port}/x.zip", Path(tmp_path / "raw"), max_attempts=2, retry_wait=0
        )


def test_download_asset_runs_with_the_url_from_run_config(tmp_path, release_zip):
    raw = tmp_path / "raw"
    with serve(release_zip) as (fs, url):
        result = dg.materialize(
            [eoir_release_zip],
            resources={"settings": PipelineSettings(raw_dir=str(raw))},
            run_config={"ops": {"eoir_release_zip": {"config": {"url": url}}}},
        )
    assert result.success
    (mat,) = result.asset_materializations_for_node("eoir_release_zip")
    assert mat.metadata["release_id"].value == "synthetic-2026-04"
    assert (raw / "eoir" / "2026-04-01" / "EOIR Case Data.zip").read_bytes() == release_zip


def test_download_is_off_by_default_and_outside_release_runs():
    schedule = defs.resolve_schedule_def("monthly_eoir_download")
    assert schedule.default_status == dg.DefaultScheduleStatus.STOPPED
    assert schedule.job_name == "download_eoir_release"
    release_job = defs.resolve_job_def("materialize_release")
    selected = release_job.asset_layer.selected_asset_keys
    assert DOWNLOAD_KEY not in selected
    assert dg.AssetKey(["raw", "A_TblCase"]) in selected


def test_endless_download_stops_at_the_size_cap_and_removes_its_file(tmp_path, release_zip):
    raw = tmp_path / "raw"
    with serve(release_zip) as (fs, url):
        fs.endless = True
        with pytest.raises(DownloadError) as exc:
            download_release(url, raw, max_bytes=200_000, max_attempts=1, retry_wait=0)
    message = str(exc.value)
    assert "passed the cap of 200,000 bytes (PD_DOWNLOAD_MAX_BYTES)" in message
    assert "\n" not in message
    assert list(staging_dir(raw).iterdir()) == []  # nothing left behind


def test_announced_size_over_the_cap_is_refused_before_a_byte_is_written(tmp_path, release_zip):
    raw = tmp_path / "raw"
    with serve(release_zip) as (fs, url):
        with pytest.raises(DownloadError, match=f"announces {len(release_zip):,} bytes, more"):
            download_release(url, raw, max_bytes=len(release_zip) - 1, retry_wait=0)
    assert not (staging_dir(raw) / "EOIR Case Data.zip.part").exists()


def test_stalled_connection_is_dropped_after_the_stall_timeout_and_resumed(tmp_path, release_zip):
    raw = tmp_path / "raw"
    cut = len(release_zip) // 2
    with serve(release_zip) as (fs, url):
        fs.stall_after, fs.stall_s = cut, 5.0
        started = time.monotonic()
        result = download_release(url, raw, chunk_size=1024, timeout=0.5, retry_wait=0)
        took = time.monotonic() - started
    # Given up after the stall timeout, not after the server's 5 s: then resumed where it was.
    assert took < 4.0
    # (what arrived of the last, incomplete chunk is fetched again)
    resumed_at = int(_gets(fs)[-1]["Range"].removeprefix("bytes=").rstrip("-"))
    assert 0 < resumed_at <= cut and result.attempts == 2
    assert result.path.read_bytes() == release_zip


def test_a_trickling_server_is_a_stall_too(tmp_path, release_zip):
    """A byte every 0.1 s keeps a socket timeout of 0.5 s from firing; the progress rule drops
    the connection after the stall timeout anyway and resumes where it was."""
    raw = tmp_path / "raw"
    cut = len(release_zip) // 3
    with serve(release_zip) as (fs, url):
        fs.trickle_after = cut
        started = time.monotonic()
        result = download_release(url, raw, chunk_size=1024, timeout=0.5, retry_wait=0)
        took = time.monotonic() - started
    # The trickle alone would take minutes (0.1 s a byte); given up after the stall timeout.
    assert took < 5.0 and result.attempts == 2
    resumed_at = int(_gets(fs)[-1]["Range"].removeprefix("bytes=").rstrip("-"))
    assert cut < resumed_at < cut + 50
    assert result.path.read_bytes() == release_zip


class _FullDisk:
    """A file whose writes fail with ENOSPC once `room` bytes are written (a full disk)."""

    def __init__(self, path, mode, room: int):
        self.fh = open(path, mode)  # noqa: SIM115
        self.room = room

    def write(self, data: bytes) -> int:
        if len(data) > self.room:
            raise OSError(errno.ENOSPC, "No space left on device", str(self.fh.name))
        self.room -= len(data)
        return self.fh.write(data)

    def close(self) -> None:
        self.fh.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.fh.close()


def test_disk_full_gives_one_line_with_the_space_needed_and_removes_the_part(
    tmp_path, release_zip, monkeypatch
):
    raw = tmp_path / "raw"
    monkeypatch.setattr(
        download_module, "open", lambda p, m: _FullDisk(p, m, room=2000), raising=False
    )
    with serve(release_zip) as (fs, url):
        with pytest.raises(DownloadError) as exc:
            download_release(url, raw, chunk_size=1024, retry_wait=0)
    message = str(exc.value)
    assert "\n" not in message
    assert f"no space left in {staging_dir(raw)}" in message
    assert f"the zip needs {len(release_zip):,} bytes" in message
    assert "the partial file was removed" in message
    assert list(staging_dir(raw).iterdir()) == []


def test_too_little_free_space_is_refused_before_writing(tmp_path, release_zip, monkeypatch):
    raw = tmp_path / "raw"
    usage = download_module.shutil.disk_usage(tmp_path)
    monkeypatch.setattr(download_module.shutil, "disk_usage", lambda _p: usage._replace(free=100))
    with serve(release_zip) as (fs, url):
        with pytest.raises(DownloadError, match="100 bytes are free"):
            download_release(url, raw, retry_wait=0)
    assert not (staging_dir(raw) / "EOIR Case Data.zip.part").exists()


def test_download_asset_applies_the_size_cap_setting(tmp_path, release_zip):
    raw = tmp_path / "raw"
    with serve(release_zip) as (fs, url):
        result = dg.materialize(
            [eoir_release_zip],
            resources={"settings": PipelineSettings(raw_dir=str(raw), download_max_bytes=1000)},
            run_config={"ops": {"eoir_release_zip": {"config": {"url": url}}}},
            raise_on_error=False,
        )
    assert not result.success
    (failure,) = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert "more than the download cap of 1,000" in str(failure.step_failure_data.error.cause)
