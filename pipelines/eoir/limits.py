"""Resource limits for reading a release: far beyond any real EOIR release, so that a hostile or
broken file is refused before it fills the disk or the memory, never a real one.

Each limit can be changed with the environment variable of the same name (PD_EOIR_...), read
when the pipeline starts. Evidence for the real sizes: the 2026-04 release is a 4 GB zip whose
largest member (B_TblProceeding, 16.5M rows) is about 3.5 GB uncompressed; text tables compress
about 5-15x with Deflate; the longest real line is a few kB (A_TblCase has 39 short fields).
"""

from __future__ import annotations

import os


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.replace("_", "").replace(",", ""))
    except ValueError:
        raise ValueError(
            f"{name}={raw!r} is not a whole number; unset it or give e.g. {default}"
        ) from None
    if value <= 0:
        raise ValueError(
            f"{name}={raw!r} must be positive; unset it or give e.g. {default}"
        ) from None
    return value


# Largest uncompressed size of one member: 8x the largest real table.
MAX_MEMBER_BYTES = _env_int("PD_EOIR_MAX_MEMBER_BYTES", 30 * 10**9)
# Largest uncompressed size of one lookup member: real lookups are below 1 MB.
MAX_LOOKUP_BYTES = _env_int("PD_EOIR_MAX_LOOKUP_BYTES", 200 * 10**6)
# Largest ratio of uncompressed to compressed size (real members: 5-15; a zip bomb: 1000+).
MAX_COMPRESSION_RATIO = _env_int("PD_EOIR_MAX_COMPRESSION_RATIO", 200)
# Members smaller than this are never refused for their ratio (a header-only file compresses a lot).
RATIO_EXEMPT_BYTES = _env_int("PD_EOIR_RATIO_EXEMPT_BYTES", 10 * 10**6)
# Longest line DuckDB's reader accepts; a longer one is quarantined in raw.rejects, not fatal.
MAX_LINE_BYTES = _env_int("PD_EOIR_MAX_LINE_BYTES", 1 << 20)
