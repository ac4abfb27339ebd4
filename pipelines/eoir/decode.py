"""Clean an EOIR text file into UTF-8 for DuckDB's own reader, streaming, in large chunks.

EOIR files are not UTF-8: they are Windows-1252 (docs/EOIR_FORMAT.md#text-format, [RD]); bytes that
cp1252 leaves undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D) fall back to Latin-1, which is what the
public readers that use `latin-1` see ([MB]). NUL bytes occur in core and lookup files ([MB]
clean.py, [DD], [DK], [BF]) and are removed, as is 0x01, which stands in for a lone CR in the
cleaned file (see below). CRLF line ends are folded to LF (the line ending of current files is
not established: docs/EOIR_FORMAT.md#open-questions question 2).

DuckDB's reader cannot do these steps itself: its `latin-1` refuses the bytes 0x80-0x9F that
cp1252 uses for curly quotes, it ends a line at a lone CR, and it skips blank lines without a
trace. So one pass over the bytes does them, and writes each line's own number in front of it
(`<10 digits>\t`): DuckDB then reads the source line as a column, in parallel, and a blank line
reaches SQL as a row instead of vanishing. Work is per chunk with numpy and bytes methods
(memchr speed); only the rare non-ASCII bytes are mapped one by one. A reader thread inflates
the zip member a few chunks ahead.
"""

from __future__ import annotations

import codecs
import errno
import queue
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np

CHUNK = 16 << 20
_DELETE = b"\x00\x01"
# A lone CR (not part of CRLF) would end a line in DuckDB's reader; in the cleaned file it is
# written as 0x01 (every real 0x01 was deleted first) and turned back into CR in SQL.
LONE_CR_PLACEHOLDER = "\x01"
_UNDEFINED_IN_CP1252 = frozenset(b"\x81\x8d\x8f\x90\x9d")
# Byte-order marks of encodings an EOIR table is never published in; a file that starts with one
# is named as such instead of being read as cp1252 garbage (a "renamed column" in the header).
_BOMS = (
    (b"\xff\xfe\x00\x00", "UTF-32 (little-endian)"),
    (b"\x00\x00\xfe\xff", "UTF-32 (big-endian)"),
    (b"\xff\xfe", "UTF-16 (little-endian)"),
    (b"\xfe\xff", "UTF-16 (big-endian)"),
)


def _latin1_fallback(err: UnicodeDecodeError):
    return err.object[err.start : err.end].decode("latin-1"), err.end


codecs.register_error("eoir_latin1_fallback", _latin1_fallback)

# cp1252 byte -> its UTF-8 bytes, for the few non-ASCII bytes of a chunk.
_UTF8_OF = [bytes([b]).decode("cp1252", errors="eoir_latin1_fallback").encode() for b in range(256)]


class EncodingError(ValueError):
    """The file is in an encoding EOIR does not publish (named in the message)."""


class DiskFullError(OSError):
    """The temp directory filled up; the half-written file was removed."""


def bom_encoding(head: bytes) -> str | None:
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name
    return None


@dataclass
class DecodeStats:
    bytes_in: int = 0
    bytes_out: int = 0
    nul_bytes: int = 0
    control_bytes: int = 0
    latin1_fallback_bytes: int = 0
    lone_cr: int = 0
    lines: int = 0  # lines in the cleaned file, header included
    decode_seconds: float = 0.0


def _to_utf8(block: bytes, stats: DecodeStats) -> bytes:
    if block.isascii():
        return block
    arr = np.frombuffer(block, dtype=np.uint8)
    high = np.flatnonzero(arr >= 0x80)
    stats.latin1_fallback_bytes += int(np.isin(arr[high], list(_UNDEFINED_IN_CP1252)).sum())
    if len(high) > len(block) // 64:  # mostly non-ASCII text: the codec is faster
        return block.decode("cp1252", errors="eoir_latin1_fallback").encode("utf-8")
    parts, prev = [], 0
    for i in high.tolist():
        parts.append(block[prev:i])
        parts.append(_UTF8_OF[block[i]])
        prev = i + 1
    parts.append(block[prev:])
    return b"".join(parts)


# Every line of the cleaned file starts with its own 1-based line number, zero-padded, and a TAB:
# DuckDB's reader then yields each row's source line as a column (no row numbering, which
# serialises its parallel reader), and a blank line is a row (a number and one empty field)
# rather than a line the reader skips without a trace. Ten digits hold any EOIR table.
LINE_NUMBER_DIGITS = 10
_PREFIX = LINE_NUMBER_DIGITS + 1
_POWERS = 10 ** np.arange(LINE_NUMBER_DIGITS - 1, -1, -1, dtype=np.int64)


