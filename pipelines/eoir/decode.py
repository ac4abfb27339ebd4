"""Decode an EOIR text file into clean UTF-8 for DuckDB, streaming, in large chunks.

EOIR files are not UTF-8: they are Windows-1252 (research/eoir_format.md §2, [RD]); bytes that
cp1252 leaves undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D) fall back to Latin-1, which is what the
public readers that use `latin-1` see ([MB]). NUL bytes occur in core and lookup files ([MB]
clean.py, [DD], [DK], [BF]) and are removed, as is 0x01, which we reserve as DuckDB's
"never-a-delimiter" when reading whole lines. CRLF line ends are folded to LF (the line ending of
current files is not established: §8 question 2). Work is per chunk, never per row.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

CHUNK = 16 << 20
_DELETE = b"\x00\x01"
# Bytes whose cp1252 meaning differs from Latin-1: only chunks containing them need the slow codec.
_CP1252_SPECIFIC = re.compile(rb"[\x80-\x9f]")
_UNDEFINED_IN_CP1252 = frozenset(b"\x81\x8d\x8f\x90\x9d")


def _latin1_fallback(err: UnicodeDecodeError):
    return err.object[err.start : err.end].decode("latin-1"), err.end


codecs.register_error("eoir_latin1_fallback", _latin1_fallback)


@dataclass
class DecodeStats:
    bytes_in: int = 0
    bytes_out: int = 0
    nul_bytes: int = 0
    control_bytes: int = 0
    latin1_fallback_bytes: int = 0
    newlines: int = 0


def decode_stream(
    src: IO[bytes], dst_path: Path, progress: Callable[[int], None] | None = None
) -> DecodeStats:
    """Copy `src` to `dst_path` as UTF-8 with NUL/0x01 removed and CRLF folded to LF."""
    stats = DecodeStats()
    carry = b""
    with open(dst_path, "wb") as out:
        while True:
            block = src.read(CHUNK)
            if not block:
                break
            stats.bytes_in += len(block)
            if progress:
                progress(len(block))
            stats.nul_bytes += block.count(b"\x00")
            stats.control_bytes += block.count(b"\x01")
            block = carry + block.translate(None, _DELETE)
            # A CR at the end of a chunk may be the first half of a CRLF split by the chunking.
            if block.endswith(b"\r"):
                block, carry = block[:-1], b"\r"
            else:
                carry = b""
            out_bytes = _to_utf8(block.replace(b"\r\n", b"\n"), stats)
            stats.newlines += out_bytes.count(b"\n")
            stats.bytes_out += len(out_bytes)
            out.write(out_bytes)
        if carry:
            out_bytes = _to_utf8(carry, stats)
            stats.bytes_out += len(out_bytes)
            out.write(out_bytes)
    return stats


def _to_utf8(block: bytes, stats: DecodeStats) -> bytes:
    if block.isascii():
        return block
    if _CP1252_SPECIFIC.search(block) is None:
        # Outside 0x80-0x9F, cp1252 and Latin-1 agree, and Latin-1 decoding is a plain copy.
        return block.decode("latin-1").encode("utf-8")
    stats.latin1_fallback_bytes += sum(block.count(bytes([b])) for b in _UNDEFINED_IN_CP1252)
    return block.decode("cp1252", errors="eoir_latin1_fallback").encode("utf-8")


def decode_bytes(data: bytes) -> str:
    """The same decoding for a small in-memory byte string (headers, lookups, tests)."""
    data = data.translate(None, _DELETE).replace(b"\r\n", b"\n")
    return data.decode("cp1252", errors="eoir_latin1_fallback")
