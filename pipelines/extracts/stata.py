"""Stata .dta files a Stata user accepts without cleanup.

- Variable names: valid Stata names ([A-Za-z_][A-Za-z0-9_]*, at most 32 characters, 29 for a
  labelled variable (see `stata_name_map`), not a reserved word), unique after shortening;
  `stata_name_map` returns the mapping, which the codebook and stata_names.csv report.
- Variable labels (at most 80 characters) are the `label` of pipelines/extracts/columns.py.
- Every categorical column carries value labels. Stata labels integers only, so text categories
  are stored as the integer codes the codebook lists (pipelines/extracts/codebook.py fixes them);
  integer categories (severity rank, threat level) keep their values; booleans are 0/1 labelled
  No/Yes.
- Dates are Stata dates: days since 1960-01-01 with format %td.
- Text stays text: pyreadstat writes str# up to 2045 bytes and strL beyond. Stata has no missing
  string, so a missing text is "" (and a list such as `charges` is one '|'-joined string).
- Format 118 (pyreadstat `version=14`): Stata 14 and later open it; 119 (version 15) would
  shut out Stata 14 and is only needed beyond 32,767 variables.
- The data label (at most 80 characters) carries the provenance: SYNTHETIC when it applies,
  release id, generation date, code version.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

from pipelines.extracts.codebook import TableProfile
from pipelines.extracts.columns import (
    BOOLEAN,
    DATE,
    INTEGER,
    LIST_SEPARATOR,
    STATA_LABEL_MAX,
    TEXT,
    TEXT_LIST,
    ExtractTable,
)

STATA_NAME_MAX = 32
# Room kept for pyreadstat's label-set counter (up to 999 labelled variables in one file).
LABEL_SET_DIGITS = 3
DTA_VERSION = 14  # pyreadstat's version 14 = dta format 118, read by Stata 14+
STR_MAX_BYTES = 2045  # longer strings are written as strL
_STATA_EPOCH_OFFSET = (date(1970, 1, 1) - date(1960, 1, 1)).days  # polars counts from 1970
_INT32_MIN, _INT32_MAX = -2_147_483_647, 2_147_483_620  # Stata `long` range

# Stata's reserved names ([U] 11.3 Naming conventions); str1..str2045 are reserved too.
STATA_RESERVED = frozenset(
    {
        "_all", "_b", "byte", "_coef", "_cons", "double", "float", "if", "in", "int", "long",
        "_n", "_N", "_pi", "_pred", "_rc", "_skip", "strL", "using", "with",
    }
)  # fmt: skip
_VALID = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,31}$")
_STR_TYPE = re.compile(r"^str\d+$")


def is_valid_stata_name(name: str, max_len: int = STATA_NAME_MAX) -> bool:
    return (
        bool(_VALID.match(name))
        and len(name) <= max_len
        and name not in STATA_RESERVED
        and not _STR_TYPE.match(name)
    )


def _sanitize(name: str, max_len: int) -> str:
    s = re.sub(r"[^A-Za-z0-9_]", "_", name)
    if not s or s[0].isdigit():
        s = "_" + s
    if s in STATA_RESERVED or _STR_TYPE.match(s):
        s += "_"
    return s[:max_len]


def stata_name_map(names: Sequence[str], labelled: Collection[str] = ()) -> dict[str, str]:
    """{column: Stata name}, valid and unique. Valid names keep themselves; the others are
    sanitized and cut to 32 characters, and a clash gets `_2`, `_3`, ... within the limit.

    pyreadstat names the value-label set of a variable `<variable name><n>` (n counts the label
    sets written so far), and that name must fit in 32 characters too: `labelled` names are
    therefore held to 32 - LABEL_SET_DIGITS characters."""
    if len(set(names)) != len(names):
        raise ValueError(
            f"duplicate column names: {sorted(n for n in names if names.count(n) > 1)}"
        )
    limit = {n: STATA_NAME_MAX - (LABEL_SET_DIGITS if n in labelled else 0) for n in names}
    out: dict[str, str] = {n: n for n in names if is_valid_stata_name(n, limit[n])}
    used = set(out.values())
    for n in names:
        if n in out:
            continue
        base = _sanitize(n, limit[n])
        candidate, k = base, 1
        while candidate in used:
            k += 1
            suffix = f"_{k}"
            candidate = base[: limit[n] - len(suffix)] + suffix
        out[n] = candidate
        used.add(candidate)
    return {n: out[n] for n in names}


def table_stata_names(table: ExtractTable) -> dict[str, str]:
    """The Stata names of one extract's columns (categorical and boolean columns are labelled)."""
    labelled = {c.name for c in table.columns if c.categorical or c.type == BOOLEAN}
    return stata_name_map(list(table.column_names), labelled)