class _LineNumberer:
    """Writes `<line number>\t` before every line, across chunks, and counts the lines."""

    def __init__(self, stats: DecodeStats):
        self.stats = stats
        self.at_line_start = True  # the next byte written starts a line

    def number(self, out: bytes) -> bytes:
        arr = np.frombuffer(out, dtype=np.uint8)
        starts = np.flatnonzero(arr[:-1] == 10) + 1
        if self.at_line_start:
            starts = np.concatenate(([0], starts))
        self.at_line_start = out[-1] == 10
        k = len(starts)
        if not k:
            return out
        first = self.stats.lines + 1
        self.stats.lines += k
        # Where each prefix goes in the output, and a masked copy of the text around them (a
        # masked assignment is about twice as fast as np.insert on 16 MB chunks).
        at = starts + np.arange(k, dtype=np.int64) * _PREFIX
        res = np.empty(len(arr) + k * _PREFIX, dtype=np.uint8)
        keep = np.ones(len(res), dtype=bool)
        slots = at[:, None] + np.arange(_PREFIX)
        keep[slots.ravel()] = False
        res[keep] = arr
        digits = (np.arange(first, first + k, dtype=np.int64)[:, None] // _POWERS) % 10 + 48
        res[slots[:, :-1].ravel()] = digits.astype(np.uint8).ravel()
        res[slots[:, -1]] = 9
        return res.tobytes()


def split_line_number(line: str) -> tuple[int | None, str]:
    """(line number, text) of a line of the cleaned file; (None, line) if it has no prefix."""
    head, tab, rest = line.partition("\t")
    if tab and len(head) == LINE_NUMBER_DIGITS and head.isdigit():
        return int(head), rest
    return None, line


class _Prefetch:
    """Reads `src` in a thread, a few chunks ahead: zlib inflates a zip member without the GIL,
    so the inflating overlaps the cleaning of the chunk before (8-10 s of a 1 GB table)."""

    def __init__(self, src: IO[bytes], depth: int = 3):
        self.src = src
        self.queue: queue.Queue = queue.Queue(maxsize=depth)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="eoir-inflate", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            while not self.stop.is_set():
                block = self.src.read(CHUNK)
                self._put(block)
                if not block:
                    return
        except BaseException as exc:  # handed to the consumer, raised there
            self._put(exc)

    def _put(self, item) -> None:
        while not self.stop.is_set():
            try:
                self.queue.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def read(self) -> bytes:
        item = self.queue.get()
        if isinstance(item, BaseException):
            raise item
        return item

    def close(self) -> None:
        self.stop.set()
        self.thread.join()


def decode_stream(
    src: IO[bytes], dst_path: Path, progress: Callable[[int], None] | None = None
) -> DecodeStats:
    """Copy `src` to `dst_path` as UTF-8 with NUL/0x01 removed, CRLF folded to LF and every line
    prefixed with its line number and a TAB.

    A chunk boundary can split a multi-byte character only in the output, never in the input:
    cp1252 is one byte per character, so chunks decode independently. Raises EncodingError for a
    UTF-16/32 byte-order mark and DiskFullError when the disk fills; the partial file is
    removed whenever this function does not return."""
    stats = DecodeStats()
    lines = _LineNumberer(stats)
    carry = b""
    ahead = _Prefetch(src)
    try:
        with open(dst_path, "wb") as out:
            first = True
            while True:
                block = ahead.read()
                if not block:
                    break
                if first:
                    name = bom_encoding(block[:4])
                    if name:
                        raise EncodingError(name)
                    first = False
                stats.bytes_in += len(block)
                if progress:
                    progress(len(block))
                # memchr-fast membership tests first: most chunks have neither byte.
                if b"\x00" in block or b"\x01" in block:
                    stats.nul_bytes += block.count(b"\x00")
                    stats.control_bytes += block.count(b"\x01")
                    block = block.translate(None, _DELETE)
                block = carry + block
                # A CR at the end of a chunk may be the first half of a CRLF split by the chunking.
                if block.endswith(b"\r"):
                    block, carry = block[:-1], b"\r"
                else:
                    carry = b""
                if b"\r" in block:
                    block = block.replace(b"\r\n", b"\n")
                    if b"\r" in block:
                        stats.lone_cr += block.count(b"\r")
                        block = block.replace(b"\r", LONE_CR_PLACEHOLDER.encode())
                out_bytes = _to_utf8(block, stats)
                if out_bytes:
                    out_bytes = lines.number(out_bytes)
                    stats.bytes_out += len(out_bytes)
                    out.write(out_bytes)
            if carry:
                stats.lone_cr += 1
                out_bytes = lines.number(LONE_CR_PLACEHOLDER.encode())
                stats.bytes_out += len(out_bytes)
                out.write(out_bytes)
    except BaseException as exc:
        dst_path.unlink(missing_ok=True)
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            free = shutil.disk_usage(dst_path.parent).free
            raise DiskFullError(
                exc.errno, f"{dst_path.parent} is full ({free / 1e6:,.0f} MB free)"
            ) from exc
        raise
    finally:
        ahead.close()
    return stats


def decode_bytes(data: bytes) -> str:
    """The same decoding for a small in-memory byte string (headers, lookups, tests)."""
    data = data.translate(None, _DELETE).replace(b"\r\n", b"\n")
    return data.decode("cp1252", errors="eoir_latin1_fallback")
