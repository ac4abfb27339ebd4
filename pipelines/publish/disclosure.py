"""Small-cell suppression chosen jointly for everything a release publishes, and the attack on it.

Every count a report prints is a *cell* with a key that names what it counts, whatever file
prints it: ``("pd_closures", "category", "Aggravated felony")`` is the same cell in the closures
table, the rates table and the closures chart. Cells are tied by the additive relations a reader
can use, one equation ``total = part + part + ...`` each (categories add up to the total row, the
PD closures of a category are its admin-closed plus its terminated, courts add up to the national
totals, quarters add up to the window when the window is made of whole quarters).

Suppression (:func:`protect`):

* primary: a count from 1 to threshold - 1 (zero describes nobody and stays);
* complementary: while the linear system of the published equations determines any suppressed
  cell (it lies outside the span of the system's null space: the reader can solve for it from
  the printed cells, within one table or across tables), one more cell of an equation holding it
  is suppressed: the smallest non-zero printed part, else the smallest printed cell. This is
  stronger than "no row with a single suppressed cell": it also catches recovery through chains
  of equations (a court total minus a category total minus ...).

The same cell is suppressed in every file that prints it, so no file gives back what another
hides. :func:`recoverable` is the attack, used by the report's asset check on the files as
published (pipelines.publish.attack) and by the tests.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.linalg import null_space

Key = tuple[str, ...]
PRIMARY = "primary"
SECONDARY = "secondary"


@dataclass
class CellSet:
    """The cells of a release's report and the equations a reader can form from them."""

    # None: a cell no file prints, which only ties printed cells together (see `protect`).
    values: dict[Key, int | None] = field(default_factory=dict)
    equations: list[tuple[Key, tuple[Key, ...]]] = field(default_factory=list)

    def add(self, key: Key, value: int | None) -> None:
        if value is None:
            return
        v = int(value)
        old = self.values.get(key)
        if old is not None and old != v:
            raise ValueError(f"cell {key} printed as both {old} and {v}")
        self.values[key] = v

    def equation(self, total: Key, parts: Iterable[Key]) -> None:
        parts = tuple(p for p in parts if p in self.values)
        if total in self.values and parts:
            self.equations.append((total, parts))


def _system(equations: Sequence[tuple[Key, Sequence[Key]]], unknown: Sequence[Key]) -> np.ndarray:
    """Coefficient rows over the unknown cells (the printed cells only move the right side)."""
    index = {k: i for i, k in enumerate(unknown)}
    rows = []
    for total, parts in equations:
        row = np.zeros(len(unknown))
        if total in index:
            row[index[total]] -= 1.0
        for p in parts:
            if p in index:
                row[index[p]] += 1.0
        if row.any():
            rows.append(row)
    return np.array(rows) if rows else np.zeros((0, len(unknown)))


def determined(equations: Sequence[tuple[Key, Sequence[Key]]], unknown: Sequence[Key]) -> list[Key]:
    """The unknown cells the equations pin down: their unit vector is in the row space."""
    unknown = list(unknown)
    if not unknown:
        return []
    a = _system(equations, unknown)
    if a.shape[0] == 0:
        return []
    ns = null_space(a)
    if ns.size == 0:
        return unknown
    free = np.abs(ns).max(axis=1) > 1e-9
    return [k for k, f in zip(unknown, free, strict=True) if not f]


def solve(
    values: Mapping[Key, int | None], equations: Sequence[tuple[Key, Sequence[Key]]]
) -> dict[Key, float]:
    """What a reader computes for each determined cell (`values`: printed or None)."""
    unknown = [k for k, v in values.items() if v is None]
    det = set(determined(equations, unknown))
    if not det:
        return {}
    index = {k: i for i, k in enumerate(unknown)}
    rows, rhs = [], []
    for total, parts in equations:
        row = np.zeros(len(unknown))
        b = 0.0
        for k, sign in [(total, -1.0)] + [(p, 1.0) for p in parts]:
            if k in index:
                row[index[k]] += sign
            elif values.get(k) is not None:
                b -= sign * float(values[k])
        if row.any():
            rows.append(row)
            rhs.append(b)
    x, *_ = np.linalg.lstsq(np.array(rows), np.array(rhs), rcond=None)
    return {k: round(float(x[index[k]]), 6) for k in unknown if k in det}


def protect(cells: CellSet, threshold: int) -> dict[Key, str]:
    """{cell: PRIMARY or SECONDARY} for every cell to suppress (see the module docstring)."""
    kinds: dict[Key, str] = {
        k: PRIMARY for k, v in cells.values.items() if v is not None and 1 <= v < threshold
    }
    order = {k: i for i, k in enumerate(cells.values)}
    # A cell whose value is None is never printed (a sum that ties two files together, e.g. a
    # quarter of a lead-charge group): always unknown to the reader, never chosen, never returned.
    unprinted = {k for k, v in cells.values.items() if v is None}
    while True:
        hidden = [k for k in cells.values if k in kinds or k in unprinted]
        det = [k for k in determined(cells.equations, hidden) if k not in unprinted]
        if not det:
            return kinds
        target = det[0]
        choice = None
        for total, parts in cells.equations:
            members = (total, *parts)
            if target not in members:
                continue
            open_parts = [p for p in parts if p not in kinds and p not in unprinted]
            open_all = [m for m in members if m not in kinds and m not in unprinted]
            pool = [p for p in open_parts if cells.values[p] > 0] or open_all
            for k in pool:
                rank = (cells.values[k] == 0, cells.values[k], order[k])
                if choice is None or rank < choice[0]:
                    choice = (rank, k)
        if choice is None:  # pragma: no cover - a determined cell always sits in an equation
            raise RuntimeError(f"cannot protect {target}")
        kinds[choice[1]] = SECONDARY


def recoverable(
    values: Mapping[Key, int | None], equations: Sequence[tuple[Key, Sequence[Key]]]
) -> dict[Key, float]:
    """The attack: every suppressed (None) cell the printed cells and equations give back."""
    return solve(values, equations)