def data_label(release_id: str, generated: date, code_version: str, synthetic: bool) -> str:
    """The .dta data label: provenance in at most 80 characters (shorter forms as needed)."""
    mark = "SYNTHETIC " if synthetic else ""
    commit = re.search(r"git ([0-9a-f]+)", code_version)
    short_code = f"git {commit.group(1)}" if commit else code_version
    for text in (
        f"{mark}release {release_id}; generated {generated.isoformat()}; {code_version}",
        f"{mark}release {release_id}; {generated.isoformat()}; {code_version}",
        f"{mark}release {release_id}; {generated.isoformat()}; {short_code}",
        f"{mark}{release_id}; {generated.isoformat()}; {short_code}",
    ):
        if len(text) <= STATA_LABEL_MAX:
            return text
    return f"{mark}{release_id}"[:STATA_LABEL_MAX]


@dataclass
class StataFrame:
    data: object  # pandas.DataFrame, columns renamed to Stata names
    column_labels: dict[str, str]
    value_labels: dict[str, dict[int, str]]
    formats: dict[str, str]


def stata_frame(df: pl.DataFrame, profile: TableProfile, names: Mapping[str, str]) -> StataFrame:
    """The extract's rows (as read from the mart) converted to what Stata stores."""
    import pandas as pd

    cols: dict[str, object] = {}
    column_labels: dict[str, str] = {}
    value_labels: dict[str, dict[int, str]] = {}
    formats: dict[str, str] = {}
    for cp in profile.columns:
        c = cp.column
        s = df.get_column(c.name)
        target = names[c.name]
        column_labels[target] = c.label
        if c.type == TEXT and c.categorical:
            codes = {str(k): v for k, v in cp.codes().items()}
            encoded = s.replace_strict(codes, default=None, return_dtype=pl.Int32)
            unmapped = s.is_not_null() & encoded.is_null()
            if unmapped.any():
                raise ValueError(
                    f"{profile.table.name}.{c.name}: values {s.filter(unmapped).unique().to_list()[:5]} "
                    "have no code: the data changed between profiling and writing"
                )
            cols[target] = encoded.to_pandas().astype("Int32")
            value_labels[target] = cp.stata_value_labels()
        elif c.type == TEXT:
            cols[target] = s.fill_null("").to_pandas().astype(object)
        elif c.type == TEXT_LIST:
            cols[target] = s.list.join(LIST_SEPARATOR).fill_null("").to_pandas().astype(object)
        elif c.type == BOOLEAN:
            cols[target] = s.cast(pl.Int8).to_pandas().astype("Int8")
            value_labels[target] = cp.stata_value_labels()
        elif c.type == DATE:
            days = s.cast(pl.Int32) + _STATA_EPOCH_OFFSET
            cols[target] = days.to_pandas().astype("Int32")
            formats[target] = "%td"
        elif c.type == INTEGER:
            lo, hi = s.min(), s.max()
            fits = s.null_count() == s.len() or (lo >= _INT32_MIN and hi <= _INT32_MAX)
            if fits:
                cols[target] = s.cast(pl.Int32).to_pandas().astype("Int32")
            else:
                # Above Stata's `long`: a double holds integers exactly up to 2**53.
                cols[target] = s.cast(pl.Float64).to_pandas()
            if c.categorical:
                value_labels[target] = cp.stata_value_labels()
        else:  # pragma: no cover - columns.py validates the types
            raise ValueError(f"{c.name}: unsupported type {c.type}")
    data = pd.DataFrame(cols, index=pd.RangeIndex(df.height))
    return StataFrame(data, column_labels, value_labels, formats)


def write_dta(frame: StataFrame, path: Path, label: str) -> None:
    import pyreadstat

    pyreadstat.write_dta(
        frame.data,
        str(path),
        file_label=label,
        column_labels=frame.column_labels,
        version=DTA_VERSION,
        variable_value_labels=frame.value_labels,
        variable_format=frame.formats,
    )
