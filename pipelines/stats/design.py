"""Design matrices for categorical models on grouped (cell) data.

Every covariate is a factor: a column whose values are levels. A factor with levels
(r, l1, ..., lk) contributes k 0/1 dummy columns, one per non-reference level, named as patsy
names them: `lead_charge_category[T.aggravated_felony]`, `represented[T.True]`. The reference
level is the first level. Interactions of two factors contribute one column per pair of
non-reference levels, named `a[T.x]:b[T.y]`. Column order: Intercept, regressors (in the order
given), interactions, fixed effects. Regressors are the factors whose effects are reported
(odds ratios, marginal effects); fixed effects (court, period) are nuisance dummies.

Because the columns depend only on the levels, a cell's design row is the same as the design row
of each of the n rows it stands for: this is what makes the grouped fits exact.

Rank: `independent_columns` keeps a column only if it is not a linear combination of the columns
kept before it (an incremental Cholesky on the n-weighted, scale-normalized Gram matrix). Earlier
columns win, so regressors are never dropped in favour of fixed effects.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
from scipy import sparse
from scipy.linalg import solve_triangular

# Model reference levels chosen for the analysis (docs/DECISIONS.md#models: entry without
# inspection, the commonest immigration-only lead charge, is the comparison). Used only when the
# caller does not name a reference and the level is present.
DEFAULT_REFERENCE_LEVELS: dict[str, Any] = {"lead_charge_category": "entry_without_inspection"}

INTERCEPT = "Intercept"


def as_polars(frame: Any) -> pl.DataFrame:
    """Accept a polars or pandas DataFrame (or a pyarrow Table) and return a polars DataFrame."""
    if isinstance(frame, pl.DataFrame):
        return frame
    if isinstance(frame, pl.LazyFrame):
        return frame.collect()
    try:
        import pandas as pd

        if isinstance(frame, pd.DataFrame):
            return pl.from_pandas(frame)
    except ImportError:  # pragma: no cover - pandas is a dependency
        pass
    return pl.DataFrame(pl.from_arrow(frame))


def _level_name(level: Any) -> str:
    return str(level.item() if isinstance(level, np.generic) else level)


@dataclass(frozen=True)
class Factor:
    column: str
    levels: tuple  # reference first

    @property
    def reference(self) -> Any:
        return self.levels[0]

    def term(self, level: Any) -> str:
        return f"{self.column}[T.{_level_name(level)}]"

    def codes(self, frame: pl.DataFrame) -> np.ndarray:
        """Level index (0 = reference) of every row; unknown or null values are an error."""
        s = frame.get_column(self.column)
        if s.null_count():
            raise ValueError(
                f"column {self.column!r} has {s.null_count()} null value(s); the model needs a level "
                "for every cell (map missing values to an explicit level such as 'unknown' upstream)"
            )
        if s.dtype in (pl.Categorical, pl.Enum):
            s = s.cast(pl.String)
        try:
            out = s.replace_strict(
                list(self.levels), list(range(len(self.levels))), return_dtype=pl.Int32
            )
        except (pl.exceptions.InvalidOperationError, pl.exceptions.ComputeError) as exc:
            unknown = sorted(set(s.unique().to_list()) - set(self.levels), key=str)[:10]
            raise ValueError(
                f"column {self.column!r} has values not among the model's levels: {unknown}; "
                f"expected one of {list(self.levels)}"
            ) from exc
        return out.to_numpy()


@dataclass(frozen=True)
class DesignSpec:
    """Which factors enter the model, with their levels fixed (so counterfactuals and subsets
    reuse exactly the same columns)."""

    regressors: tuple[Factor, ...]
    fixed_effects: tuple[Factor, ...] = ()
    interactions: tuple[tuple[str, str], ...] = ()

    def factor(self, column: str) -> Factor:
        for f in self.regressors + self.fixed_effects:
            if f.column == column:
                return f
        raise KeyError(f"{column!r} is not a factor of this model")

    @property
    def columns(self) -> list[str]:
        return [f.column for f in self.regressors + self.fixed_effects]

    def terms(self) -> tuple[list[str], list[str]]:
        """Column names and their kind (intercept, regressor, interaction, fixed_effect)."""
        names, kinds = [INTERCEPT], ["intercept"]
        for f in self.regressors:
            names += [f.term(lv) for lv in f.levels[1:]]
            kinds += ["regressor"] * (len(f.levels) - 1)
        for a, b in self.interactions:
            fa, fb = self.factor(a), self.factor(b)
            for la in fa.levels[1:]:
                for lb in fb.levels[1:]:
                    names.append(f"{fa.term(la)}:{fb.term(lb)}")
                    kinds.append("interaction")
        for f in self.fixed_effects:
            names += [f.term(lv) for lv in f.levels[1:]]
            kinds += ["fixed_effect"] * (len(f.levels) - 1)
        return names, kinds

    def levels(self) -> dict[str, list]:
        return {f.column: list(f.levels) for f in self.regressors + self.fixed_effects}


def make_spec(
    cells: pl.DataFrame,
    categorical: Sequence[str] | Mapping[str, Sequence | None],
    reference: Mapping[str, Any] | None = None,
    fixed_effects: Sequence[str] = (),
    interactions: Iterable[tuple[str, str]] = (),
    levels: Mapping[str, Sequence] | None = None,
) -> DesignSpec:
    """Build a `DesignSpec`, discovering levels from the cells unless given.

    `categorical` lists the regressor columns (or maps each to its levels). Reference level:
    `reference[col]` if given; else `DEFAULT_REFERENCE_LEVELS[col]` if present in the data;
    else False for boolean columns; else the first level in sorted order. Fixed effects take
    their first sorted level as reference unless `reference` names one.
    """
    reference = dict(reference or {})
    levels = dict(levels or {})
    if isinstance(categorical, Mapping):
        for col, lv in categorical.items():
            if lv is not None:
                levels.setdefault(col, lv)
        categorical = list(categorical)
    overlap = set(categorical) & set(fixed_effects)
    if overlap:
        raise ValueError(f"columns {sorted(overlap)} are both regressors and fixed effects")

    def factor(col: str, is_fe: bool) -> Factor:
        if col not in cells.columns:
            raise ValueError(f"column {col!r} not in the cells (columns: {cells.columns})")
        s = cells.get_column(col)
        if s.dtype in (pl.Categorical, pl.Enum):
            s = s.cast(pl.String)
        if col in levels:
            lv = list(levels[col])
        else:
            lv = sorted(s.drop_nulls().unique().to_list())
        if not lv:
            raise ValueError(f"column {col!r} has no non-null values")
        if col in reference:
            ref = reference[col]
            if ref not in lv:
                raise ValueError(
                    f"reference level {ref!r} for {col!r} is not among its levels {lv}; "
                    "pass a level that occurs in the cells"
                )
        elif not is_fe and DEFAULT_REFERENCE_LEVELS.get(col) in lv:
            ref = DEFAULT_REFERENCE_LEVELS[col]
        elif s.dtype == pl.Boolean and False in lv:
            ref = False
        else:
            ref = lv[0]
        return Factor(col, (ref, *[x for x in lv if x != ref]))

    regs = tuple(factor(c, False) for c in categorical)
    fes = tuple(factor(c, True) for c in fixed_effects)
    spec = DesignSpec(regs, fes, tuple((a, b) for a, b in interactions))
    for a, b in spec.interactions:
        spec.factor(a), spec.factor(b)  # both must be main effects
    return spec


def design_matrix_sparse(cells: pl.DataFrame, spec: DesignSpec) -> sparse.csr_matrix:
    """The 0/1 design matrix of the cells under `spec` as a sparse CSR matrix (columns as
    `spec.terms()`). Each row has one entry per factor plus the intercept, so with court and
    period dummies it is mostly zeros: products with it cost per entry, not per column."""
    return design_from_codes(factor_codes(cells, spec), cells.height, spec)


def factor_codes(cells: pl.DataFrame, spec: DesignSpec) -> dict[str, np.ndarray]:
    """Level index (0 = reference) of every cell, per factor of `spec`."""
    return {f.column: f.codes(cells) for f in spec.regressors + spec.fixed_effects}


def counterfactual_codes(
    codes: dict[str, np.ndarray], spec: DesignSpec, variable: str, level: Any
) -> dict[str, np.ndarray]:
    """`codes` with every cell's `variable` set to `level`: the counterfactual design of a margin
    without decoding the cells' columns again (a release's margins build a few hundred of them)."""
    factor = spec.factor(variable)
    index = next(
        (i for i, lv in enumerate(factor.levels) if _level_name(lv) == _level_name(level)), None
    )
    if index is None:
        raise ValueError(
            f"column {variable!r} has values not among the model's levels: [{level!r}]; "
            f"expected one of {list(factor.levels)}"
        )
    m = len(next(iter(codes.values())))
    return {**codes, variable: np.full(m, index, dtype=np.int32)}


def design_from_codes(codes: dict[str, np.ndarray], m: int, spec: DesignSpec) -> sparse.csr_matrix:
    """The sparse design of `m` cells from their factor codes (see `design_matrix_sparse`)."""
    names, _ = spec.terms()
    rows = np.arange(m)
    r_parts, c_parts = [rows], [np.zeros(m, dtype=np.int64)]

    def put(hit: np.ndarray, col: np.ndarray) -> None:
        r_parts.append(rows[hit])
        c_parts.append(col.astype(np.int64))

    offset = 1
    for f in spec.regressors:
        code = codes[f.column]
        put(code > 0, offset + code[code > 0] - 1)
        offset += len(f.levels) - 1
    for a, b in spec.interactions:
        ca, cb = codes[a], codes[b]
        kb = len(spec.factor(b).levels) - 1
        both = (ca > 0) & (cb > 0)
        put(both, offset + (ca[both] - 1) * kb + (cb[both] - 1))
        offset += (len(spec.factor(a).levels) - 1) * kb
    for f in spec.fixed_effects:
        code = codes[f.column]
        put(code > 0, offset + code[code > 0] - 1)
        offset += len(f.levels) - 1
    r, c = np.concatenate(r_parts), np.concatenate(c_parts)
    return sparse.csr_matrix((np.ones(len(r)), (r, c)), shape=(m, len(names)))


def design_matrix(cells: pl.DataFrame, spec: DesignSpec) -> np.ndarray:
    """The 0/1 design matrix (dense float64) of the cells under `spec`, columns as `spec.terms()`."""
    return design_matrix_sparse(cells, spec).toarray()


class GramPlan:
    """X' diag(w) X for one sparse 0/1 design and many weight vectors (the iterations of a fit).

    Entry (i, j) is the sum of w over the cells with both columns i and j switched on, and a cell
    has a few columns on (one per factor), so the matrix is one weighted count over the pairs of
    each cell's own columns: the pairs' flat indices are found once, and each product is then a
    single `np.bincount`. Measured on 175,000 cells x 158 columns: 15 ms a product, against
    61 ms for scipy's sparse X' (W X), on this project's 2-core machine (the products of the
    Newton fits, the wild bootstrap and leave-one-court-out were half the models' time).
    A design that is not 0/1 uses the general product.
    """

    def __init__(self, X: sparse.spmatrix):
        X = sparse.csr_matrix(X)
        self.X = X
        self.k = X.shape[1]
        self.general = X.nnz == 0 or not np.all(X.data == 1.0)
        if self.general:
            return
        X.sort_indices()
        m, k = X.shape
        counts = np.diff(X.indptr)
        width = int(counts.max())
        slot = np.arange(X.nnz) - np.repeat(X.indptr[:-1], counts)
        cols = np.full((m, width), k, dtype=np.int64)  # k: an empty slot (a padding column)
        cols[np.repeat(np.arange(m), counts), slot] = X.indices
        # Within a row the columns ascend, so each unordered pair (a <= b) is read once into
        # the upper triangle, and the lower triangle is its mirror.
        self.index = np.concatenate(
            [cols[:, a] * (k + 1) + cols[:, b] for a in range(width) for b in range(a, width)]
        )
        self.repeats = width * (width + 1) // 2

    def __call__(self, weights: np.ndarray) -> np.ndarray:
        if self.general:
            return _sparse_gram(self.X, weights)
        k = self.k
        flat = np.bincount(
            self.index, weights=np.tile(weights, self.repeats), minlength=(k + 1) ** 2
        )
        upper = flat.reshape(k + 1, k + 1)[:k, :k]
        return upper + np.triu(upper, 1).T


def _sparse_gram(X: sparse.spmatrix, weights: np.ndarray) -> np.ndarray:
    return np.asarray((X.T @ X.multiply(weights[:, None]).tocsr()).todense())


def gram(X: np.ndarray | sparse.spmatrix, weights: np.ndarray) -> np.ndarray:
    """X' diag(w) X as a dense array, for a dense or sparse X (for many weights on one sparse
    X, `GramPlan`)."""
    if sparse.issparse(X):
        return _sparse_gram(X, weights)
    return X.T @ (X * weights[:, None])


def independent_columns(
    X: np.ndarray | sparse.spmatrix, weights: np.ndarray, tol: float = 1e-9
) -> np.ndarray:
    """Status per column: 'ok', 'empty' (all zero where weight > 0) or 'collinear' (a linear
    combination of earlier kept columns), from the weighted Gram matrix X' diag(w) X."""
    G = gram(X, weights)
    d = np.diag(G).copy()
    k = len(d)
    status = np.array(["ok"] * k, dtype=object)
    scale = np.sqrt(np.where(d > 0, d, 1.0))
    R = G / np.outer(scale, scale)
    L = np.zeros((k, k))  # Cholesky factor of R restricted to kept columns
    kept: list[int] = []
    for j in range(k):
        if d[j] <= 0:
            status[j] = "empty"
            continue
        if kept:
            r = R[np.ix_(kept, [j])].ravel()
            w = solve_triangular(L[: len(kept), : len(kept)], r, lower=True)
            resid = R[j, j] - w @ w
        else:
            w, resid = np.zeros(0), R[j, j]
        if resid <= tol:
            status[j] = "collinear"
            continue
        i = len(kept)
        L[i, :i] = w
        L[i, i] = np.sqrt(resid)
        kept.append(j)
    return status
