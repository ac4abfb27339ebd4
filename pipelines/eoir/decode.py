"""Decode an EOIR text file into clean UTF-8 for DuckDB, streaming, in large chunks.

EOIR files are not UTF-8: they are Windows-1252 (docs/EOIR_FORMAT.md#text-format, [RD]); bytes that
cp1252 leaves undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D) fall back to Latin-1, which is what the
public readers that use `latin-1` see ([MB]). NUL bytes occur in core and lookup files ([MB]
clean.py, [DD], [DK], [BF]) and are removed, as is 0x01, which we reserve as DuckDB's
"never-a-delimiter" when reading whole lines. CRLF line ends are folded to LF (the line ending of
current files is not established: docs/EOIR_FORMAT.md#open-questions question 2); DuckDB's reader
cannot be told to do it (it takes a lone CR for a line end). Work is per chunk, never per row.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

CHUNK = 16 << 20
_DELETE = b"\x00\x01"
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


def decode_stream(
    src: IO[bytes], dst_path: Path, progress: Callable[[int], None] | None = None
) -> DecodeStats:
    """Copy `src` to `dst_path` as UTF-8 with NUL/0x01 removed and CRLF folded to LF.

    A chunk boundary can split a multi-byte character only in the output, never in the input:
    cp1252 is one byte per character, so chunks decode independently."""
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
            out_bytes = _to_utf8(block, stats)
            stats.bytes_out += len(out_bytes)
            out.write(out_bytes)
        if carry:
            stats.bytes_out += len(carry)
            out.write(carry)
    return stats


def _to_utf8(block: bytes, stats: DecodeStats) -> bytes:
    if block.isascii():
        return block
    stats.latin1_fallback_bytes += sum(block.count(bytes([b])) for b in _UNDEFINED_IN_CP1252)
    return block.decode("cp1252", errors="eoir_latin1_fallback").encode("utf-8")


def decode_bytes(data: bytes) -> str:
    """The same decoding for a small in-memory byte string (headers, lookups, tests)."""
    data = data.translate(None, _DELETE).replace(b"\r\n", b"\n")
    return data.decode("cp1252", errors="eoir_latin1_fallback")
